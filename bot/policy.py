"""The complaints policy as code: priority from risk and reach, SLA deadlines on the right clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.calendar import AlwaysOpen, BusinessCalendar, RunningClock, parse_duration
from bot.config import PolicySettings
from bot.models import Classification

P1_FLAGS = frozenset({"safety", "data_exposure", "legal"})
P2_FLAGS = frozenset({"privacy_request"})


def business_calendar(policy: PolicySettings) -> BusinessCalendar:
    return BusinessCalendar(
        timezone=policy.timezone,
        working_days=policy.business_days,
        opens=policy.business_start,
        closes=policy.business_end,
        holiday_region=policy.holidays,
        extra_holidays=policy.extra_holidays,
    )


def priority_for(
    classification: Classification,
    followers: int,
    repeat_complainer: bool,
    policy: PolicySettings,
) -> str:
    """P1 critical … P4 low, as policy.md's priority rules say; the highest rule that fits wins."""
    flags = set(classification.flag_names)
    if flags & P1_FLAGS or followers >= policy.p1_reach:
        return "P1"
    if flags & P2_FLAGS or repeat_complainer or followers >= policy.p2_reach:
        return "P2"
    mild = classification.complaint_probability < policy.p4_max_probability
    if mild and followers < policy.p4_max_reach:
        return "P4"
    return "P3"


@dataclass(frozen=True)
class Deadlines:
    ack_due_at: datetime
    ack_warn_at: datetime
    resolve_due_at: datetime
    resolve_warn_at: datetime


class SlaPolicy:
    """Deadlines and warning instants per priority, each on its own clock (business or 24x7)."""

    def __init__(self, policy: PolicySettings) -> None:
        self.policy = policy
        self.business = business_calendar(policy)
        self.always = AlwaysOpen()

    def clock_for(self, priority: str) -> RunningClock:
        return self.always if self.policy.sla[priority].clock == "24x7" else self.business

    def windows(self, priority: str) -> tuple[timedelta, timedelta]:
        window, clock = self.policy.sla[priority], self.clock_for(priority)
        return (
            parse_duration(window.first_response, clock),
            parse_duration(window.resolution, clock),
        )

    def deadlines(self, priority: str, received_at: datetime) -> Deadlines:
        clock = self.clock_for(priority)
        ack, resolve = self.windows(priority)
        warn = self.policy.warn_at
        return Deadlines(
            ack_due_at=clock.add(received_at, ack),
            ack_warn_at=clock.add(received_at, ack * warn),
            resolve_due_at=clock.add(received_at, resolve),
            resolve_warn_at=clock.add(received_at, resolve * warn),
        )

    def shift_after_pause(
        self, priority: str, instant: datetime, paused_at: datetime, resumed_at: datetime
    ) -> datetime:
        """Move a deadline so the running time left at the pause is left again at the resume."""
        if instant <= paused_at:
            return instant
        clock = self.clock_for(priority)
        return clock.add(resumed_at, clock.between(paused_at, instant))
