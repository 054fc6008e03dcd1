"""Bolt in one place: the app with our listeners, run over Socket Mode or HTTP.

Bolt's and slack_sdk's refusals at start (a bad bot token, an app token without
``connections:write``, a port in use) become our errors here, one line naming the
secret or the key, so the daemon's start fails cleanly before any job runs. The app
uses the ``WebSlack`` client the outbox uses: one WebClient, with no retry handlers.
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
from bot.app.slack.web import WebSlack
from bot.config import SlackSettings
from bot.errors import AuthError
from bot.workflow import Workflow

log = logging.getLogger(__name__)


def build_app(
    workflow: Workflow,
    slack: WebSlack,
    on_change: Callable[[], None] = lambda: None,
    signing_secret: str | None = None,
) -> App:
    """A Bolt app on ``slack``'s client whose listeners store a case change before they ack."""
    try:
        app = App(client=slack.client, signing_secret=signing_secret, process_before_response=False)
    except BoltError as exc:
        raise AuthError(
            f"Slack refused SLACK_BOT_TOKEN ({exc}); check the token and that the app is "
            "installed in the workspace"
        ) from None
    register(app, workflow, slack, on_change)
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

    def start(self) -> None:
        if self.settings.mode == "http":
            app = build_app(
                self.workflow,
                self.slack,
                self.on_change,
                signing_secret=self.secrets["SLACK_SIGNING_SECRET"],
            )
            server = SlackHttpServer(
                app, host=self.settings.http_host, port=self.settings.http_port
            )
            server.start()
            self.http_server = server
            log.info("Slack requests on http://%s:%s/slack/events", server.host, server.port)
            return
        app = build_app(self.workflow, self.slack, self.on_change)
        handler = SocketModeHandler(app, app_token=self.secrets["SLACK_APP_TOKEN"])
        try:
            handler.connect()
        except SlackApiError as exc:
            raise AuthError(
                f"Slack refused SLACK_APP_TOKEN ({exc.response.get('error')}); it must be an "
                "app-level token (xapp-…) with the connections:write scope"
            ) from None
        self.socket_handler = handler

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
