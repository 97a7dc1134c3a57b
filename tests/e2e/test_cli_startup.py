"""``intervision --help`` answers at once: importing the command line loads nothing heavy.

Run in fresh interpreters, as an operator starts the command; no timed assertion (the
figure is measured with ``python -X importtime`` and reported, not asserted).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HEAVY = ("sqlalchemy", "slack_bolt", "slack_sdk", "matplotlib", "holidays", "apscheduler")
HEAVY_TOO = ("alembic", "babel", "cryptography", "bot.handlers", "bot.bootstrap", "storage")
SCRIPT = Path(sys.executable).parent / "intervision"


def _python(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    return done.stdout.strip()


def test_importing_the_command_line_loads_no_heavy_library() -> None:
    code = (
        "import bot.cli, sys; print(sorted(m for m in sys.modules"
        f" if m.split('.')[0] in {set(HEAVY) | {'alembic'}!r}))"
    )
    assert _python(code) == "[]"


def test_importing_the_command_line_loads_neither_the_use_cases_nor_storage() -> None:
    code = (
        "import bot.cli, sys; print(sorted(m for m in sys.modules"
        f" if any(m == h or m.startswith(h + '.') for h in {HEAVY_TOO!r})))"
    )
    assert _python(code) == "[]"


def test_help_exits_0_and_lists_the_commands() -> None:
    done = subprocess.run(
        [str(SCRIPT), "--help"], capture_output=True, text=True, timeout=60, check=False
    )

    assert done.returncode == 0
    for command in ("demo", "run", "methods", "export", "cop", "keys", "purge", "db"):
        assert command in done.stdout


def test_each_sub_command_answers_its_help() -> None:
    for command in ("demo", "run", "methods", "export", "cop", "keys", "purge", "db"):
        done = subprocess.run(
            [str(SCRIPT), command, "--help"], capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, command
        assert "usage: intervision" in done.stdout


def test_a_sub_command_still_finds_what_it_imports_when_it_runs(tmp_path: Path) -> None:
    done = subprocess.run(
        [str(SCRIPT), "methods", "--lang", "de"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        check=False,
    )

    assert done.returncode == 0
    assert "Kollegiale Beratung" in done.stdout
