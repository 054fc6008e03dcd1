"""Sections 1–4: purpose, definitions, how complaints come in, and the response timeline."""

from __future__ import annotations

from bot.models import RISK_FLAGS
from bot.policy import P1_FLAGS, P2_FLAGS
from bot.policydoc import facts
from bot.policydoc.facts import Context, who
from bot.policydoc.floors import ACK_MAX_BUSINESS_DAYS, EXTENSION_MAX_DAYS, RESPOND_MAX_DAYS
from bot.policydoc.glossary import CATEGORY_TEXT, FLAG_TEXT, PRECEDENCE, UNDEFINED
from bot.policydoc.model import (
    Block,
    Code,
    Line,
    Link,
    Missing,
    Span,
    bullets,
    para,
    table,
    unset,
)
from bot.policydoc.words import or_list
from bot.settings import PRIORITIES
from bot.workflow import RISK_OWNERS


def purpose(ctx: Context) -> tuple[Block, ...]:
    brand = ctx.brand
    return (
        para(
            f"This policy sets out how {brand} receives, records, investigates and answers "
            "customer complaints, including complaints made in public on social media. It "
            f"applies to everyone who handles complaints for {brand}: the support team, the "
            "people who approve public replies, their leads and managers, and the owners "
            "named in section 6."
        ),
        para(
            "Complaints posted on social media are found and tracked by complaintbot, a "
            "program that watches the platforms listed in section 3, opens a case for each "
            "complaint, drafts a reply and asks staff in Slack to approve it. Nothing is "
            f"posted in {brand}'s name that a person did not approve."
        ),
        para(
            "Every number, person, channel, template and rule in this document is read from "
            "the configuration the bot runs on, so the document and the bot say the same "
            "thing. Where something has not been set, the document says so in a highlighted "
            "note instead of guessing. When the configuration changes, this document is "
            "produced again (section 15)."
        ),
    )


def definitions(ctx: Context) -> tuple[Block, ...]:
    threshold = facts.percent(ctx.config.classifier.threshold)
    return (
        bullets(
            "Complaint: any expression of dissatisfaction with our products, deliveries, "
            "charges, service or handling of personal data, made through any channel. On "
            f"social media, a post the bot's classifier rates at least {threshold} likely to "
            "be a complaint is treated as one until staff dismiss it.",
            "Complaint types: the categories below. Each case has one type.",
            "Risk flag: a sign that a complaint needs more than a normal answer (below). "
            "Each flag on a case says which words raised it.",
            "Acknowledgement: our first public response to a complaint. Its deadline is the "
            '"first public response" in section 4.',
            "Resolution: the complaint has been dealt with and the case records how. Its "
            'deadline is the "resolution" target in section 4.',
            "Escalation: handing a case up the ladder in section 9 (team, lead, manager or "
            "legal) because it is serious, stuck or late.",
            "Social media complaint: a complaint posted in public on a platform the bot "
            "watches (section 3). It becomes a case like any other.",
            "Privacy request: a request to know, delete, correct or stop the sale or sharing "
            "of personal data under the CCPA/CPRA. It has its own legal clocks (section 4).",
            "Case: the record of one customer's complaint on one platform, with its type, "
            "priority, deadlines, flags and every action taken.",
        ),
        para("Complaint types:"),
        _category_table(ctx),
        *_precedence(ctx),
        para("Risk flags and what they set off:"),
        _flag_table(ctx),
    )


def _category_table(ctx: Context) -> Block:
    rows = []
    for name in ctx.policy.categories:
        title, text = CATEGORY_TEXT.get(name, (facts.label(name).capitalize(), ""))
        rows.append((title, Code(name), text or Missing(UNDEFINED)))
    return table(("Type", "Name in the bot", "What it covers"), rows)


def _precedence(ctx: Context) -> tuple[Block, ...]:
    rules = [
        f"{text} is {CATEGORY_TEXT[name][0]}"
        for name, text in PRECEDENCE
        if name in ctx.policy.categories
    ]
    if not rules:
        return ()
    tail = ""
    if "customer_service" in ctx.policy.categories:
        tail = " Customer service is used only when nothing more specific applies."
    return (
        para(
            "When a complaint fits several types, the more specific one wins: "
            f"{'; '.join(rules)}.{tail}"
        ),
    )


def _flag_table(ctx: Context) -> Block:
    owners = ctx.policy.escalation
    rows = []
    for flag in RISK_FLAGS:
        title, raised_by = FLAG_TEXT.get(flag, (facts.label(flag), ""))
        key = RISK_OWNERS.get(flag, "")
        owner = (
            who(getattr(owners, key), f"[policy.escalation] {key}")
            if key
            else (Missing("no owner for this flag in the code"),)
        )
        effect: list[Span] = [f"Priority {flag_priority(flag)}; the owner, ", *owner]
        effect.append(", is alerted at once. " + _flag_extra(ctx, flag))
        rows.append((title, raised_by or Missing(UNDEFINED), tuple(effect)))
    return table(("Flag", "Raised by", "What happens"), rows)


def flag_priority(flag: str) -> str:
    if flag in P1_FLAGS:
        return "P1"
    return "P2" if flag in P2_FLAGS else "set by reach"


def _flag_extra(ctx: Context, flag: str) -> str:
    reply = f'The suggested reply is the "{flag}" template (Appendix C).'
    if flag == "legal":
        return (
            "The suggested reply is only a neutral holding statement. If the post mentions "
            f"a CLRA demand (Civ. Code 1782), a {ctx.policy.clra_cure_days}-day cure clock "
            "starts."
        )
    if flag == "privacy_request":
        return (
            "A privacy request is opened with the clocks in section 4. The reply only points "
            "to the privacy request channel and never asks for identity details in public."
        )
    return reply


def filing(ctx: Context) -> tuple[Block, ...]:
    config = ctx.config
    return (
        para(f"Customers can complain to {ctx.brand} through any of these channels:"),
        table(("Channel", "Where", "Handled"), _channels(ctx)),
        para("To investigate we need, given privately and never in a public post:"),
        bullets(
            "the customer's name and how to reach them (email or phone);",
            "the order number, or the email address used for the order;",
            "what happened and when, and which product or order it concerns;",
            "photos of any damage or fault, where relevant;",
            "what the customer would like us to do;",
            "the case number, if our public reply gave one.",
        ),
        para(
            "Appendix A is a form with these fields. Public replies never ask for them: "
            "they move the conversation to ",
            Link(config.brand.support_url),
            ".",
        ),
        para("How a social media post becomes a case:"),
        bullets(*_intake_steps(ctx), numbered=True),
    )


def _channels(ctx: Context) -> list[tuple[Line | Span, ...]]:
    config = ctx.config
    rows: list[tuple[Line | Span, ...]] = [
        ("Support page", Link(config.brand.support_url), "the support team"),
        ("Privacy requests", Link(config.brand.privacy_url), "the privacy owner (section 6)"),
    ]
    handle: Line = (f"@{config.x.handle}",) if config.x.handle else (unset("[x] handle"),)
    rows.append(("X", handle, _watched(config.x.enabled, "x", config.x.poll_interval_seconds)))
    where = or_list(
        ("all of Reddit" if name == "all" else f"r/{name}" for name in config.reddit.subreddits),
        "and",
    )
    rows.append(
        (
            "Reddit",
            (f"posts in {where} (our account: u/{config.reddit.username})",),
            _watched(config.reddit.enabled, "reddit", config.reddit.poll_interval_seconds),
        )
    )
    return rows


def _watched(enabled: bool, section: str, seconds: int) -> Line:
    if not enabled:
        return (facts.not_watched(section),)
    return (f"the bot looks for new posts every {_every(seconds)}",)


def _every(seconds: int) -> str:
    if seconds % 60 == 0:
        minutes = seconds // 60
        return "minute" if minutes == 1 else f"{minutes} minutes"
    return f"{seconds} seconds"


def _intake_steps(ctx: Context) -> list[Line]:
    config, policy = ctx.config, ctx.policy
    terms = or_list((f'"{term}"' for term in config.brand.terms), "or")
    return [
        (f"The bot searches the watched platforms for posts that mention {terms}.",),
        (
            "Its classifier decides whether each post is a complaint, which type it is and "
            "whether it raises a risk flag. Posts that are neither complaints nor flagged "
            f"open no case and are erased after {policy.retention.non_complaint_days} days.",
        ),
        (
            "A complaint opens a case with its type, priority and deadlines. A further post "
            "by the same author on the same platform within "
            f"{policy.follow_up_window_hours} hours joins that author's open case instead; "
            "if it raises a risk flag the case did not have, the case takes that flag's "
            "priority and the flag's owner is alerted, as for a new case.",
        ),
        (
            "The bot posts a card for the case in ",
            Code(config.slack.complaints_channel),
            " with the post, the flags and their reasons, the deadlines and a draft reply; "
            "flagged cases are also announced in ",
            Code(config.slack.escalation_channel),
            ".",
        ),
        (
            "On X the bot can answer only posts that @mention our account (a quote alone is "
            "not enough); other posts become internal cases with no reply button. Posts imported "
            "from a file are never answered.",
        ),
    ]


def timeline(ctx: Context) -> tuple[Block, ...]:
    policy, config = ctx.policy, ctx.config
    return (
        para("Every case gets a priority when it opens; the highest rule that fits wins:"),
        bullets(*_priority_rules(ctx)),
        para("Deadlines per priority:"),
        table(
            ("Priority", "First public response", "Resolution", "Clock"),
            [
                (
                    name,
                    facts.duration_words(policy.sla[name].first_response, policy.sla[name].clock),
                    facts.duration_words(policy.sla[name].resolution, policy.sla[name].clock),
                    facts.clock_words(policy.sla[name].clock),
                )
                for name in PRIORITIES
            ],
        ),
        para(
            f"Business hours are {facts.working_days(policy.business_days)}, "
            f"{facts.hhmm(policy.business_start)} to {facts.hhmm(policy.business_end)} "
            f"({policy.timezone}), except holidays. On the business clock an hour means a "
            "business hour and a day means one full business day "
            f"({facts.business_day_hours(config)}); a post that arrives out of hours starts "
            "its clock at the next opening."
        ),
        *_holidays(ctx),
        para(
            f"The bot warns in the case's Slack thread when {facts.percent(policy.warn_at)} "
            "of a deadline has passed. When a deadline passes, the case is marked breached "
            "and escalated one level (section 9). While we wait for the customer the clock "
            "may be paused; the pause is recorded and the deadlines move by the time paused."
        ),
        para("Privacy requests run on their own legal clocks:"),
        _privacy_clocks(ctx),
    )


def _priority_rules(ctx: Context) -> list[str]:
    policy = ctx.policy
    p1 = or_list(facts.label(flag) for flag in sorted(P1_FLAGS))
    p2 = or_list(facts.label(flag) for flag in sorted(P2_FLAGS))
    return [
        f"P1 critical: a {p1} flag, or an author with {policy.p1_reach:,} or more followers.",
        f"P2 high: a {p2} flag, a repeat complainer (another case within "
        f"{policy.repeat_days} days), or an author with {policy.p2_reach:,} or more followers.",
        f"P4 low: a mild complaint (the classifier is less than "
        f"{facts.percent(policy.p4_max_probability)} sure) from an author with fewer than "
        f"{policy.p4_max_reach:,} followers.",
        "P3 normal: everything else.",
    ]


def _holidays(ctx: Context) -> tuple[Block, ...]:
    policy = ctx.policy
    days = facts.holidays_ahead(ctx.config, ctx.today)
    region = policy.holidays or None
    source: Line = (
        (f"the public holidays of {region}",)
        if region
        else (unset('[policy] holidays, e.g. "US-CA"', "no public holiday calendar"),)
    )
    intro = para(
        f"Closed days in the twelve months from {ctx.today.isoformat()}: ",
        *source,
        ", plus the company's own closed days in ",
        Code("[policy] extra_holidays"),
        ".",
    )
    if not days:
        return (intro, para(Missing("no closed days in the next twelve months")))
    rows = [(day.isoformat(), day.strftime("%A"), name) for day, name in days]
    return (intro, table(("Date", "Day", "Holiday"), rows))


def _privacy_clocks(ctx: Context) -> Block:
    privacy = ctx.policy.privacy
    extension = (
        f"{privacy.extension_days} more days, once, only if the customer is told before the "
        "first deadline"
        if privacy.extension_days
        else "none: every request is answered within the first deadline"
    )
    respond = (
        f"{privacy.respond_days} calendar days from receipt (the clock does not pause while "
        "we verify identity)"
    )
    rows = [
        (
            "Acknowledge the request",
            f"{privacy.acknowledge_business_days} business days",
            privacy.acknowledge_business_days,
            ACK_MAX_BUSINESS_DAYS,
            "business days",
        ),
        (
            "Respond to the request",
            respond,
            privacy.respond_days,
            RESPOND_MAX_DAYS,
            "calendar days",
        ),
        ("Extension", extension, privacy.extension_days, EXTENSION_MAX_DAYS, "more days, once"),
    ]
    return table(
        ("Step", "Our deadline", "Legal limit (11 CCR 7021)"),
        [
            (step, _within(ours, value, limit), f"{limit} {unit}")
            for step, ours, value, limit, unit in rows
        ],
    )


def _within(text: str, value: int, limit: int) -> Line:
    """The deadline, with a visible warning when it is later than the law allows."""
    if value <= limit:
        return (text,)
    return (text, " ", Missing("later than the legal limit: see complaintbot policy check"))
