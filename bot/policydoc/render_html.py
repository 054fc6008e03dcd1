"""The document as one self-contained HTML page: inline CSS, the flowchart as inline SVG,
nothing fetched, and a print style (page breaks before the appendices, no split rows)."""

from __future__ import annotations

from html import escape

from bot.policydoc.draw import flowchart_svg
from bot.policydoc.model import (
    Block,
    Bullets,
    Code,
    Document,
    Flowchart,
    Line,
    Link,
    Missing,
    Para,
    Quote,
    Table,
)

CSS = """
body{font:15px/1.5 -apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#1d1d1f;
max-width:60rem;margin:2rem auto;padding:0 1.5rem}
h1{font-size:1.8rem;margin-bottom:.2rem}h2{margin-top:2.2rem;border-bottom:1px solid #ddd;
padding-bottom:.2rem}.stamp{color:#555;font-size:.9rem}
.notice{border:2px solid #b00020;background:#fff4f4;padding:.6rem 1rem;border-radius:4px}
table{border-collapse:collapse;width:100%;margin:.6rem 0}th,td{border:1px solid #ccc;
padding:.35rem .5rem;text-align:left;vertical-align:top}th{background:#f2f4f7}
code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.9em;background:#f2f2f2;
padding:0 .2em;border-radius:3px}
mark.missing{background:#ffe08a;color:#5a3d00;font-weight:600;padding:0 .2em}
figure{margin:1rem 0}figure.template figcaption{font-weight:600}
figure.template pre{white-space:pre-wrap;background:#f7f7f9;border-left:4px solid #4e79a7;
padding:.5rem .8rem;margin:.3rem 0}
#flowchart svg{width:100%;height:auto;display:block}
nav ul{columns:2;list-style:none;padding-left:0}
@media print{body{max-width:none;margin:0;font-size:11pt}nav ul{columns:1}
h2{break-after:avoid}tr,figure,.notice{break-inside:avoid}
h2.appendix-first{break-before:page}a{color:inherit;text-decoration:none}
@page{size:letter;margin:18mm}}
"""


def render_html(doc: Document) -> str:
    body = [
        f"<h1>{escape(doc.title)}</h1>",
        f'<p class="stamp">{escape(doc.stamp.line)}</p>',
        '<div class="notice">'
        + "".join(f"<p>{_spans(line)}</p>" for line in doc.notice)
        + "</div>",
        "<nav><h2>Contents</h2><ul>"
        + "".join(f'<li><a href="#{s.anchor}">{escape(s.heading)}</a></li>' for s in doc.sections)
        + "</ul></nav>",
    ]
    first_appendix = next((s for s in doc.sections if s.appendix), None)
    for section in doc.sections:
        css = ' class="appendix-first"' if section is first_appendix else ""
        body.append(f'<section><h2 id="{section.anchor}"{css}>{escape(section.heading)}</h2>')
        body += [_block(block) for block in section.blocks]
        body.append("</section>")
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(doc.title)}</title><style>{CSS}</style></head>\n<body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )


def _block(block: Block) -> str:
    match block:
        case Para():
            return f"<p>{_spans(block.spans)}</p>"
        case Bullets():
            tag = "ol" if block.numbered else "ul"
            items = "".join(f"<li>{_spans(item)}</li>" for item in block.items)
            return f"<{tag}>{items}</{tag}>"
        case Table():
            head = "".join(f"<th>{escape(cell)}</th>" for cell in block.header)
            rows = "".join(
                "<tr>" + "".join(f"<td>{_spans(cell)}</td>" for cell in row) + "</tr>"
                for row in block.rows
            )
            return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
        case Quote():
            return (
                f'<figure class="template"><figcaption>{escape(block.title)}</figcaption>'
                f"<pre>{escape(block.text)}</pre></figure>"
            )
        case Flowchart():
            return (
                f'<figure id="flowchart">{flowchart_svg(block.flow)}'
                f"<figcaption>{escape(block.caption)}</figcaption></figure>"
            )
    raise TypeError(f"unknown block {block!r}")


def _spans(spans: Line) -> str:
    out = []
    for span in spans:
        match span:
            case Missing():
                key = f" — set <code>{escape(span.key)}</code>" if span.key else ""
                out.append(f'<mark class="missing">⚠ {escape(span.text)}{key}</mark>')
            case Code():
                out.append(f"<code>{escape(span.text)}</code>")
            case Link():
                out.append(f'<a href="{escape(span.url)}">{escape(span.url)}</a>')
            case _:
                out.append(escape(span))
    return "".join(out)
