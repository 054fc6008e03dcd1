"""Sections 9–15: escalation, dispute resolution, data protection, quality assurance,
training, regulatory compliance, and review."""

from __future__ import annotations

from bot.cases import TOP_ESCALATION_LEVEL
from bot.digest.reminders import LEAD_DAYS, POLICY_OUTPUT, yearly_reminders
from bot.models import RISK_FLAGS
from bot.policydoc import facts
from bot.policydoc.facts import Context, who
from bot.policydoc.glossary import FLAG_TEXT
from bot.policydoc.model import Block, Code, Line, Link, Missing, bullets, para, table
from bot.workflow import RISK_OWNERS

LEVEL_NAMES = {0: "Team", 1: "Team lead", 2: "Manager / legal"}

DIGEST_CONTENTS = (
    "volume by platform and by complaint type, and the complaint rate",
    "median and 90th-percentile time to first response and to resolution",
    "SLA compliance, breaches and escalations, with the worst cases linked",
    "the open backlog by age",
    "the top themes with example quotes, personal data masked",
    "repeat complainers (a count, never names)",
    "classifier health: the share of cases staff dismissed as not a complaint",
    "referrals to dispute resolution",
    "privacy requests received and their clocks",
    "the reminders below when they fall due",
    "the week against the four weeks before, with a chart",
)


def escalation(ctx: Context) -> tuple[Block, ...]:
    ladder, slack = ctx.policy.escalation, ctx.config.slack
    people: dict[int, Line] = {
        0: ("everyone in ", Code(slack.complaints_channel)),
        1: who(ladder.lead, "[policy.escalation] lead"),
        2: who(ladder.manager, "[policy.escalation] manager"),
    }
    rows = [
        (
            str(level),
            LEVEL_NAMES.get(level, f"Level {level}"),
            people.get(level, (Missing("nobody for this level"),)),
            _when(level),
        )
        for level in range(TOP_ESCALATION_LEVEL + 1)
    ]
    owners = []
    for flag in RISK_FLAGS:
        key = RISK_OWNERS.get(flag, "")
        owner = (
            who(getattr(ladder, key), f"[policy.escalation] {key}")
            if key
            else (Missing("no owner for this flag in the code"),)
        )
        owners.append((FLAG_TEXT.get(flag, (flag, ""))[0], owner))
    return (
        para("The escalation ladder. Every case starts at level 0:"),
        table(("Level", "Who", "Named", "When a case reaches it"), rows),
        para(
            "Escalation alerts go to ",
            Code(slack.escalation_channel),
            " and name the person for the new level. A case escalates one level each time "
            "one of its deadlines is missed, and whenever an approver clicks Escalate; it "
            f"never goes above level {TOP_ESCALATION_LEVEL}.",
        ),
        para("Risk flags skip the ladder: their owners are alerted as soon as the case opens."),
        table(("Flag", "Owner"), owners),
    )


def _when(level: int) -> str:
    if level == 0:
        return "when it opens"
    if level == TOP_ESCALATION_LEVEL:
        return "a second missed deadline, or escalated by hand again"
    return "its first missed deadline, or escalated by hand"


def dispute_resolution(ctx: Context) -> tuple[Block, ...]:
    return (
        para(
            "If a customer is still not satisfied once we have done what we can, we tell "
            "them, in private, where else they can go: the California Department of "
            "Consumer Affairs' Complaint Assistance Unit (the contact Civ. Code 1789.3 "
            "requires us to give), and small claims court."
        ),
        para(
            "Mediation or arbitration provider: ",
            Missing("none named; the company decides with counsel whether to offer one"),
            ". Arbitration is never made a condition of a refund or a remedy.",
        ),
        para(
            "Staff record each referral with the case card's Refer to ADR button (or ",
            Code("complaintbot cases refer-adr"),
            "), naming the body; it is kept in the register as an ",
            Code("adr_referral"),
            " event and the weekly digest counts them.",
        ),
    )


def data_protection(ctx: Context) -> tuple[Block, ...]:
    config = ctx.config
    return (
        bullets(
            "The bot keeps only what it needs to handle a complaint: the public post, the "
            "author's public handle and follower count, the case and its register.",
            "Case cards and the digest are posted only in the team's Slack channels; contact "
            "details, card numbers and addresses in posts are masked there.",
            (
                "Public replies never contain personal data; details move to ",
                Link(config.brand.support_url),
                ".",
            ),
            (
                "Privacy requests are made through ",
                Link(config.brand.privacy_url),
                "; a public reply never asks for identity details. Their clocks are in section "
                "4 and their records in section 5.",
            ),
            (
                "A person's data can be exported, or deleted or anonymised everywhere the bot "
                "wrote it, Slack messages included, with ",
                Code("complaintbot privacy"),
                "; the erasure itself is recorded.",
            ),
            "A Reddit account is never linked to a customer record.",
            "Access tokens for X, Reddit and Slack are kept only in the bot's environment, "
            "never in files or logs.",
        ),
    )


def quality(ctx: Context) -> tuple[Block, ...]:
    digest, slack = ctx.config.digest, ctx.config.slack
    day = facts.DAY_NAMES[digest.day_of_week]
    return (
        para(
            f"Every {day} at {digest.time} ({digest.timezone}) the bot posts a digest of the "
            "week to ",
            Code(slack.digest_channel),
            ". It reports:",
        ),
        bullets(*DIGEST_CONTENTS),
        para(
            "The team lead reviews it with the team each week: breaches and the backlog "
            "first, then the themes (a rising theme may be an incident to fix at the root), "
            "then the classifier's health. A past week can be printed again with ",
            Code("complaintbot digest --week YYYY-Www"),
            ".",
        ),
        para("Reminders the digest shows in the weeks before they fall due:"),
        table(
            ("Duty", "Due", "What to do"),
            [
                (reminder.name, f"{reminder.due:%B} {reminder.due.day}", _marked(reminder.note))
                for reminder in yearly_reminders(ctx.today.year, ctx.policy.review_month)
            ],
        ),
    )


def _marked(text: str) -> Line:
    """Text whose `backticked` parts are commands: those become code spans."""
    parts = text.split("`")
    return tuple(Code(part) if index % 2 else part for index, part in enumerate(parts) if part)


def training(ctx: Context) -> tuple[Block, ...]:
    month = facts.month_name(ctx.policy.review_month)
    return (
        para(
            "Everyone who approves replies is trained before they are added as an approver "
            "and again every year after the policy review in "
            f"{month}, and whenever this document changes (a new version stamp). Training "
            "covers:"
        ),
        bullets(
            "this policy, the deadlines in section 4 and the escalation ladder;",
            "the reply rules and the wording a reply may never use (section 8, Appendix C);",
            "what each risk flag means and who owns it;",
            "privacy requests: pointing people to the request channel, never asking for "
            "identity details in public;",
            "the Slack card: approve, edit, escalate, dismiss, assign and resolve.",
        ),
        para(
            "The current approvers are: ",
            *facts.approvers(ctx.config),
            ". The team lead keeps a record of who was trained and when.",
        ),
    )


def compliance(ctx: Context) -> tuple[Block, ...]:
    return (
        para(
            f"{ctx.brand} sells online to customers in California. The laws this policy "
            "carries out, and the part of the bot that carries out each, are listed in "
            "Appendix D. In short:"
        ),
        bullets(
            "Civ. Code 1789.3: we give California customers our complaint procedure and the "
            "Department of Consumer Affairs' Complaint Assistance Unit contact details, "
            "every year by June 30.",
            "CLRA (Civ. Code 1750 and following; 1782): a customer must give 30 days' notice "
            "before suing for damages; we use that time to put things right.",
            "UCL (B&P 17200, 17208): claims can be brought for 4 years, so case records are "
            "kept that long.",
            "CCPA/CPRA (Civ. Code 1798.100 and following; 11 CCR 7000 and following): privacy "
            "requests are acknowledged and answered on time, and logged for at least 24 "
            "months.",
            "Civ. Code 1670.8 and the federal Consumer Review Fairness Act: we never punish, "
            "pay for or pressure away a customer's review or post.",
            "B&P 17940–17943: our replies say they are drafted by a bot.",
            "Civ. Code 1798.82: if personal data was exposed, affected California residents "
            "are told within 30 days, and the Attorney General within 15 days of that when "
            "more than 500 residents are told.",
        ),
        para(
            "Before this document is published, run ",
            Code("complaintbot policy check"),
            ": it refuses a configuration that falls short of these laws' deadlines and "
            "requirements.",
        ),
    )


def review(ctx: Context) -> tuple[Block, ...]:
    month = facts.month_name(ctx.policy.review_month)
    upcoming = facts.next_review(ctx.policy.review_month, ctx.today)
    return (
        para(
            f"This policy is reviewed every year in {month} (next: {upcoming:%B %Y}) by the "
            "manager (section 6), with counsel. The weekly digest reminds the team from "
            f"{LEAD_DAYS} days before. It is also reviewed after any change in the law, any "
            "serious incident, and any change to the bot's configuration."
        ),
        para("To change the policy:"),
        bullets(
            (
                "Change the bot's configuration file (",
                Code("config.toml"),
                "): deadlines, people, templates, types.",
            ),
            (
                "Run ",
                Code("complaintbot config check"),
                " and ",
                Code("complaintbot policy check"),
                "; fix every line they print.",
            ),
            (
                "Produce this document again: ",
                Code(f"complaintbot policy render --format docx --output {POLICY_OUTPUT}"),
                " (or --format html or md).",
            ),
            (
                "Have counsel review it, publish it, and restart the bot so it runs on the "
                "same configuration.",
            ),
            numbered=True,
        ),
        para(
            "Each copy carries a version stamp on its first page: the date it was produced, "
            "the bot's version and a digest of the configuration. A copy whose digest differs "
            "from a fresh render no longer describes the running bot."
        ),
    )
