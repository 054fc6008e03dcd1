"""The outbox: one effect per key, retries with backoff, resumed deliveries after a crash."""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from factories import la

from bot.clock import ManualClock
from bot.errors import PermanentError, RateLimited, TransientError
from bot.outbox import MAX_ATTEMPTS, SETTLE_SECONDS, Delivery, DeliveryLock, Outbox, OutboxWorker
from bot.store import Store


def make() -> tuple[Outbox, ManualClock]:
    clock = ManualClock(la(2026, 11, 30, 9))
    return Outbox(Store.memory(), clock), clock


def test_same_key_is_queued_once() -> None:
    outbox, _ = make()
    first = outbox.enqueue("reply", "case:1:reply", {"text": "hi"}, case_id=1)
    again = outbox.enqueue("reply", "case:1:reply", {"text": "hi again"}, case_id=1)
    assert first[1] is True and again == (first[0], False)
    assert outbox.backlog() == 1


def test_delivery_records_the_result_and_is_not_repeated() -> None:
    outbox, _ = make()
    calls: list[Delivery] = []

    def post(delivery: Delivery) -> Mapping[str, Any]:
        calls.append(delivery)
        return {"reply_id": "99"}

    worker = OutboxWorker(outbox, {"reply": post})
    outbox.enqueue("reply", "k", {"text": "hi"})
    assert worker.run_once() == {"done": 1, "retried": 0, "failed": 0, "held": 0}
    assert worker.run_once() == {"done": 0, "retried": 0, "failed": 0, "held": 0}
    assert len(calls) == 1 and calls[0].resumed is False
    row = outbox.row("k")
    assert row is not None and row["status"] == "done" and '"99"' in row["result"]


def test_rate_limit_waits_until_told_and_transient_errors_back_off() -> None:
    outbox, clock = make()
    failures: list[Exception] = [RateLimited("429", retry_after=600), TransientError("502")]

    def flaky(delivery: Delivery) -> Mapping[str, Any]:
        if failures:
            raise failures.pop(0)
        return {"ok": True}

    worker = OutboxWorker(outbox, {"slack": flaky}, rng=random.Random(1))
    outbox.enqueue("slack", "k", {})
    assert worker.run_once()["retried"] == 1
    clock.advance(timedelta(seconds=599))
    assert worker.run_once() == {"done": 0, "retried": 0, "failed": 0, "held": 0}
    clock.advance(timedelta(seconds=1))
    assert worker.run_once()["retried"] == 1
    clock.advance(timedelta(seconds=SETTLE_SECONDS - 1))  # backoff 5-10 s, but settle first
    assert worker.run_once()["done"] == 0
    clock.advance(timedelta(seconds=1))
    assert worker.run_once()["done"] == 1
    row = outbox.row("k")
    assert row is not None and row["attempts"] == 3


def test_permanent_refusal_is_not_retried() -> None:
    outbox, clock = make()
    calls = []

    def refuse(delivery: Delivery) -> Mapping[str, Any]:
        calls.append(delivery)
        raise PermanentError("403 duplicate content")

    worker = OutboxWorker(outbox, {"reply": refuse})
    outbox.enqueue("reply", "k", {})
    assert worker.run_once()["failed"] == 1
    clock.advance(timedelta(days=1))
    worker.run_once()
    assert len(calls) == 1
    row = outbox.row("k")
    assert row is not None and row["status"] == "failed" and "duplicate" in row["last_error"]


def test_a_row_left_sending_by_a_crash_is_resumed_with_a_flag() -> None:
    outbox, clock = make()
    outbox.enqueue("reply", "k", {})
    outbox.claim()  # the process dies here, after claiming and maybe after posting
    seen: list[Delivery] = []

    def check_then_post(delivery: Delivery) -> Mapping[str, Any]:
        seen.append(delivery)
        return {"reply_id": "found-on-platform"}

    worker = OutboxWorker(outbox, {"reply": check_then_post})
    clock.advance(timedelta(seconds=SETTLE_SECONDS - 1))  # the dead attempt may still land
    assert worker.run_once()["done"] == 0 and seen == []
    clock.advance(timedelta(seconds=1))
    worker.run_once()
    assert [(d.resumed, d.attempt) for d in seen] == [(True, 2)]


def test_backoff_grows_and_is_capped() -> None:
    outbox, _ = make()
    worker = OutboxWorker(outbox, {}, rng=random.Random(0))
    assert 2.5 <= worker.backoff(1) <= 5
    assert 40 <= worker.backoff(5) <= 80
    assert 450 <= worker.backoff(30) <= 900


def test_an_unexpected_error_fails_its_own_row_only() -> None:
    outbox, _ = make()
    done: list[str] = []

    def handle(delivery: Delivery) -> Mapping[str, Any]:
        if delivery.key == "bad":
            raise KeyError("data")  # a 2xx answer without the field we read, say
        done.append(delivery.key)
        return {}

    outbox.enqueue("reply", "bad", {})
    outbox.enqueue("reply", "good", {})
    assert OutboxWorker(outbox, {"reply": handle}).run_once() == {
        "done": 1,
        "retried": 1,
        "failed": 0,
        "held": 0,
    }
    row = outbox.row("bad")
    assert done == ["good"] and row is not None
    assert row["status"] == "pending" and "KeyError" in row["last_error"]


def test_transient_failures_give_up_after_max_attempts_unless_the_kind_keeps_trying() -> None:
    outbox, clock = make()
    given_up: list[tuple[str, str]] = []

    def down(delivery: Delivery) -> Mapping[str, Any]:
        raise TransientError("503")

    worker = OutboxWorker(
        outbox,
        {"reply": down, "card": down},
        keep_trying={"card"},
        on_give_up=lambda delivery, error: given_up.append((delivery.key, error)),
    )
    outbox.enqueue("reply", "r", {})
    outbox.enqueue("card", "c", {})
    for _ in range(MAX_ATTEMPTS + 3):
        worker.run_once()
        clock.advance(timedelta(hours=1))
    reply, card = outbox.row("r"), outbox.row("c")
    assert reply is not None and reply["status"] == "failed"
    assert reply["attempts"] == MAX_ATTEMPTS
    assert card is not None and card["status"] == "pending"
    assert card["attempts"] == MAX_ATTEMPTS + 3
    assert given_up == [("r", "TransientError: 503")]
    assert outbox.failed() == 1


def test_a_failed_row_asked_for_again_is_queued_again() -> None:
    outbox, _ = make()
    seen: list[Delivery] = []

    def refuse(delivery: Delivery) -> Mapping[str, Any]:
        raise PermanentError("no")

    def accept(delivery: Delivery) -> Mapping[str, Any]:
        seen.append(delivery)
        return {}

    outbox.enqueue("reply", "k", {"try": 1})
    OutboxWorker(outbox, {"reply": refuse}).run_once()
    row_id, queued = outbox.enqueue("reply", "k", {"try": 2})
    assert queued is True
    OutboxWorker(outbox, {"reply": accept}).run_once()
    assert [(d.id, d.payload, d.attempt) for d in seen] == [(row_id, {"try": 2}, 1)]
    assert outbox.enqueue("reply", "k", {}) == (row_id, False)  # done stays done


def test_one_outbox_run_per_store_across_processes(tmp_path: Path) -> None:
    lock = DeliveryLock(tmp_path / "bot.db")
    with lock.held() as mine:
        assert mine
        with lock.held() as again:  # another thread of this process
            assert not again
        with DeliveryLock(tmp_path / "bot.db").held() as other:  # as another process would
            assert not other
    with DeliveryLock(tmp_path / "bot.db").held() as after:
        assert after
