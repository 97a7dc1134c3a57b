"""Benchmark: how fast the command line answers and the web process gets ready.

Prints wall times (median of several runs) of
  - ``intervision --help``, beside ``python -c pass`` (the interpreter's own start);
  - the Procfile's web process from launch to its first 200 on ``/healthz`` (a fresh SQLite
    database, so migrations included, then restarts on it), beside the bare Bolt app
    (benchmarks/bare_bolt.py) on the same server stack.

Run from the repository root: .venv/bin/python -m benchmarks.startup [--runs 10]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from benchmarks import _live

BARE_APP = "benchmarks.bare_bolt:app"


def wall(argv: Sequence[str], env: dict[str, str]) -> float:
    began = time.perf_counter()
    subprocess.run(argv, env=env, cwd=_live.TARGET, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - began


def median_of(runs: int, measure: Callable[[], float]) -> tuple[float, float]:
    times = [measure() for _ in range(runs)]
    return statistics.median(times), max(times)


def ready(env: dict[str, str], workdir: Path, app: str | None, name: str) -> float:
    port = _live.free_port()
    argv, _ = _live.web_command(port, env, app)
    process = _live.WebProcess(argv, env, port, workdir / f"{name}.log")
    try:
        return process.start()
    finally:
        process.stop()


def row(name: str, figures: tuple[float, float], baseline: tuple[float, float] | None) -> None:
    ratio = f"{figures[0] / baseline[0]:6.1f}x" if baseline else ""
    print(f"{name:<46} {figures[0] * 1000:8.0f} ms  (max {figures[1] * 1000:6.0f} ms) {ratio}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--web-runs", type=int, default=3)
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": str(_live.TARGET)}
    cli = str(_live.VENV_BIN / "intervision")
    print(f"{os.cpu_count()} cores, Python {sys.version.split()[0]}; median of the runs")
    python = median_of(args.runs, lambda: wall([sys.executable, "-c", "pass"], env))
    row("python -c pass (baseline)", python, None)
    row("intervision --help", median_of(args.runs, lambda: wall([cli, "--help"], env)), python)
    workdir = Path(tempfile.mkdtemp(prefix="intervision-bench-startup-"))
    with _live.fake_slack(1) as api_url:
        env = _live.base_env(workdir, api_url, f"sqlite:///{workdir / 'bench.db'}", None)
        _, description = _live.web_command(0, env)
        print(f"web process: {description}")
        bare = median_of(args.web_runs, lambda: ready(env, workdir, BARE_APP, "bare"))
        row("bare bolt app: launch -> 200 /healthz (baseline)", bare, None)
        first = ready(env, workdir, None, "web-first")
        row("web process, fresh database: launch -> 200", (first, first), bare)
        again = median_of(args.web_runs, lambda: ready(env, workdir, None, "web"))
        row("web process, restart: launch -> 200 /healthz", again, bare)
    shutil.rmtree(workdir)  # kept, with the servers' logs, when something failed


if __name__ == "__main__":
    main()
