"""A new installation does not report on weeks from before it ran."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from erasure_scenario import make_daemon

from bot.digest.weeks import Week
from emulators import Emulators


def digests_posted(emu: Emulators) -> list[str]:
    return [m["text"] for m in emu.slack.messages() if "digest" in m["text"].lower()]


def test_the_first_start_posts_no_digest_for_the_week_before_it(
    emu: Emulators, tmp_path: Path
) -> None:
    daemon, clock = make_daemon(emu, tmp_path)
    zone = daemon.config.digest.timezone
    daemon.run_cycle()
    daemon.post_digest()
    assert digests_posted(emu) == []
    assert daemon.store.db.execute("SELECT count(*) FROM digests").fetchone()[0] == 0

    installed_week = Week.containing(clock.now(), zone)
    clock.set(installed_week.end + timedelta(hours=12))  # past Monday 09:00 local
    daemon.post_digest()
    [posted] = daemon.store.db.execute("SELECT week FROM digests").fetchall()
    assert posted[0] == installed_week.label and len(digests_posted(emu)) == 1
