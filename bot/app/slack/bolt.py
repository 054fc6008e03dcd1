"""Bolt in one place: the app with our listeners, run over Socket Mode or HTTP.

Bolt's and slack_sdk's refusals at start (a bad bot token, an app token without
``connections:write``, a port in use) become our errors here, one line naming the
secret or the key, so the daemon's start fails cleanly before any job runs. Slack failing
or out of reach (a 5xx, a malformed answer, a timeout) is ``SlackUnavailable`` instead: the
daemon starts without the listener and connects it later. The app uses the ``WebSlack``
client the outbox uses: one WebClient, with no retry handlers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.error import BoltError
from slack_sdk.errors import SlackApiError

from bot.app.slack.http import SlackHttpServer
from bot.app.slack.listeners import register
from bot.app.slack.queue import HomeTabs, Queue, register_queue
from bot.app.slack.web import TOKEN_REFUSALS, WebSlack
from bot.config import SlackSettings
from bot.errors import AuthError, TransientError
from bot.slack.port import SlackError
from bot.workflow import Workflow

log = logging.getLogger(__name__)

SOCKET_RECEIVE_BUFFER_BYTES = 256 * 1024
"""slack_sdk's built-in WebSocket client reads frames recursively, one call per buffer read
(1 KiB by default). After an outage Slack sends the envelopes it held in one burst; the soak
saw a burst of cards' clicks run past Python's recursion limit at 1 KiB, drop the connection
and do so again on every reconnect (462 of 557 envelopes given up in 6 minutes)."""


class SlackUnavailable(TransientError):
    """Slack failed or could not be reached while the listener connected; try again later."""


def _bot_token_refused(code: str) -> AuthError:
    return AuthError(
        f"Slack refused SLACK_BOT_TOKEN ({code}); check the token and that the app is "
        "installed in the workspace"
    )


def build_app(
    workflow: Workflow,
    slack: WebSlack,
    on_change: Callable[[], None] = lambda: None,
    signing_secret: str | None = None,
    home_tabs: HomeTabs | None = None,
) -> App:
    """A Bolt app on ``slack``'s client whose listeners store a case change before they ack.

    The token is checked first (``auth.test``), so a refused token (``AuthError``) is told
    apart from Slack failing or out of reach (``SlackUnavailable``); Bolt then skips its own
    check."""
    try:
        slack.check_token()
    except SlackError as exc:
        if exc.code in TOKEN_REFUSALS:
            raise _bot_token_refused(exc.code) from None
        raise SlackUnavailable(f"Slack did not answer auth.test ({exc})") from None
    try:
        app = App(
            client=slack.client,
            signing_secret=signing_secret,
            process_before_response=False,
            token_verification_enabled=False,
        )
    except BoltError as exc:
        raise _bot_token_refused(str(exc)) from None
    register(app, workflow, slack, on_change)
    register_queue(app, workflow, slack, home_tabs)
    return app


class SlackListener:
    """Staff clicks reaching the workflow: Socket Mode (no public URL) or HTTP with signature
    checks on a threaded server, as ``[slack] mode`` says."""

    def __init__(
        self,
        workflow: Workflow,
        slack: WebSlack,
        settings: SlackSettings,
        secrets: Mapping[str, str],
        on_change: Callable[[], None],
    ) -> None:
        self.workflow = workflow
        self.slack = slack
        self.settings = settings
        self.secrets = secrets
        self.on_change = on_change
        self.socket_handler: SocketModeHandler | None = None
        self.http_server: SlackHttpServer | None = None
        self.home_tabs = HomeTabs(Queue(workflow, slack), slack)

    def start(self) -> None:
        if self.settings.mode == "http":
            app = build_app(
                self.workflow,
                self.slack,
                self.on_change,
                signing_secret=self.secrets["SLACK_SIGNING_SECRET"],
                home_tabs=self.home_tabs,
            )
            server = SlackHttpServer(
                app, host=self.settings.http_host, port=self.settings.http_port
            )
            server.start()
            self.http_server = server
            log.info("Slack requests on http://%s:%s/slack/events", server.host, server.port)
            return
        app = build_app(self.workflow, self.slack, self.on_change, home_tabs=self.home_tabs)
        handler = SocketModeHandler(
            app,
            app_token=self.secrets["SLACK_APP_TOKEN"],
            receive_buffer_size=SOCKET_RECEIVE_BUFFER_BYTES,
        )
        try:
            handler.connect()
        except SlackApiError as exc:
            code = str(exc.response.get("error", "")) if exc.response is not None else ""
            if code in TOKEN_REFUSALS or code == "missing_scope":
                raise AuthError(
                    f"Slack refused SLACK_APP_TOKEN ({code}); it must be an app-level token "
                    "(xapp-…) with the connections:write scope"
                ) from None
            raise SlackUnavailable(
                f"Slack did not open a Socket Mode connection ({code or 'no answer'})"
            ) from None
        except Exception as exc:  # slack_sdk raises plain errors for malformed or lost answers
            self._close_quietly(handler)
            raise SlackUnavailable(
                f"Slack did not open a Socket Mode connection ({type(exc).__name__})"
            ) from None
        self.socket_handler = handler

    @staticmethod
    def _close_quietly(handler: SocketModeHandler) -> None:
        try:
            handler.close()
        except Exception:
            log.debug("a half-open Socket Mode handler did not close", exc_info=True)

    def refresh_home(self) -> int:
        """Publish again the Home tabs whose content changed (a daemon job)."""
        return self.home_tabs.refresh()

    @property
    def connected(self) -> bool:
        if self.http_server is not None:
            return self.http_server.listening
        return self.socket_handler is not None and bool(self.socket_handler.client.is_connected())

    def stop(self) -> None:
        if self.socket_handler is not None:
            try:
                self.socket_handler.close()
            except Exception:
                log.warning("Socket Mode did not close cleanly")
        if self.http_server is not None:
            self.http_server.stop()
