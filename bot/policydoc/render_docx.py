"""The document as Word (.docx) with python-docx: numbered headings, real tables for the
SLA and the escalation ladder, templates in a fixed-width font, the flowchart as a PNG.

python-docx is imported inside ``render_docx``, so only ``policy render --format docx`` pays
for it.
"""

from __future__ import annotations

import io
from typing import Any

from bot.policydoc.draw import flowchart_png
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

MONO = "Consolas"
MISSING_RGB = (0xA0, 0x4A, 0x00)


def render_docx(doc: Document) -> bytes:
    from docx import Document as Word
    from docx.enum.section import WD_ORIENT
    from docx.shared import Inches

    word = Word()
    section = word.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Inches(8.5), Inches(11)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Inches(0.9))
    word.core_properties.title = doc.title
    word.core_properties.comments = doc.stamp.line
    word.core_properties.version = doc.stamp.version
    word.add_heading(doc.title, level=0)
    word.add_paragraph(doc.stamp.line).runs[0].italic = True
    for index, line in enumerate(doc.notice):
        paragraph = word.add_paragraph(style="Intense Quote")
        _runs(paragraph, line, bold=index == 0)
    word.add_heading("Contents", level=1)
    for part in doc.sections:
        word.add_paragraph(part.heading, style="List Paragraph")
    first_appendix = True
    for part in doc.sections:
        if part.appendix and first_appendix:
            word.add_page_break()
            first_appendix = False
        word.add_heading(part.heading, level=1)
        for block in part.blocks:
            _block(word, block)
    buffer = io.BytesIO()
    word.save(buffer)
    return buffer.getvalue()


def _block(word: Any, block: Block) -> None:
    from docx.shared import Inches, Pt

    match block:
        case Para():
            _runs(word.add_paragraph(), block.spans)
        case Bullets():
            # Numbers are written out: Word's "List Number" would carry on across lists.
            for number, item in enumerate(block.items, 1):
                style = "List Paragraph" if block.numbered else "List Bullet"
                paragraph = word.add_paragraph(style=style)
                if block.numbered:
                    paragraph.add_run(f"{number}. ")
                _runs(paragraph, item)
        case Table():
            _table(word, block)
        case Quote():
            word.add_paragraph().add_run(block.title).bold = True
            paragraph = word.add_paragraph()
            paragraph.paragraph_format.left_indent = Inches(0.3)
            run = paragraph.add_run(block.text)
            run.font.name = MONO
            run.font.size = Pt(9.5)
        case Flowchart():
            word.add_picture(io.BytesIO(flowchart_png(block.flow)), width=Inches(6.2))
            word.add_paragraph(block.caption, style="Caption")


def _table(word: Any, block: Table) -> None:
    table = word.add_table(rows=1, cols=len(block.header), style="Table Grid")
    for cell, text in zip(table.rows[0].cells, block.header, strict=True):
        cell.text = ""
        cell.paragraphs[0].add_run(text).bold = True
    for row in block.rows:
        cells = table.add_row().cells
        for cell, spans in zip(cells, row, strict=True):
            _runs(cell.paragraphs[0], spans)
    word.add_paragraph()


def _runs(paragraph: Any, spans: Line, bold: bool = False) -> None:
    from docx.enum.text import WD_COLOR_INDEX
    from docx.shared import Pt, RGBColor

    for span in spans:
        match span:
            case Missing():
                run = paragraph.add_run(f"⚠ {span.plain}")
                run.bold = True
                run.font.color.rgb = RGBColor(*MISSING_RGB)
                run.font.highlight_color = WD_COLOR_INDEX.YELLOW
            case Code():
                run = paragraph.add_run(span.text)
                run.font.name = MONO
                run.font.size = Pt(9.5)
            case Link():
                run = paragraph.add_run(span.url)
                run.underline = True
            case _:
                run = paragraph.add_run(span)
        if bold:
            run.bold = True
