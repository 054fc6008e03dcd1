"""Assemble the document: the section table (numbers, titles, writers), the stamp and the
first-page notice. The titles are the ones spec/policy.md requires, in its order."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date

from bot.config import Config
from bot.policydoc import part_appendix, part_core, part_further, part_handling
from bot.policydoc.facts import Context, config_digest, package_version
from bot.policydoc.model import Block, Document, Line, Section, Stamp

Writer = Callable[[Context], tuple[Block, ...]]

SECTIONS: tuple[tuple[str, str, Writer], ...] = (
    ("1", "Purpose and scope", part_core.purpose),
    ("2", "Definitions", part_core.definitions),
    ("3", "Complaint filing procedures", part_core.filing),
    ("4", "Response timeline", part_core.timeline),
    ("5", "Documentation requirements and record keeping", part_handling.records),
    ("6", "Roles and responsibilities", part_handling.roles),
    ("7", "Investigation process", part_handling.investigation),
    ("8", "Resolution and customer communication", part_handling.resolution),
    ("9", "Escalation procedures", part_further.escalation),
    ("10", "Alternative dispute resolution", part_further.dispute_resolution),
    ("11", "Confidentiality and data protection", part_further.data_protection),
    ("12", "Quality assurance and monitoring", part_further.quality),
    ("13", "Training requirements", part_further.training),
    ("14", "Regulatory compliance", part_further.compliance),
    ("15", "Policy review and updates", part_further.review),
    ("A", "Complaint form template", part_appendix.complaint_form),
    ("B", "Contact and escalation points", part_appendix.contacts),
    ("C", "Response templates", part_appendix.templates),
    ("D", "Regulatory requirements summary", part_appendix.regulations),
    ("E", "Complaint handling flowchart", part_appendix.flowchart),
)


def build_document(
    config: Config, today: date, reply_limits: Mapping[str, str] | None = None
) -> Document:
    """The whole policy for ``config`` as of ``today`` (the stamp and the holiday list)."""
    ctx = Context(config, today, dict(reply_limits or {}))
    sections = tuple(
        Section(number, title, writer(ctx), appendix=number.isalpha())
        for number, title, writer in SECTIONS
    )
    source = config.source.name if config.source is not None else "built-in defaults"
    stamp = Stamp(today, package_version(), config_digest(config), source)
    return Document(
        title=f"{config.brand.name}: Customer Complaints Policy and Procedures",
        stamp=stamp,
        notice=_notice(),
        sections=sections,
    )


def _notice() -> tuple[Line, ...]:
    return (
        (
            "This document is produced from the configuration of the company's complaint "
            "handling system (complaintbot). It is not legal advice. Have it reviewed by "
            "counsel before it is adopted or published, and after every change.",
        ),
        (
            "Highlighted notes mark things nobody has configured yet; the policy is not "
            "complete until they are resolved.",
        ),
    )
