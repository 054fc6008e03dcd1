"""California's floors for the configuration: the limits in spec/policy.md the law sets.

``floor_problems`` gives one line per problem naming the key, the value and the floor, in
the style of the config validator. Only the request-log floor is also refused by validation
(``bot.checks``), because the retention job would erase the log early; the other floors are
recoverable and are reported by ``complaintbot policy check`` and ``config check``.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from bot.checks import PRIVACY_LOG_MIN_MONTHS
from bot.config import Config
from bot.replies import banned_phrase

ACK_MAX_BUSINESS_DAYS = 10  # 11 CCR 7021(a)
RESPOND_MAX_DAYS = 45  # Civ. Code 1798.130(a)(2), 11 CCR 7021(b)
EXTENSION_MAX_DAYS = 45  # one extension, the customer told before the first deadline
CLRA_CURE_MAX_DAYS = 30  # Civ. Code 1782(b): 30 days to put things right
CASE_YEARS_MIN = 4  # B&P 17208: the UCL limitation period (a warning, not a legal floor)


def floor_problems(config: Config) -> list[str]:
    """Every way the configuration falls short of a legal floor; empty when it meets them all."""
    policy, privacy = config.policy, config.policy.privacy
    problems = [
        _at_most(
            "[policy.privacy] acknowledge_business_days",
            privacy.acknowledge_business_days,
            ACK_MAX_BUSINESS_DAYS,
            "business days",
            "acknowledge a privacy request within "
            f"{ACK_MAX_BUSINESS_DAYS} business days (11 CCR 7021)",
        ),
        _at_most(
            "[policy.privacy] respond_days",
            privacy.respond_days,
            RESPOND_MAX_DAYS,
            "days",
            f"respond within {RESPOND_MAX_DAYS} calendar days of receipt "
            "(Civ. Code 1798.130, 11 CCR 7021)",
        ),
        _at_most(
            "[policy.privacy] extension_days",
            privacy.extension_days,
            EXTENSION_MAX_DAYS,
            "days",
            f"one extension of at most {EXTENSION_MAX_DAYS} more days (11 CCR 7021)",
        ),
        _at_most(
            "[policy] clra_cure_days",
            policy.clra_cure_days,
            CLRA_CURE_MAX_DAYS,
            "days",
            f"a CLRA demand leaves {CLRA_CURE_MAX_DAYS} days to put things right (Civ. Code 1782)",
        ),
    ]
    log_months = policy.retention.privacy_log_months
    if log_months < PRIVACY_LOG_MIN_MONTHS:
        problems.append(
            f"[policy.retention] privacy_log_months = {log_months}: below the legal floor: "
            f"keep the privacy request log at least {PRIVACY_LOG_MIN_MONTHS} months "
            f"(11 CCR 7101); use {PRIVACY_LOG_MIN_MONTHS} or more"
        )
    if not policy.replies.disclosure.strip():
        problems.append(
            f"[policy.replies] disclosure = {_show(policy.replies.disclosure)}: replies must "
            "say they are drafted by a bot (B&P 17940–17943); write e.g. "
            'disclosure = " (Drafted by our assistant, reviewed by our team.)"'
        )
    for key in ("support_url", "privacy_url"):
        if not getattr(config.brand, key).strip():
            problems.append(
                f'[brand] {key} = "": replies must send people to a '
                f"{'support page' if key == 'support_url' else 'privacy request channel'}; "
                'set it, e.g. "https://example.com/help"'
            )
    problems += _template_problems(config)
    return [problem for problem in problems if problem]


def _at_most(key: str, value: int, limit: int, unit: str, rule: str) -> str:
    if value <= limit:
        return ""
    return f"{key} = {value}: above the legal limit of {limit} {unit}: {rule}; use {limit} or less"


def _template_problems(config: Config) -> list[str]:
    templates, extra = config.policy.templates, config.policy.replies.banned_phrases
    problems = []
    for name, text in templates.items():
        phrase = banned_phrase(text, extra)
        if phrase:
            problems.append(
                f'[policy.templates] {name} = {_show(text)}: contains "{phrase}": a reply may '
                "never ask to change or remove a post or review, pay for that, or threaten "
                "(Civ. Code 1670.8, 16 CFR 465); reword it"
            )
    privacy = templates.get("privacy_request", "")
    if "{privacy_url}" not in privacy:
        problems.append(
            f"[policy.templates] privacy_request = {_show(privacy)}: must point to the "
            "privacy request channel, the only place requests are taken (11 CCR 7020); "
            "include {privacy_url}"
        )
    return problems


def policy_warnings(config: Config) -> list[str]:
    """Valid, lawful, but something a reader of the policy will see as a gap."""
    notes = []
    ladder = config.policy.escalation
    unnamed = [item.name for item in fields(ladder) if not getattr(ladder, item.name)]
    if unnamed:
        notes.append(
            f"warning: [policy.escalation] {', '.join(unnamed)} not set: the policy shows "
            'them as "not configured"; set each to a Slack user or user-group id'
        )
    years = config.policy.retention.case_years
    if years < CASE_YEARS_MIN:
        notes.append(
            f"warning: [policy.retention] case_years = {years}: shorter than the UCL "
            f"limitation period ({CASE_YEARS_MIN} years, B&P 17208); records may be gone "
            "when a claim arrives"
        )
    return notes


def _show(value: Any) -> str:
    text = str(value)
    if len(text) > 60:
        text = text[:57] + "…"
    return '"' + text.replace('"', '\\"') + '"'
