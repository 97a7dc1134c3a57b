"""Output adapter: the small PNG chart of a CoP digest (matplotlib, no display needed).

Uses matplotlib's object API (``Figure`` with the Agg canvas), never ``pyplot``: no global
state, safe in the scheduler's thread. matplotlib is imported when a chart is drawn, so
processes that never draw one do not pay for the import.
"""

from __future__ import annotations

from pathlib import Path

from bot.flows.cop import Digest


def digest_chart(digest: Digest, path: Path, *, title: str, sessions_label: str) -> Path:
    """Draw sessions per method as horizontal bars into ``path`` (a PNG); returns ``path``."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    methods = [method for method, _ in digest.methods] or ["-"]
    counts = [count for _, count in digest.methods] or [0]
    figure = Figure(figsize=(6, 0.6 + 0.45 * len(methods)), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.barh(methods[::-1], counts[::-1], color="#3b7ea1")
    axes.set_xlabel(sessions_label)
    axes.set_title(title, fontsize=10)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png")
    return path
