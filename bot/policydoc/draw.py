"""Draw the flowchart with matplotlib, as SVG (HTML) and PNG (Word), from a ``Flow``.

The layout is computed, not drawn by hand, so a new state or transition in the case book
shows up by itself. It is a small layered layout: layers by longest path from the first step
(an arrow that would close a cycle is left out of the layering and drawn as a wide arc), a
waypoint in every layer an arrow skips so it bends round the boxes between, and boxes ordered
by where their neighbours sit (down, up and down again). Every box and arrow carries an SVG
id (``state-new``, ``transition-new-responded``) so a test can find each one. matplotlib is
imported inside the functions: importing this module costs nothing.
"""

from __future__ import annotations

import io
import re
import textwrap
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from bot.policydoc.flow import Flow, Move, Step

BOX_W = 3.0
GAP_X, GAP_Y = 3.8, 2.5
SCALE = 0.6  # inches per layout unit
COLORS = {
    "state": ("#dbe8f6", "#2f5d8a"),
    "final": ("#e6e6e6", "#555555"),
    "intake": ("#fff4cc", "#8a6d00"),
    "decision": ("#ffe7d1", "#a35300"),
    "end": ("#f3f3f3", "#777777"),
}

Point = tuple[float, float]


@dataclass(frozen=True)
class Layout:
    at: dict[str, Point]  # steps and waypoints ("~source~target~n")
    routes: dict[tuple[str, str], list[str]]  # each arrow: the points it passes through
    back: frozenset[tuple[str, str]]  # arrows that close a cycle


def layout(flow: Flow) -> Layout:
    ids = [step.id for step in flow.steps]
    back = _back_edges(ids, flow.moves)
    forward = [(m.source, m.target) for m in flow.moves if (m.source, m.target) not in back]
    layer = dict.fromkeys(ids, 0)
    for _ in ids:  # longest path over what is left, which has no cycle
        for source, target in forward:
            layer[target] = max(layer[target], layer[source] + 1)
    routes: dict[tuple[str, str], list[str]] = {}
    edges: list[tuple[str, str]] = []
    for source, target in forward:
        points = [source]
        for depth in range(layer[source] + 1, layer[target]):
            waypoint = f"~{source}~{target}~{depth}"
            layer[waypoint] = depth
            points.append(waypoint)
        points.append(target)
        routes[(source, target)] = points
        edges += list(pairwise(points))
    for edge in back:
        routes[edge] = list(edge)
    x = _order(layer, edges)
    return Layout({n: (x[n], -layer[n] * GAP_Y) for n in layer}, routes, frozenset(back))


def _order(layer: dict[str, int], edges: list[tuple[str, str]]) -> dict[str, float]:
    """x for every node: barycentre sweeps down, up and down, ties kept in the last order."""
    rows: dict[int, list[str]] = {}
    for node in layer:  # steps first, in flow order, then waypoints
        rows.setdefault(layer[node], []).append(node)
    x: dict[str, float] = {}
    depths = sorted(rows)
    for sweep in (depths, depths[::-1], depths):
        upward = sweep[0] != depths[0]
        for depth in sweep:
            row = rows[depth]
            wanted = {n: _barycentre(n, edges, x, upward) for n in row}
            before = {n: i for i, n in enumerate(row)}
            row.sort(key=lambda n: (wanted[n], x.get(n, 0.0), before[n]))
            x |= _spread(row, wanted)
    return x


def _barycentre(node: str, edges: list[tuple[str, str]], x: dict[str, float], up: bool) -> float:
    near = (
        [x[t] for s, t in edges if s == node and t in x]
        if up
        else [x[s] for s, t in edges if t == node and s in x]
    )
    return sum(near) / len(near) if near else x.get(node, 0.0)


def _spread(row: list[str], wanted: dict[str, float]) -> dict[str, float]:
    """Each box as near its wanted x as the gap allows, the row centred on its wishes."""
    placed: list[float] = []
    for node in row:
        placed.append(max(wanted[node], placed[-1] + GAP_X) if placed else wanted[node])
    shift = sum(wanted[n] for n in row) / len(row) - sum(placed) / len(placed)
    return {node: pos + shift for node, pos in zip(row, placed, strict=True)}


def _back_edges(ids: list[str], moves: tuple[Move, ...]) -> set[tuple[str, str]]:
    """Arrows into a step still on the depth-first path: they would make a cycle."""
    out: dict[str, list[str]] = {s: [] for s in ids}
    for move in moves:
        out[move.source].append(move.target)
    back: set[tuple[str, str]] = set()
    seen: dict[str, bool] = {}  # True while on the path

    def visit(node: str) -> None:
        seen[node] = True
        for nxt in out[node]:
            if seen.get(nxt):
                back.add((node, nxt))
            elif nxt not in seen:
                visit(nxt)
        seen[node] = False

    for node in ids:
        if node not in seen:
            visit(node)
    return back


def flowchart_svg(flow: Flow) -> str:
    """The picture as an inline ``<svg>`` element, its text kept as text."""
    svg = _draw(flow, "svg").decode("utf-8")
    return re.sub(r"<metadata>.*?</metadata>", "", svg[svg.index("<svg") :], flags=re.DOTALL)


def flowchart_png(flow: Flow, dpi: int = 200) -> bytes:
    return _draw(flow, "png", dpi)


def _draw(flow: Flow, form: str, dpi: int = 100) -> bytes:
    from matplotlib import rc_context
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    places = layout(flow)
    xs = [x for x, _ in places.at.values()]
    ys = [y for _, y in places.at.values()]
    left, right = min(xs) - BOX_W * 0.75, max(xs) + BOX_W * 0.75
    bottom, top = min(ys) - GAP_Y / 2, max(ys) + GAP_Y / 2
    with rc_context({"svg.fonttype": "none", "svg.hashsalt": "complaintbot"}):
        figure = Figure(figsize=((right - left) * SCALE, (top - bottom) * SCALE))
        FigureCanvasAgg(figure)
        axes = figure.add_axes((0, 0, 1, 1))
        axes.set_xlim(left, right)
        axes.set_ylim(bottom, top)
        axes.set_aspect("equal")
        axes.axis("off")
        boxes = {step.id: _box(axes, step, places.at[step.id]) for step in flow.steps}
        for move in flow.moves:
            _arrow(axes, move, places, boxes)
        buffer = io.BytesIO()
        metadata = {"Date": None} if form == "svg" else {"Software": "complaintbot"}
        figure.savefig(buffer, format=form, dpi=dpi, metadata=metadata)
    return buffer.getvalue()


def _box(axes: Any, step: Step, at: Point) -> Any:
    from matplotlib.patches import FancyBboxPatch

    title = textwrap.fill(step.label, 22)
    note = textwrap.fill(step.note, 28)
    title_lines, note_lines = title.count("\n") + 1, (note.count("\n") + 1) if note else 0
    height = 0.35 + 0.36 * title_lines + 0.26 * note_lines
    fill, edge = COLORS.get(step.kind, COLORS["state"])
    box = FancyBboxPatch(
        (at[0] - BOX_W / 2, at[1] - height / 2),
        BOX_W,
        height,
        boxstyle="round,pad=0.04,rounding_size=0.25",
        facecolor=fill,
        edgecolor=edge,
        linewidth=1.8 if step.kind in ("state", "final") else 1.1,
    )
    box.set_gid(f"{'state' if step.kind in ('state', 'final') else 'step'}-{step.id}")
    axes.add_patch(box)
    top = at[1] + height / 2 - 0.18
    axes.text(
        at[0],
        top,
        title,
        ha="center",
        va="top",
        fontsize=10,
        fontweight="bold",
        color="#1d1d1f",
        linespacing=1.1,
    ).set_gid(f"label-{step.id}")
    if note:
        axes.text(
            at[0],
            top - 0.36 * title_lines - 0.04,
            note,
            ha="center",
            va="top",
            fontsize=7.5,
            color="#333333",
            linespacing=1.15,
        )
    return box


def _arrow(axes: Any, move: Move, places: Layout, boxes: dict[str, Any]) -> None:
    from matplotlib.patches import FancyArrowPatch

    edge = (move.source, move.target)
    points = [places.at[node] for node in places.routes[edge]]
    rad = 0.5 if edge in places.back else 0.0
    color = "#2f5d8a" if move.kind == "transition" else "#8a6d00"
    gid = f"{move.kind}-{move.source}-{move.target}"
    last = len(points) - 2
    for index, (start, end) in enumerate(pairwise(points)):
        segment = FancyArrowPatch(
            start,
            end,
            patchA=boxes[move.source] if index == 0 else None,
            patchB=boxes[move.target] if index == last else None,
            arrowstyle="-|>" if index == last else "-",
            mutation_scale=14,
            linewidth=1.3,
            color=color,
            connectionstyle=f"arc3,rad={rad}",
            shrinkA=0 if index else 2,
            shrinkB=0 if index < last else 2,
        )
        segment.set_gid(gid if index == last else f"{gid}-part{index}")
        axes.add_patch(segment)
    mx, my = _label_point(points, rad)
    axes.text(
        mx,
        my,
        textwrap.fill(move.short, 30 if move.kind == "intake" else 17),
        ha="center",
        va="center",
        fontsize=7.5,
        color="#1d1d1f",
        linespacing=1.1,
        bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.92},
    ).set_gid(f"{gid}-label")


def _label_point(points: list[Point], rad: float) -> Point:
    """A bent arrow's first bend, else the middle of its curve (arc3 is a quadratic Bézier)."""
    if len(points) > 2:
        return points[1]
    (x1, y1), (x2, y2) = points
    cx, cy = (x1 + x2) / 2 + rad * (y2 - y1), (y1 + y2) / 2 - rad * (x2 - x1)
    return 0.25 * x1 + 0.5 * cx + 0.25 * x2, 0.25 * y1 + 0.5 * cy + 0.25 * y2
