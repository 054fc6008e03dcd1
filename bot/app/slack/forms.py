"""Opening a modal from a click, where Slack may refuse: a trigger lives three seconds, so a
click handled late or delivered again (after a reconnect) meets ``expired_trigger_id``.

The click is already acked and nothing was changed; the person is told to click again, and
the refusal is one log line instead of a failed request in Bolt's log."""

from __future__ import annotations

import logging
from typing import Any

from bot.slack.port import SlackError, SlackPort

log = logging.getLogger(__name__)


def open_form(slack: SlackPort, body: dict[str, Any], view: dict[str, Any]) -> bool:
    """Open ``view`` for the person who clicked; False (told, logged) if Slack would not."""
    try:
        slack.open_view(body["trigger_id"], view)
        return True
    except SlackError as exc:
        reason = exc.code or str(exc)
        user = str(body.get("user", {}).get("id", ""))
        log.info("the form %s was not opened for %s: %s", view.get("callback_id"), user, reason)
        channel = str((body.get("channel") or {}).get("id", ""))
        if channel and user:
            try:
                slack.post_ephemeral(
                    channel, user, f"Slack did not open the form ({reason}); please click again."
                )
            except SlackError as told:
                log.info("could not tell %s either: %s", user, told.code or told)
        return False
