"""The digest's one chart, as PNG bytes: complaints per day by category, and SLA compliance per
week, over the last five weeks.

matplotlib is imported inside the function and drawn on an explicit Agg
canvas (no pyplot, no global backend switch), so importing this module costs
nothing and the daemon never needs a display.
"""

from __future__ import annotations

import io
from datetime import date
from typing import Any

WIDTH_IN, HEIGHT_IN, DPI = 10.0, 6.2, 100
COLORS = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#9c755f")


def render_chart(digest: dict[str, Any]) -> bytes:
    """Draw the chart for a digest (as ``build_digest`` returns it) and return the PNG."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    bars, line = figure.subplots(2, 1, height_ratios=(3, 2))
    _daily_bars(bars, digest)
    bars.yaxis.set_major_locator(MaxNLocator(integer=True))
    _compliance_line(line, digest)
    figure.suptitle(f"Complaint digest {digest['week']} ({digest['timezone']})", fontsize=12)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": "complaintbot"})
    return buffer.getvalue()


def _daily_bars(axes: Any, digest: dict[str, Any]) -> None:
    days = digest["daily_complaints"]
    categories = sorted({c for day in days for c in day["by_category"]}, key=_category_order(days))
    positions = list(range(len(days)))
    bottom = [0] * len(days)
    for index, category in enumerate(categories):
        heights = [day["by_category"].get(category, 0) for day in days]
        if not any(heights):
            continue
        axes.bar(
            positions,
            heights,
            bottom=bottom,
            width=0.8,
            label=category.replace("_", " "),
            color=COLORS[index % len(COLORS)],
        )
        bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    week_start = len(days) - 7
    axes.axvspan(week_start - 0.5, len(days) - 0.5, color="#000000", alpha=0.06, lw=0)
    mondays = [i for i, day in enumerate(days) if date.fromisoformat(day["date"]).weekday() == 0]
    axes.set_xticks(
        mondays, [date.fromisoformat(days[i]["date"]).strftime("%b %d") for i in mondays]
    )
    axes.set_xlim(-0.6, len(days) - 0.4)
    axes.set_ylabel("complaints per day")
    axes.set_title("Complaints per day by category (shaded: this week)", fontsize=10, loc="left")
    if any(bottom):
        axes.legend(fontsize=8, ncols=4, loc="upper left", frameon=False)
        axes.set_ylim(0, max(bottom) * 1.35)
    else:
        axes.set_ylim(0, 1)
        axes.text(
            len(days) / 2,
            0.5,
            "no complaints in these five weeks",
            ha="center",
            va="center",
            color="#666666",
        )
    axes.spines[["top", "right"]].set_visible(False)


def _category_order(days: list[dict[str, Any]]) -> Any:
    totals: dict[str, int] = {}
    for day in days:
        for category, count in day["by_category"].items():
            totals[category] = totals.get(category, 0) + count
    return lambda category: (-totals.get(category, 0), category)


def _compliance_line(axes: Any, digest: dict[str, Any]) -> None:
    weeks = [*reversed(digest["previous_weeks"]), digest]
    labels = [week["week"].split("-")[1] for week in weeks]
    values = [week["sla_compliance"] for week in weeks]
    points = [(i, v * 100) for i, v in enumerate(values) if v is not None]
    if points:
        xs, ys = zip(*points, strict=True)
        axes.plot(xs, ys, marker="o", color=COLORS[0])
        for x, y in points:
            axes.annotate(
                f"{y:.0f}%",
                (x, y),
                textcoords="offset points",
                xytext=(0, 7),
                ha="center",
                fontsize=8,
            )
    for i, value in enumerate(values):
        if value is None:
            axes.text(i, 50, "no deadlines", ha="center", fontsize=8, color="#666666")
    axes.set_xticks(range(len(weeks)), labels)
    axes.set_xlim(-0.5, len(weeks) - 0.5)
    axes.set_ylim(0, 112)
    axes.set_yticks([0, 25, 50, 75, 100], ["0%", "25%", "50%", "75%", "100%"])
    axes.set_ylabel("deadlines met")
    axes.set_title("SLA compliance per week", fontsize=10, loc="left")
    axes.grid(axis="y", alpha=0.3)
    axes.spines[["top", "right"]].set_visible(False)
