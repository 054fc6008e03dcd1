"""Sections 5–8: records, roles, investigation, and resolution and customer communication."""

from __future__ import annotations

from bot.cases import DISMISS_REASONS
from bot.policydoc import facts
from bot.policydoc.facts import Context, who
from bot.policydoc.flow import case_flow
from bot.policydoc.model import Block, Code, Line, Link, Missing, bullets, para, table
from bot.policydoc.words import or_list

EVENT_KINDS = (
    "opened",
    "follow_up",
    "priority_raised",
    "status",
    "escalated",
    "assigned",
    "paused",
    "resumed",
    "sla_warning",
    "sla_breach",
)


def records(ctx: Context) -> tuple[Block, ...]:
    retention = ctx.policy.retention
    return (
        para(
            "Every case is a record in the bot's database. Every change to it is added to the "
            "complaint register with the time and who did it (a Slack user, or the bot): "
            f"{or_list(EVENT_KINDS, 'and')}. The register also shows who drafted, edited, "
            "approved and posted each reply. Nothing in it is changed afterwards; the "
            "retention rules below only erase personal data from it."
        ),
        para(
            "The register and the privacy request log are tamper-evident: each row is "
            "chained to the one before, and ",
            Code("complaintbot audit verify"),
            " shows the first row that does not match if anything was altered.",
        ),
        para(
            "Records are kept for these periods and then erased or anonymised by the bot's "
            "daily retention job:"
        ),
        table(
            ("Record", "Kept for", "Then"),
            [
                (
                    "Posts that were not complaints",
                    f"{retention.non_complaint_days} days",
                    "erased",
                ),
                (
                    "Text of the posts in a closed case",
                    f"{retention.closed_text_days} days after closing, or "
                    f"{retention.deleted_post_hours} hours after the author deletes the post",
                    "erased",
                ),
                (
                    "Case records, with personal data kept to a minimum",
                    f"{retention.case_years} years after closing (the Unfair Competition Law "
                    "limitation period, B&P 17208)",
                    "anonymised",
                ),
                (
                    "Privacy request log: date, nature, method, response date, response and "
                    "any reason for denial",
                    f"{retention.privacy_log_months} months (at least 24: 11 CCR 7101); a "
                    "deletion request never deletes this log",
                    "erased",
                ),
                (
                    "Application logs, with personal data masked",
                    f"{retention.log_days} days",
                    "erased",
                ),
            ],
        ),
        para(
            "Email addresses, phone numbers, card numbers and street addresses are masked in "
            "Slack cards, the weekly digest and the logs. Access tokens never appear in logs."
        ),
    )


def roles(ctx: Context) -> tuple[Block, ...]:
    ladder, slack = ctx.policy.escalation, ctx.config.slack
    rows: list[tuple[str, Line, str]] = [
        (
            "Approvers",
            facts.approvers(ctx.config),
            f"read each case card in {slack.complaints_channel}; approve, edit, dismiss, "
            "escalate, assign or resolve cases; only they can release a public reply",
        ),
        (
            "Team lead (escalation level 1)",
            _owner(ladder.lead, "lead"),
            "takes escalated and breached cases; reviews the weekly digest with the team",
        ),
        (
            "Manager / legal (escalation level 2)",
            _owner(ladder.manager, "manager"),
            "takes cases escalated twice; owns this policy and its yearly review (section 15)",
        ),
        (
            "Safety owner",
            _owner(ladder.safety_owner, "safety_owner"),
            "acts at once on safety-flagged cases: product safety, recalls, injuries",
        ),
        (
            "Legal owner",
            _owner(ladder.legal_owner, "legal_owner"),
            "handles legal-flagged cases, CLRA demands and the second approval of edited "
            "replies on them",
        ),
        (
            "Privacy owner",
            _owner(ladder.privacy_owner, "privacy_owner"),
            "answers privacy requests within their legal clocks and keeps the request log",
        ),
        (
            "Security incident owner",
            _owner(ladder.security_owner, "security_owner"),
            "handles data exposure: assesses it as a possible breach (Civ. Code 1798.82)",
        ),
        (
            "The bot (complaintbot)",
            ("runs unattended",),
            "finds posts, opens cases, drafts replies, keeps the clocks, warns and escalates "
            "on time, posts only approved replies, and reports every week",
        ),
    ]
    return (
        para("Who does what. People are named by their Slack user or user-group id."),
        table(("Role", "Who", "Responsibilities"), rows),
    )


def _owner(value: str, key: str) -> Line:
    return who(value, f"[policy.escalation] {key}")


def investigation(ctx: Context) -> tuple[Block, ...]:
    slack, policy = ctx.config.slack, ctx.policy
    reasons = or_list(reason.replace("_", " ") for reason in DISMISS_REASONS)
    return (
        para("An approver who picks up a case follows these steps:"),
        bullets(
            (
                "Read the card in ",
                Code(slack.complaints_channel),
                ": the post, its type, "
                "priority, risk flags with their reasons, the deadlines and the draft reply.",
            ),
            (
                f"If the post is not ours to handle, dismiss it as {reasons}. Dismissing a post "
                "as not a complaint teaches the classifier."
            ),
            (
                "Check the type and the flags. A flag means its owner (section 6) has already "
                "been alerted; bring them in before replying."
            ),
            (
                "Acknowledge in public before the first-response deadline (section 4) by "
                "approving or editing the draft. The reply moves the conversation to a private "
                "channel."
            ),
            (
                "Investigate in private: the order, payment and delivery records, the carrier's "
                "tracking, photos from the customer. If we are waiting on the customer, the "
                "clock may be paused; the pause is recorded."
            ),
            (
                "Escalate (section 9) when the case is beyond your authority, touches safety, "
                "law or personal data, or will miss its deadline."
            ),
            ("Resolve the case with a note saying what was done, before the resolution deadline."),
            numbered=True,
        ),
        para("Cases with a risk flag also need:"),
        bullets(
            "Safety: advise the customer to stop using the product; the safety owner decides "
            "on product action and any report to regulators.",
            "Legal: reply only with the neutral holding statement; the legal owner takes over. "
            f"A CLRA demand (Civ. Code 1782) starts a {policy.clra_cure_days}-day cure clock. "
            "On a legal-flagged case, a reply that staff edited is approved a second time by "
            "the legal owner (or the manager) before it is posted. This is a manual step: the "
            "bot does not hold the reply for the second approval yet.",
            "Privacy request: point the customer to the privacy request channel only; the "
            "privacy owner handles the request within its clocks.",
            "Data exposure: do not discuss details in public; the security incident owner "
            "assesses it as a possible breach.",
        ),
    )


def resolution(ctx: Context) -> tuple[Block, ...]:
    config = ctx.config
    flow = case_flow(
        ctx.brand, ctx.policy.retention.non_complaint_days, ctx.policy.follow_up_window_hours
    )
    return (
        para("Every public reply follows these rules. The bot checks the ones it can:"),
        bullets(*_reply_rules(ctx)),
        para("Platform rules:"),
        bullets(*_platform_rules(ctx)),
        para("Bot disclosure: every reply ends with this statement (B&P 17940–17943):"),
        para(*_disclosure(config.policy.replies.disclosure)),
        para(
            "A case moves through these states; Appendix E draws the same steps. Who moves "
            "a case from one state to the next:"
        ),
        table(
            ("From", "To", "Who", "How"),
            [(Code(m.source), Code(m.target), m.actor, m.how) for m in flow.transitions],
        ),
        para(
            "A case is resolved when the complaint has been dealt with, whether or not a "
            "public reply was possible; the resolution note says what was done. If the "
            "customer is still unhappy, section 10 applies."
        ),
    )


def _reply_rules(ctx: Context) -> list[Line]:
    config = ctx.config
    rules: list[Line] = [
        (
            "Acknowledge the complaint, apologise where fitting, and move the details to a "
            "private channel: ",
            Link(config.brand.support_url),
            " (or a direct message where the platform allows it).",
        ),
        ("No personal data in public replies, and never ask for it in public.",),
        ("Replies to privacy requests only point to ", Link(config.brand.privacy_url), "."),
        (
            "Replies start from the templates in Appendix C; text from a post is never treated "
            "as part of a template.",
        ),
        (
            "Never ask anyone to delete or change a post or review, never offer anything in "
            "exchange for that, and never threaten a customer (Civ. Code 1670.8, the Consumer "
            "Review Fairness Act, 16 CFR 465). Remedies are never conditional on removing a "
            "post. The bot refuses to approve wording like this (Appendix C lists it).",
        ),
        ("One reply per case; the bot never posts the same reply twice.",),
    ]
    for platform, limit in sorted(ctx.reply_limits.items()):
        rules.append((f"Length on {_platform_name(platform)}: at most {limit}.",))
    return rules


def _platform_rules(ctx: Context) -> list[str]:
    return [
        "X: the bot can reply only when the author @mentioned our account (a quote alone is "
        "not enough); other posts become internal cases. No unsolicited direct messages.",
        "Reddit: no private messages without the user's consent, and a Reddit account is "
        "never linked to a customer record.",
    ]


def _platform_name(platform: str) -> str:
    return {"x": "X", "reddit": "Reddit"}.get(platform, platform)


def _disclosure(text: str) -> Line:
    if not text.strip():
        return (
            Missing(
                "no disclosure: replies would not say they are drafted automatically",
                "[policy.replies] disclosure",
            ),
        )
    return (f"“{text.strip()}”",)
