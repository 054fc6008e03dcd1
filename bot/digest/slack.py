"""The digest in Slack: a compact Block Kit summary plus the chart, posted once per week.

The posting log in the store (``bot.digest.store``) is checked and claimed
before anything is sent, and each confirmed step is recorded at once, so a
restart on Monday morning finds the week posted and sends nothing; a Slack
failure leaves the week ``failed`` and the next call resumes at the step that
failed without repeating the message. A call whose outcome is unknown (a read
timeout, a crash mid-call) leaves the week ``posting``; ten minutes later the
channel is read for the message (its header block id is ``digest:<week>``)
before anything is sent again.
"""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.clock import Clock, iso, parse_iso
from bot.config import Config
from bot.digest import fmt
from bot.digest.store import (
    FAILED,
    POSTED,
    POSTING,
    claim_week,
    posted_record,
    record_step,
)
from bot.digest.weeks import Week
from bot.incidents.report import incident_line
from bot.learning.retrain import retrain_summary
from bot.redact import escape_mrkdwn
from bot.slack.port import HISTORY_LOOKBACK_SECONDS, Blocks, SlackError, SlackPort
from bot.store import Store

log = logging.getLogger(__name__)

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
STUCK_AFTER = timedelta(minutes=10)
UNKNOWN_OUTCOME = "Slack may have posted it; it is looked for before any second try"
DIGEST_BLOCK_PREFIX = "digest:"
SECTION_LIMIT = 2900  # Slack allows 3000 characters in a section's text
SLACK_BREACHES = 3


def post_weekly_digest(store: Store, config: Config, slack: SlackPort, clock: Clock) -> bool:
    """The cron job: post the last complete week's digest once its scheduled time has come.

    Returns False when nothing was posted: the week is already posted (or an
    earlier attempt's outcome is not yet known), or its time has not come. So the
    daemon may also call it at start and every few minutes, to catch up after
    downtime or retry a failure. Raises SlackError when Slack fails.
    """
    from bot.digest.build import build_digest
    from bot.digest.chart import render_chart

    now = clock.now()
    week = Week.last_complete(now, config.digest.timezone)
    if now < posting_time(config, week) or _before_first_run(store, week):
        return False
    record = posted_record(store, week.label)
    if record is not None and record["status"] == POSTING:
        record = _settle_stuck_week(store, record, config, slack, now)
    if record is not None and record["status"] != FAILED:
        return False
    digest = build_digest(store, config, week, now)
    return post_digest(
        store, digest, render_chart(digest), slack, config.slack.digest_channel, clock
    )


def post_digest(
    store: Store, digest: dict[str, Any], chart: bytes, slack: SlackPort, channel: str, clock: Clock
) -> bool:
    """Send the summary, then the chart into the channel Slack named; False if the week is taken."""
    week = digest["week"]
    record = claim_week(store, week, iso(clock.now()))
    if record is None:
        return False
    try:
        target = record["channel"]
        if not record["message_ts"]:
            posted = slack.post_message(channel, summary_text(digest), digest_blocks(digest))
            target = posted.channel
            record_step(store, week, channel=posted.channel, message_ts=posted.ts)
        if not record["file_id"]:
            # files_upload_v2 needs the channel id, which the posted message gave us.
            file_id = slack.upload_file(
                target, f"complaint-digest-{week}.png", chart, title=f"Complaint digest {week}"
            )
            record_step(store, week, file_id=file_id)
        record_step(store, week, status=POSTED, posted_at=iso(clock.now()), last_error=None)
    except SlackError as exc:
        if exc.maybe_done:  # like a crash mid-call: Slack may have it, so never resend alone
            record_step(store, week, last_error=f"{exc}; {UNKNOWN_OUTCOME}")
        else:
            record_step(store, week, status=FAILED, last_error=str(exc))
        raise
    except Exception as exc:
        record_step(store, week, last_error=f"{type(exc).__name__}: {exc}; {UNKNOWN_OUTCOME}")
        raise
    return True


def _settle_stuck_week(
    store: Store, record: dict[str, Any], config: Config, slack: SlackPort, now: datetime
) -> dict[str, Any]:
    """A week left ``posting`` (a crash mid-call, a timeout after sending): once it has been
    stuck a while, look in the channel. Found, the message is recorded and the next step
    (the chart) resumes; not found, Slack never took it and the week may be posted. If the
    channel cannot be read, nothing is sent, and the log says how to settle it by hand."""
    claimed = parse_iso(record["claimed_at"])
    if now - claimed < STUCK_AFTER:
        return record
    week = record["week"]
    channel = config.slack.digest_channel
    if not record["message_ts"]:
        try:
            found = slack.find_message(
                channel,
                f"{DIGEST_BLOCK_PREFIX}{week}",
                claimed.timestamp() - HISTORY_LOOKBACK_SECONDS,
            )
        except SlackError as exc:
            _warn_stuck(record, config, f"{record.get('last_error') or 'stopped mid-call'}; {exc}")
            return record
        if found is not None:
            record_step(store, week, channel=found.channel, message_ts=found.ts)
    record_step(store, week, status=FAILED, last_error="interrupted; resumed after a look")
    return posted_record(store, week) or record


def _warn_stuck(record: dict[str, Any], config: Config, why: str) -> None:
    log.warning(
        "digest %s: the post started %s did not finish (%s). Check %s; to post it again: "
        "DELETE FROM digests WHERE week = '%s', then complaintbot digest --week %s --post",
        record["week"],
        record["claimed_at"],
        why,
        config.slack.digest_channel,
        record["week"],
        record["week"],
    )


def next_digest_at(config: Config, after: datetime) -> datetime:
    """The first scheduled posting instant strictly after ``after`` ([digest] day, time, zone)."""
    zone = ZoneInfo(config.digest.timezone)
    local = after.astimezone(zone)
    at = time.fromisoformat(config.digest.time)
    weekday = WEEKDAYS.index(config.digest.day_of_week)
    for offset in range(8):
        day = local.date() + timedelta(days=offset)
        candidate = datetime.combine(day, at, zone)
        if day.weekday() == weekday and candidate > local:
            return candidate
    raise AssertionError("a weekday recurs within 8 days")


def posting_time(config: Config, week: Week) -> datetime:
    """When a week's digest is due: the first scheduled instant at or after the week ends."""
    return next_digest_at(config, week.end - timedelta(microseconds=1))


def summary_text(digest: dict[str, Any]) -> str:
    """The notification text (and what screen readers announce)."""
    if digest["empty"]:
        return f"Complaint digest {digest['week']}: {fmt.EMPTY_NOTE}"
    return (
        f"Complaint digest {digest['week']}: {digest['complaints']:,} complaints, "
        f"SLA compliance {fmt.percent(digest['sla_compliance'])}, "
        f"{digest['breaches']:,} deadlines missed"
    )


def digest_blocks(digest: dict[str, Any]) -> Blocks:
    """Headline numbers with week-over-week arrows, the worst breaches, the top themes."""
    week = digest["week"]
    blocks: Blocks = [
        {
            "type": "header",
            "block_id": f"{DIGEST_BLOCK_PREFIX}{week}",
            "text": {"type": "plain_text", "text": f"Complaint digest {week}"},
        },
        _context(f"{fmt.week_span(digest)} ({digest['timezone']})"),
    ]
    if digest["empty"]:
        blocks.append(_section(fmt.EMPTY_NOTE))
    fields = [
        {"type": "mrkdwn", "text": f"*{row.label}*\n{row.value}  {row.change}".rstrip()}
        for row in fmt.headline_rows(digest, fmt.SLACK_HEADLINE)
    ]
    blocks.append({"type": "section", "fields": fields})
    breaches = [_breach(b) for b in digest["worst_breaches"][:SLACK_BREACHES]]
    blocks.append(_section("*Worst missed deadlines*\n" + ("\n".join(breaches) or "none")))
    themes = []
    for theme in digest["themes"]:
        themes.append(f"• {escape_mrkdwn(fmt.theme_line(theme))}")
        themes += [f"    _“{escape_mrkdwn(quote)}”_" for quote in theme["quotes"]]
    blocks.append(_section("*Top themes*\n" + ("\n".join(themes) or "none this week")))
    incidents = [f"• {escape_mrkdwn(incident_line(i))}" for i in digest.get("incidents", [])]
    if incidents:
        blocks.append(_section("*Incidents*\n" + "\n".join(incidents[:SLACK_BREACHES])))
    privacy = digest["privacy_requests"]
    notes = [
        f"Backlog: {escape_mrkdwn(fmt.backlog_line(digest['backlog']))}",
        f"Privacy requests: {fmt.privacy_summary(privacy)}",
        *(f"Reminder: {escape_mrkdwn(fmt.reminder_line(r))}" for r in digest["reminders"]),
        f"Classifier: {escape_mrkdwn(retrain_summary(digest.get('retrain')))}",
        f"Full digest: `complaintbot digest --week {week} --format html`",
    ]
    blocks.append(_context("\n".join(notes)))
    return blocks


def _breach(breach: dict[str, Any]) -> str:
    text = escape_mrkdwn(fmt.breach_line(breach))
    return f"• <{breach['link']}|{text}>" if breach["link"] else f"• {text}"


def _section(text: str) -> dict[str, Any]:
    if len(text) > SECTION_LIMIT:
        text = text[: SECTION_LIMIT - 1].rsplit("\n", 1)[0] + "\n…"
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text[:SECTION_LIMIT]}]}


def _before_first_run(store: Store, week: Week) -> bool:
    """A week that ended before the bot first ran here has nothing to report: no digest."""
    first_run = store.first_run_at()
    return first_run is not None and week.end <= parse_iso(first_run)
