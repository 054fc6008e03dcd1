"""The Slack page's parts that need no browser: the files it serves and its emoji table.
(The page in a real browser: tests/test_browser_slack.py.)"""

from __future__ import annotations

import re
from pathlib import Path

import requests
from slack_sdk import WebClient

from emulators import Emulators

ROOT = Path(__file__).resolve().parents[1]
EMOJI_TABLE = ROOT / "emulators" / "static" / "emoji.js"
SHORTCODE = re.compile(r"""(?:^|[\s"'(])(:[a-z0-9_+-]+:)(?=[\s"')\]])""", re.MULTILINE)
NOT_EMOJI = {":memory:"}  # SQLite's in-memory database name


def test_the_page_and_its_scripts_are_served_and_nothing_else(emu: Emulators) -> None:
    for name, kind in [
        ("slack.js", "text/javascript"),
        ("blocks.js", "text/javascript"),
        ("emoji.js", "text/javascript"),
        ("slack.css", "text/css"),
    ]:
        served = requests.get(f"{emu.slack_url}/static/{name}")
        assert served.status_code == 200 and served.headers["Content-Type"].startswith(kind)
        assert f"/static/{name}" in requests.get(emu.slack_url + "/").text
    for missing in ("nothing.js", "..%2Fslack.py", "%2E%2E%2Fslack.py"):
        assert requests.get(f"{emu.slack_url}/static/{missing}").status_code == 404


def test_an_uploaded_file_is_served_with_its_type(emu: Emulators) -> None:
    channel = emu.slack.add_channel("digest")
    slack = WebClient(token="xoxb-emulator", base_url=emu.slack_api_url)
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
    shared = slack.files_upload_v2(channel=channel, content=png, filename="chart.png")
    served = requests.get(f"{emu.slack_url}/_admin/files/{shared['file']['id']}")
    assert served.content == png and served.headers["Content-Type"] == "image/png"
    assert requests.get(f"{emu.slack_url}/_admin/files/F0NOTHERE").status_code == 404


def test_the_page_has_an_emoji_for_every_shortcode_the_bot_posts() -> None:
    table = set(re.findall(r'(?:^|[\s{,])"?([a-z0-9_+-]+)"?: "', EMOJI_TABLE.read_text("utf-8")))
    used = {
        (code, str(path.relative_to(ROOT)))
        for path in (ROOT / "bot").rglob("*.py")
        for code in SHORTCODE.findall(path.read_text("utf-8"))
        if code not in NOT_EMOJI
    }
    assert len(used) > 10
    missing = sorted((code, where) for code, where in used if code.strip(":") not in table)
    assert missing == [], f"add these to {EMOJI_TABLE.name}: {missing}"
