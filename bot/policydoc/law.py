"""The laws and rules in spec/policy.md, what each asks, and the part of the bot that carries
it out (a module, a command or a configuration key), for Appendix D."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.config import Config
from bot.policydoc.model import Code, Line


@dataclass(frozen=True)
class Law:
    cite: str
    requires: str
    how: Callable[[Config], Line]

    def carried_out(self, config: Config) -> Line:
        return self.how(config)


def _notice(config: Config) -> Line:
    return (
        "The weekly digest reminds the team from June 1 (",
        Code("bot/digest/reminders.py"),
        "); sections 3 and 10 of this document give the procedure.",
    )


def _clra(config: Config) -> Line:
    return (
        "The legal flag alerts ",
        Code("[policy.escalation] legal_owner"),
        "; a post naming a CLRA demand starts a ",
        f"{config.policy.clra_cure_days}-day cure clock on the case (",
        Code("[policy] clra_cure_days"),
        ", ",
        Code("bot/cases/book.py"),
        ").",
    )


def _ucl(config: Config) -> Line:
    return (
        f"Case records are kept {config.policy.retention.case_years} years after closing, "
        "then anonymised (",
        Code("[policy.retention] case_years"),
        ", ",
        Code("complaintbot retention"),
        ").",
    )


def _ccpa(config: Config) -> Line:
    privacy = config.policy.privacy
    return (
        "The privacy_request flag opens a request with its clocks (acknowledge in "
        f"{privacy.acknowledge_business_days} business days, respond in {privacy.respond_days} "
        "days: ",
        Code("[policy.privacy]"),
        "); replies point only to ",
        Code("[brand] privacy_url"),
        "; ",
        Code("complaintbot privacy"),
        " exports or erases a person's data.",
    )


def _request_log(config: Config) -> Line:
    return (
        f"The request log is kept {config.policy.retention.privacy_log_months} months (",
        Code("[policy.retention] privacy_log_months"),
        "; configuration below 24 is refused) and a deletion request never erases it.",
    )


def _reviews(config: Config) -> Line:
    extra = len(config.policy.replies.banned_phrases)
    return (
        "Approval refuses replies with the banned wording (",
        Code("bot/replies.py"),
        f", plus {extra} phrases in ",
        Code("[policy.replies] banned_phrases"),
        "); ",
        Code("complaintbot policy check"),
        " refuses templates that contain it.",
    )


def _disclosure(config: Config) -> Line:
    return (
        "Every reply ends with ",
        Code("[policy.replies] disclosure"),
        "; ",
        Code("complaintbot policy check"),
        " refuses an empty one.",
    )


def _breach(config: Config) -> Line:
    return (
        "The data_exposure flag makes the case P1 and alerts ",
        Code("[policy.escalation] security_owner"),
        " at once. The notices themselves are sent by people, not by the bot.",
    )


def _platforms(config: Config) -> Line:
    return (
        "The connectors decide whether a post may be answered (",
        Code("may_reply"),
        ") and check each reply's length before it is posted; the bot sends no direct messages.",
    )


LAWS = (
    Law(
        "Civ. Code 1789.3",
        "Online sellers give California customers their complaint procedure and the Department "
        "of Consumer Affairs Complaint Assistance Unit's contact details, yearly by June 30.",
        _notice,
    ),
    Law(
        "CLRA, Civ. Code 1750 ff. and 1782",
        "A customer gives 30 days' notice before an action for damages; the seller may "
        "put things right in that time.",
        _clra,
    ),
    Law(
        "UCL, B&P 17200 and 17208",
        "Unfair business practices can be challenged for 4 years.",
        _ucl,
    ),
    Law(
        "CCPA/CPRA, Civ. Code 1798.100 ff.; 11 CCR 7000 ff. (7020–7022)",
        "Privacy requests through designated channels; acknowledge within 10 business days, "
        "respond within 45 calendar days, one extension of 45 days if the customer is told.",
        _ccpa,
    ),
    Law("11 CCR 7101", "Keep the request log at least 24 months.", _request_log),
    Law(
        "Civ. Code 1670.8; Consumer Review Fairness Act (15 U.S.C. 45b); FTC 16 CFR 465",
        "No terms or pressure that stop customers reviewing or posting, and no paying for "
        "or threatening over reviews.",
        _reviews,
    ),
    Law(
        "B&P 17940–17943",
        "A bot that talks to people in California must say it is a bot.",
        _disclosure,
    ),
    Law(
        "Civ. Code 1798.82",
        "After a breach of personal data: tell affected residents within 30 days, and the "
        "Attorney General within 15 days of that when more than 500 residents are told.",
        _breach,
    ),
    Law(
        "X and Reddit platform rules",
        "On X, API replies only to posts that @mention the account, no unsolicited "
        "direct messages; on Reddit, no private messages without consent.",
        _platforms,
    ),
)
