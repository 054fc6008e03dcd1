"""The digest as plain text, Markdown, a self-contained HTML page, or JSON.

All four read the same dict; none queries the store. Quotes in it are
already redacted, and the HTML escapes everything it prints.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from html import escape
from typing import Any

from bot.digest import fmt
from bot.incidents.report import incident_line
from bot.learning.retrain import retrain_summary

FORMATS = ("text", "md", "html", "json")
TREND = (
    ("week", "week", "text"),
    ("mentions", "mentions", "count"),
    ("complaints", "complaints", "count"),
    ("opened", "cases_opened", "count"),
    ("resolved", "cases_resolved", "count"),
    ("SLA met", "sla_compliance", "rate"),
    ("median 1st resp.", "median_first_response_minutes", "minutes"),
    ("not a complaint", "not_a_complaint_share", "rate"),
)


def render(digest: dict[str, Any], form: str, chart: bytes | None = None) -> str:
    """``form`` is one of FORMATS; the HTML embeds ``chart`` (PNG) when given."""
    if form == "json":
        return json.dumps(digest, indent=2, ensure_ascii=False) + "\n"
    if form == "html":
        return render_html(digest, chart)
    if form == "md":
        return "\n".join(_lines(digest, _MARKDOWN)) + "\n"
    if form == "text":
        return "\n".join(_lines(digest, _TEXT)) + "\n"
    raise ValueError(f"unknown format {form!r}; use one of {', '.join(FORMATS)}")


def trend_rows(digest: dict[str, Any]) -> list[list[str]]:
    weeks = [digest, *digest["previous_weeks"]]
    return [
        [week[key] if kind == "text" else fmt.show(week[key], kind) for _, key, kind in TREND]
        for week in weeks
    ]


class _Style:
    """How one plain-text-like format writes titles, bullets and tables."""

    def __init__(
        self,
        title: Callable[[str], str],
        heading: Callable[[str], str],
        bullet: str,
        table: Callable[[list[str], list[list[str]]], list[str]],
        quote: Callable[[str], str],
    ) -> None:
        self.title, self.heading, self.bullet, self.table, self.quote = (
            title,
            heading,
            bullet,
            table,
            quote,
        )


def _text_table(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]
    return [
        "  "
        + "  ".join(
            str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)
        ).rstrip()
        for row in (header, *rows)
    ]


def _md_cell(cell: str) -> str:
    return str(cell).replace("|", "\\|")


def _md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]


_TEXT = _Style(
    title=lambda s: f"{s}\n{'=' * len(s)}",
    heading=lambda s: f"\n{s}\n{'-' * len(s)}",
    bullet="  - ",
    table=_text_table,
    quote=lambda s: f'      "{s}"',
)
_MARKDOWN = _Style(
    title=lambda s: f"# {s}",
    heading=lambda s: f"\n## {s}\n",
    bullet="- ",
    table=_md_table,
    quote=lambda s: f"  > {_md_cell(s)}",
)


def _lines(digest: dict[str, Any], style: _Style) -> list[str]:
    out = [style.title(f"Complaint digest {digest['week']}")]
    out.append(f"{fmt.week_span(digest)} ({digest['timezone']})")
    if not digest["complete"]:
        out.append("This week is still running: numbers are so far.")
    if digest["empty"]:
        out.append(fmt.EMPTY_NOTE)
    out.append(style.heading("Headline numbers"))
    rows = [[r.label, r.value, r.change] for r in fmt.headline_rows(digest)]
    out += style.table(["", "this week", "vs last week"], rows)
    out.append(fmt.TIME_NOTE)
    out.append(style.heading("Volume"))
    out.append(f"{style.bullet}Mentions by platform: {fmt.counts(digest['mentions_by_platform'])}")
    out.append(f"{style.bullet}Cases by category: {fmt.counts(digest['by_category'])}")
    out.append(f"{style.bullet}Cases by priority: {fmt.counts(digest['by_priority'])}")
    out.append(f"{style.bullet}SLA compliance by priority: {fmt.sla_by_priority(digest)}")
    out.append(f"{style.bullet}Open backlog: {fmt.backlog_line(digest['backlog'])}")
    out += _listing(style, "Worst missed deadlines", digest["worst_breaches"], fmt.breach_line)
    out += _listing(style, "Escalated cases", digest["escalated_cases"], fmt.escalation_line)
    out += _listing(style, "Incidents", digest.get("incidents", []), incident_line)
    out.append(style.heading("Top themes"))
    if not digest["themes"]:
        out.append(f"{style.bullet}none this week")
    for theme in digest["themes"]:
        out.append(f"{style.bullet}{fmt.theme_line(theme)}")
        out += [style.quote(quote) for quote in theme["quotes"]]
    privacy = digest["privacy_requests"]
    out.append(style.heading("Privacy requests"))
    out.append(f"{style.bullet}{fmt.privacy_summary(privacy)}")
    out += [f"{style.bullet}{fmt.privacy_line(r)}" for r in privacy["open_requests"]]
    out += _listing(style, "Reminders", digest["reminders"], fmt.reminder_line)
    out.append(style.heading("Classifier health"))
    out += [f"{style.bullet}{line}" for line in _health(digest)]
    out.append(style.heading("Last five weeks"))
    out += style.table([name for name, _, _ in TREND], trend_rows(digest))
    return out


def _health(digest: dict[str, Any]) -> list[str]:
    """The not-a-complaint dismissals (false alarms) and the last retrain's figures."""
    share = digest["not_a_complaint_share"]
    dismissed = (
        f"{digest['not_a_complaint_dismissals']:,} of the week's cases dismissed as not a "
        f"complaint ({share:.0%})"
        if share is not None
        else "no cases opened this week"
    )
    return [dismissed, retrain_summary(digest.get("retrain"))]


def _listing(
    style: _Style, title: str, items: list[dict[str, Any]], line: Callable[[dict[str, Any]], str]
) -> list[str]:
    out = [style.heading(title)]
    if not items:
        return [*out, f"{style.bullet}none"]
    for item in items:
        link = item.get("link")
        if link and style is _MARKDOWN:
            out.append(f"{style.bullet}[{line(item)}]({link})")
        else:
            out.append(f"{style.bullet}{line(item)}" + (f" {link}" if link else ""))
    return out


CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d1d1f;
max-width:60rem;margin:2rem auto;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.15rem;margin-top:1.8rem;
border-bottom:1px solid #ddd;padding-bottom:.2rem}
table{border-collapse:collapse;margin:.5rem 0}td,th{padding:.25rem .7rem;text-align:left;
border-bottom:1px solid #eee}td.n{text-align:right;font-variant-numeric:tabular-nums}
.note{background:#fff7d6;padding:.5rem .8rem;border-radius:4px}.muted{color:#666}
blockquote{margin:.2rem 0 .2rem 1rem;color:#444;font-style:italic}
img.chart{max-width:100%;height:auto;border:1px solid #eee}
@media print{body{margin:0;max-width:none;font-size:11pt}h2{break-after:avoid}
table,img.chart,section{break-inside:avoid}a{color:inherit;text-decoration:none}}
"""


def render_html(digest: dict[str, Any], chart: bytes | None) -> str:
    """One page with inline CSS and the chart as a data: URI: nothing is fetched."""
    e = escape
    title = f"Complaint digest {digest['week']}"
    body = [
        f"<h1>{e(title)}</h1>",
        f"<p class=muted>{e(fmt.week_span(digest))} ({e(digest['timezone'])})</p>",
    ]
    if not digest["complete"]:
        body.append("<p class=note>This week is still running: numbers are so far.</p>")
    if digest["empty"]:
        body.append(f"<p class=note>{e(fmt.EMPTY_NOTE)}</p>")
    if chart:
        data = base64.b64encode(chart).decode("ascii")
        body.append(
            f'<img class=chart alt="Complaints per day by category and SLA compliance per week" '
            f'src="data:image/png;base64,{data}">'
        )
    rows = "".join(
        f"<tr><td>{e(r.label)}</td><td class=n>{e(r.value)}</td><td>{e(r.change)}</td></tr>"
        for r in fmt.headline_rows(digest)
    )
    body.append(
        f"<section><h2>Headline numbers</h2><table><tr><th></th><th>this week</th>"
        f"<th>vs last week</th></tr>{rows}</table><p class=muted>{e(fmt.TIME_NOTE)}</p></section>"
    )
    volume = [
        ("Mentions by platform", fmt.counts(digest["mentions_by_platform"])),
        ("Cases by category", fmt.counts(digest["by_category"])),
        ("Cases by priority", fmt.counts(digest["by_priority"])),
        ("SLA compliance by priority", fmt.sla_by_priority(digest)),
        ("Open backlog", fmt.backlog_line(digest["backlog"])),
    ]
    body.append(
        "<section><h2>Volume</h2><ul>"
        + "".join(f"<li><b>{e(name)}:</b> {e(text)}</li>" for name, text in volume)
        + "</ul></section>"
    )
    body.append(_html_list("Worst missed deadlines", digest["worst_breaches"], fmt.breach_line))
    body.append(_html_list("Escalated cases", digest["escalated_cases"], fmt.escalation_line))
    body.append(_html_list("Incidents", digest.get("incidents", []), incident_line))
    themes = (
        "".join(
            f"<li>{e(fmt.theme_line(t))}"
            + "".join(f"<blockquote>“{e(q)}”</blockquote>" for q in t["quotes"])
            + "</li>"
            for t in digest["themes"]
        )
        or "<li>none this week</li>"
    )
    body.append(f"<section><h2>Top themes</h2><ul>{themes}</ul></section>")
    privacy = digest["privacy_requests"]
    body.append(
        f"<section><h2>Privacy requests</h2><p>{e(fmt.privacy_summary(privacy))}</p>"
        + "<ul>"
        + "".join(f"<li>{e(fmt.privacy_line(r))}</li>" for r in privacy["open_requests"])
        + "</ul></section>"
    )
    body.append(_html_list("Reminders", digest["reminders"], fmt.reminder_line))
    health = "".join(f"<li>{e(line)}</li>" for line in _health(digest))
    body.append(f"<section><h2>Classifier health</h2><ul>{health}</ul></section>")
    head = "".join(f"<th>{e(name)}</th>" for name, _, _ in TREND)
    trend = "".join(
        "<tr>" + "".join(f"<td class=n>{e(str(c))}</td>" for c in row) + "</tr>"
        for row in trend_rows(digest)
    )
    body.append(f"<section><h2>Last five weeks</h2><table><tr>{head}</tr>{trend}</table></section>")
    return (
        "<!doctype html>\n<html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width, initial-scale=1">'
        f"<title>{e(title)}</title><style>{CSS}</style></head><body>\n"
        + "\n".join(body)
        + f"\n<p class=muted>Generated {e(digest['generated_at'])} by complaintbot.</p>"
        "\n</body></html>\n"
    )


def _html_list(
    title: str, items: list[dict[str, Any]], line: Callable[[dict[str, Any]], str]
) -> str:
    entries = []
    for item in items:
        text = escape(line(item))
        link = item.get("link")
        entries.append(
            f'<li><a href="{escape(link)}">{text}</a></li>' if link else f"<li>{text}</li>"
        )
    return (
        f"<section><h2>{escape(title)}</h2><ul>{''.join(entries) or '<li>none</li>'}</ul></section>"
    )
