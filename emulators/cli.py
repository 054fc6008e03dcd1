"""``complaintbot emulators``: serve the X, Reddit and Slack emulators until SIGINT/SIGTERM."""

from __future__ import annotations

import json
import signal
import threading
from types import FrameType

import click


@click.command(name="emulators")
@click.option(
    "--port-x", type=int, default=0, show_default=True, help="X API v2 port (0: OS picks)."
)
@click.option(
    "--port-reddit", type=int, default=0, show_default=True, help="Reddit port (0: OS picks)."
)
@click.option(
    "--port-slack", type=int, default=0, show_default=True, help="Slack port (0: OS picks)."
)
@click.option("--x-username", default="acme", show_default=True, help="The brand's X account.")
@click.option(
    "--no-rate-limits",
    is_flag=True,
    help="Still send rate-limit headers, but never answer 429 on an exhausted budget.",
)
def command(
    port_x: int, port_reddit: int, port_slack: int, x_username: str, no_rate_limits: bool
) -> None:
    """Run local X, Reddit and Slack emulators on 127.0.0.1.

    Prints one JSON line with the base URLs (keys x, reddit_oauth, reddit_www,
    slack_api), then serves until interrupted. The Slack page is at the
    slack_api URL without "/api/". See docs/emulators.md.
    """
    from emulators.runner import Emulators

    emulators = Emulators(
        port_x=port_x,
        port_reddit=port_reddit,
        port_slack=port_slack,
        x_username=x_username,
        enforce_rate_limits=not no_rate_limits,
    )
    try:
        emulators.start()
    except OSError as exc:
        raise click.ClickException(f"cannot listen on 127.0.0.1: {exc}. Pick free ports.") from exc
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        click.echo(json.dumps(emulators.urls))
        while not stop.wait(0.5):
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        emulators.stop()
