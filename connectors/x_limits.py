"""What X's limits refuse, and how we read the refusal: recent search's 7-day window (a
cursor older than it is replaced by a start_time inside it) and the monthly usage cap."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import tweepy

from bot.errors import PermanentError

# Recent search reaches back 7 days and refuses a since_id/until_id older than that (400
# "'since_id' must be a tweet id created after <time>Z. Please use a 'since_id' that is larger
# than <id>"). A cursor that old is replaced by a start_time this far inside the window, so
# the request still lands inside it when our clock and X's disagree by a few minutes.
SEARCH_WINDOW_SECONDS = 7 * 24 * 3600
WINDOW_MARGIN_SECONDS = 300
TWITTER_EPOCH_MS = 1288834974657
STALE_CURSOR = re.compile(
    r"'(since_id|until_id)' must be a tweet id created after (\d{4}-\d\d-\d\dT\d\d:\d\d)Z"
    r"|'(start_time)' must be on or after (\d{4}-\d\d-\d\dT\d\d:\d\d)Z"
)
# X's usage cap (the monthly post cap): 429 (some clients report 402) with this problem type.
USAGE_CAPPED_TYPE = "/problems/usage-capped"
USAGE_CAPPED_TITLE = "UsageCapExceeded"


class StaleCursor(PermanentError):
    """X refused a since_id/until_id (or start_time) older than recent search reaches;
    ``after`` is the oldest time (epoch seconds) it named, to the minute."""

    def __init__(self, parameter: str, after: float, message: str) -> None:
        super().__init__(f"X refused: {message}")
        self.parameter = parameter
        self.after = after


@dataclass
class SearchWindow:
    """Which posts a read asks for: newer than ``since``, older than ``until`` (the gap a
    page cap left), and ``newest`` read so far in that gap. ``start`` (epoch seconds) stands
    in for a ``since`` that X's recent search no longer reaches."""

    since: str | None
    until: str | None
    newest: str | None
    start: float | None = None

    def params(self) -> dict[str, Any]:
        params: dict[str, Any] = {}
        if self.start is not None:  # X takes at most one of start_time and since_id
            params["start_time"] = datetime.fromtimestamp(self.start, UTC)
        elif self.since:
            params["since_id"] = self.since
        if self.until:
            params["until_id"] = self.until
        return params

    def fit(self, oldest: float, notes: dict[str, str]) -> None:
        """Keep the read inside what search shows from ``oldest`` (epoch seconds) on."""
        if self.until and posted_at(self.until) < oldest:
            self.drop_gap(notes)
        if self.since and posted_at(self.since) < oldest:
            self.start = oldest

    def refused(self, parameter: str, oldest: float, notes: dict[str, str]) -> None:
        """X refused ``parameter`` as older than its window, which starts before ``oldest``
        (since_id and start_time alike become a start_time of ``oldest``)."""
        if parameter == "until_id":
            self.drop_gap(notes)
        else:
            self.start = max(self.start or 0.0, oldest)

    def drop_gap(self, notes: dict[str, str]) -> None:
        """Give up the rest of a page-cap gap: it is older than search can show."""
        notes["gap"] = (
            f"posts after {self.since or 'the start'} and before {self.until} were not read: "
            "X's recent search no longer shows them"
        )
        self.since = self.newest or self.since
        self.until = self.newest = None
        self.start = None


def posted_at(post_id: str) -> float:
    """When an X id was made (epoch seconds): ids are snowflakes, time in the upper bits."""
    if not post_id.isdigit():
        return 0.0
    return ((int(post_id) >> 22) + TWITTER_EPOCH_MS) / 1000


def stale_cursor(exc: tweepy.HTTPException) -> StaleCursor | None:
    for error in exc.api_errors:
        message = str(error.get("message", "")) if isinstance(error, dict) else str(error)
        found = STALE_CURSOR.search(message)
        if found:
            parameter = found.group(1) or found.group(3)
            at = datetime.strptime(found.group(2) or found.group(4), "%Y-%m-%dT%H:%M")
            return StaleCursor(parameter, at.replace(tzinfo=UTC).timestamp(), message)
    return None


def usage_capped(response: Any) -> bool:
    """X's usage-cap answer (429, or 402 in some clients' reports), told by its problem body."""
    try:
        body = response.json()
    except (ValueError, AttributeError):
        return False
    if not isinstance(body, dict):
        return False
    kind, title = str(body.get("type", "")), str(body.get("title", ""))
    return kind.endswith(USAGE_CAPPED_TYPE) or title == USAGE_CAPPED_TITLE


def cap_reset(response: Any, now: float) -> float:
    """When a usage cap resets (epoch seconds): a ``Retry-After`` header if X sends one, else
    the start of the next month, UTC.

    ``x-rate-limit-reset`` is deliberately not used: it is the 15-minute request window's,
    which a capped answer still carries (with requests left in it)."""
    value = str(getattr(response, "headers", {}).get("retry-after") or "").strip()
    if value.isdigit():
        return now + int(value)
    if value:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            when = None
        if when is not None:
            return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()
    moment = datetime.fromtimestamp(now, UTC)
    year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    return float(calendar.timegm((year, month, 1, 0, 0, 0)))
