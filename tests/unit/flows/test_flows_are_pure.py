"""bot/flows/ is the pure domain: no platform, database, scheduler, network or OS, no wall clock.

Time comes in as an argument; everything else is the adapters' and handlers' business.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import bot.flows

FLOWS = Path(bot.flows.__file__).parent
FORBIDDEN_MODULES = frozenset(
    {"slack_bolt", "slack_sdk", "msgraph", "sqlalchemy", "apscheduler", "os", "requests", "httpx"}
)
CLOCK_RECEIVERS = frozenset({"datetime", "date"})
CLOCK_METHODS = frozenset({"now", "utcnow", "today"})


def _dotted(node: ast.expr) -> str | None:
    """``datetime.datetime.now`` for the expression, or None when it is not a plain name chain."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


def impurities(source: str) -> list[str]:
    """Each forbidden import or clock call in ``source``, as ``line: what``."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in FORBIDDEN_MODULES:
                    found.append(f"{node.lineno}: import {alias.name}")
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            root = node.module.split(".")[0]
            if root in FORBIDDEN_MODULES:
                found.append(f"{node.lineno}: from {node.module} import ...")
            elif root == "time" and any(a.name == "time" for a in node.names):
                found.append(f"{node.lineno}: from time import time")
        elif isinstance(node, ast.Call):
            name = _dotted(node.func)
            if name is None:
                continue
            *receiver, method = name.split(".")
            if method in CLOCK_METHODS and receiver and receiver[-1] in CLOCK_RECEIVERS:
                found.append(f"{node.lineno}: {name}()")
            elif name == "time.time":
                found.append(f"{node.lineno}: time.time()")
    return found


def flow_modules() -> list[Path]:
    return sorted(FLOWS.rglob("*.py"))


def test_the_flow_package_is_found():
    names = {path.name for path in flow_modules()}

    assert {"__init__.py", "method.py", "session.py", "record.py"} <= names


@pytest.mark.parametrize("path", flow_modules(), ids=lambda p: str(p.relative_to(FLOWS)))
def test_flow_module_is_pure(path: Path):
    assert impurities(path.read_text("utf-8")) == [], f"{path} must stay pure"


@pytest.mark.parametrize(
    "source",
    [
        "import os",
        "import os.path",
        "from os import environ",
        "from os.path import join",
        "import slack_bolt",
        "from slack_sdk.web import WebClient",
        "import msgraph.core as graph",
        "from sqlalchemy.orm import Session",
        "from apscheduler.schedulers.background import BackgroundScheduler",
        "import requests",
        "import httpx",
        "from datetime import datetime\nx = datetime.now()",
        "import datetime\nx = datetime.datetime.now(datetime.UTC)",
        "from datetime import datetime\nx = datetime.utcnow()",
        "from datetime import date\nx = date.today()",
        "import datetime\nx = datetime.date.today()",
        "import time\nx = time.time()",
        "from time import time",
    ],
)
def test_the_checker_catches(source: str):
    assert impurities(source) != []


@pytest.mark.parametrize(
    "source",
    [
        "from datetime import datetime, timedelta\nx = datetime(2025, 1, 1) + timedelta(hours=1)",
        "from bot.flows.session import Session",
        "from importlib import resources",
        "import osmosis",
        "from .session import start",
        "run.now()",
    ],
)
def test_the_checker_lets_pure_code_pass(source: str):
    assert impurities(source) == []
