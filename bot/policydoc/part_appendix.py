"""Appendices A–E: the complaint form, contact points, the reply templates as configured, the
regulatory summary, and the flowchart drawn from the case state machine."""

from __future__ import annotations

from bot.checks import TEMPLATE_FIELDS
from bot.guard import ACTS, WORDING_ACTS
from bot.policydoc import facts
from bot.policydoc.facts import Context, who
from bot.policydoc.flow import case_flow
from bot.policydoc.law import LAWS
from bot.policydoc.model import (
    Block,
    Code,
    Flowchart,
    Line,
    Link,
    Missing,
    Quote,
    Span,
    bullets,
    para,
    table,
)
from bot.replies import FLAG_TEMPLATE_ORDER, fill, with_disclosure

FIELD_MEANINGS = {
    "handle": "the author's handle on the platform",
    "case_id": "the case number",
    "support_url": "our support page",
    "privacy_url": "the privacy request channel",
    "first_name": "the customer's first name, when known (else the handle)",
    "brand": "the company's name",
}
EXAMPLE_VALUES = {"handle": "jane_doe", "case_id": "1042", "first_name": "Jane"}


def complaint_form(ctx: Context) -> tuple[Block, ...]:
    brand = ctx.config.brand
    return (
        para(
            f"{ctx.brand}: customer complaint form. Complete it at ",
            Link(brand.support_url),
            " or send the same details by email or phone; never in a public post.",
        ),
        table(
            ("Field", "Notes"),
            [
                ("Case number", "if our reply on social media gave one"),
                ("Name", "required"),
                ("Email or phone", "how we may contact you; required"),
                ("Order number", "or the email address used for the order"),
                ("Date of purchase or delivery", ""),
                ("Product or service", ""),
                ("What happened", "in your own words, with dates"),
                ("Photos or documents", "damage, faults, receipts, messages"),
                ("What would you like us to do?", "refund, replacement, repair, explanation"),
                ("Is anyone hurt, or is anything unsafe?", "if yes, we act at once"),
            ],
        ),
        para(
            "Requests about your personal data (to know, delete, correct or opt out) go to ",
            Link(brand.privacy_url),
            " instead.",
        ),
    )


def contacts(ctx: Context) -> tuple[Block, ...]:
    config, ladder = ctx.config, ctx.policy.escalation
    rows: list[tuple[str, Line]] = [
        ("Customer support", (Link(config.brand.support_url),)),
        ("Privacy requests", (Link(config.brand.privacy_url),)),
        ("Case cards (Slack)", (Code(config.slack.complaints_channel),)),
        ("Escalations, risk alerts and breaches (Slack)", (Code(config.slack.escalation_channel),)),
        ("Weekly digest (Slack)", (Code(config.slack.digest_channel),)),
        ("Approvers", facts.approvers(config)),
    ]
    for title, key in (
        ("Team lead (level 1)", "lead"),
        ("Manager / legal (level 2)", "manager"),
        ("Safety owner", "safety_owner"),
        ("Legal owner", "legal_owner"),
        ("Privacy owner", "privacy_owner"),
        ("Security incident owner", "security_owner"),
    ):
        rows.append((title, who(getattr(ladder, key), f"[policy.escalation] {key}")))
    rows.append(
        (
            "Outside the company",
            ("California Department of Consumer Affairs, Complaint Assistance Unit",),
        )
    )
    return (table(("Contact point", "Who or where"), rows),)


def templates(ctx: Context) -> tuple[Block, ...]:
    policy = ctx.policy
    shown = ["default", *policy.categories, *FLAG_TEMPLATE_ORDER]
    blocks: list[Block] = [
        para(
            "These are the reply templates the bot drafts from, exactly as configured in ",
            Code("[policy.templates]"),
            ". A risk flag's template is used first (in the order "
            f"{', '.join(FLAG_TEMPLATE_ORDER)}), then the complaint type's, then the default. "
            "Placeholders in braces are filled in as plain text:",
        ),
        bullets(
            *(
                ((Code("{" + name + "}"), f": {FIELD_MEANINGS.get(name, name)}"))
                for name in TEMPLATE_FIELDS
            )
        ),
    ]
    for name in dict.fromkeys(shown):
        text = policy.templates.get(name)
        if text is None:
            blocks.append(
                para(
                    f"{_template_title(name)}: ",
                    Missing("no template of its own; the default template is used"),
                )
            )
        else:
            blocks.append(Quote(_template_title(name), text))
    blocks += [
        para(
            "The bot adds the disclosure to every reply. For example, the default "
            "template for a customer @jane_doe on case 1042 reads:"
        ),
        Quote("Example", _example(ctx)),
    ]
    blocks += _banned(ctx)
    return tuple(blocks)


def _template_title(name: str) -> str:
    if name == "default":
        return "Default template"
    kind = "risk flag" if name in FLAG_TEMPLATE_ORDER else "complaint type"
    return f"{facts.label(name).capitalize()} ({kind} {name})"


def _example(ctx: Context) -> str:
    config = ctx.config
    values = {
        **EXAMPLE_VALUES,
        "support_url": config.brand.support_url,
        "privacy_url": config.brand.privacy_url,
        "brand": config.brand.name,
    }
    text = fill(config.policy.templates["default"], values)
    return with_disclosure(text, config.policy.replies.disclosure)


def _banned(ctx: Context) -> list[Block]:
    extra = ctx.policy.replies.banned_phrases
    added: Line = (
        tuple(span for phrase in extra for span in (Code(phrase), " "))
        if extra
        else ("none; add them in ", Code("[policy.replies] banned_phrases"))
    )
    return [
        para(
            "Wording the bot refuses at approval, in whatever words it is put (the guard reads "
            "the wording with its inflections, contractions and paraphrases, not a list of "
            "strings). A reply may not:"
        ),
        bullets(*(f"{ACTS[act].does} ({ACTS[act].rule})" for act in WORDING_ACTS)),
        para(
            "Also refused at approval: personal data in a public reply; on a legal-flagged "
            "case, an admission of fault or a promise of money; on a safety-flagged case, a "
            "first reply without the instruction to stop using the product, unless an approver "
            "gives the reason."
        ),
        para("Phrases this company added: ", *added),
    ]


def regulations(ctx: Context) -> tuple[Block, ...]:
    rows: list[tuple[str, str, Line]] = [
        (law.cite, law.requires, law.carried_out(ctx.config)) for law in LAWS
    ]
    return (
        para("Each law or rule, what it asks of us, and the part of the bot that carries it out:"),
        table(("Law or rule", "What it requires", "How the bot carries it out"), rows),
    )


def flowchart(ctx: Context) -> tuple[Block, ...]:
    flow = case_flow(
        ctx.brand, ctx.policy.retention.non_complaint_days, ctx.policy.follow_up_window_hours
    )
    finals = [step.id for step in flow.states if step.kind == "final"]
    spans: list[Span] = ["Final states: ", ", ".join(finals) or "none", ". "]
    return (
        para(
            "How a complaint is handled, drawn from the case states and transitions the bot's "
            "code uses. Each arrow names who moves the case."
        ),
        Flowchart(flow, "Complaint handling flowchart (generated from the case state machine)"),
        para(
            *spans,
            "While a case is open it can also be escalated (section 9), assigned, "
            "or paused while we wait on the customer; none of these changes its state.",
        ),
        table(
            ("From", "To", "Who", "How"),
            [(Code(m.source), Code(m.target), m.actor, m.how) for m in flow.transitions],
        ),
    )
