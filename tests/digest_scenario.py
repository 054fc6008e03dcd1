"""A small, hand-checked complaints history across several weeks, for the digest tests.

Week 2026-W47 is Mon 16 Nov – Sun 22 Nov (America/Los_Angeles). Business
hours are 09:00–18:00 Mon–Fri; Wed 11 Nov (Veterans Day) is a holiday. P3
answers within 4 business hours and resolves within 5 business days; P1 runs
24x7 (1 h / 1 day). Every expected number in the tests is derived in the
comments here.
"""

from __future__ import annotations

from datetime import datetime

from factories import Desk, la, mention

from bot.app.wiring import REPLY_RULES
from bot.clock import iso
from bot.models import Classification, RiskFlag

PERSONAL = (
    "handle_alice",
    "handle_bob",
    "handle_gina",
    "jane@example.com",
    "415-555-0134",
    "4111 1111 1111 1111",
    "221B Baker Street",
    "helper_bob",
)


def post(
    desk: Desk,
    at: datetime,
    author: str,
    text: str,
    category: str = "shipping_delivery",
    probability: float = 0.9,
    flags: tuple[str, ...] = (),
    platform: str = "x",
    complaint: bool = True,
    followers: int = 1000,
) -> int:
    """Save and classify one post; open or attach its case if it is a complaint (else 0)."""
    item = mention(at, author=author, platform=platform, followers=followers, text=text)
    mention_id, _ = desk.store.save_mention(item, iso(at))
    verdict = Classification(
        complaint, probability, category, tuple(RiskFlag(f, f"test phrase {f}") for f in flags)
    )
    desk.store.save_classification(mention_id, verdict, iso(at))
    if not complaint:
        return 0
    return desk.book.open_or_attach(mention_id, verdict, REPLY_RULES[platform](item)).case_id


def act(desk: Desk, at: datetime) -> None:
    desk.clock.set(at)


def build_weeks(desk: Desk) -> dict[str, int]:
    """Cases G (W46) and A–F (W47); returns their ids by letter."""
    book = desk.book
    ids: dict[str, int] = {}
    # W46. G: P3 shipping, Mon 9 Nov 14:00, answered 15:00 (60 min), never resolved.
    # Its resolution is due after 45 business hours: Mon 4 h, Tue 9, (Wed holiday), Thu 9,
    # Fri 9, Mon 16 Nov 9 = 40, then 5 more: Tue 17 Nov 14:00 (in W47).
    act(desk, la(2026, 11, 9, 14))
    ids["G"] = post(desk, la(2026, 11, 9, 14), "gina", "where is my order?")
    act(desk, la(2026, 11, 9, 15))
    book.transition(ids["G"], "responded", "U_AGENT")
    act(desk, la(2026, 11, 10, 9))
    book.escalate(ids["G"], "U_AGENT", "customer is upset")  # escalation in W46, level 1

    # W47.
    # A: P3 shipping, Mon 16 Nov 10:00; answered 10:30 (30 min); resolved Tue 10:00
    # (Mon 10–18 = 8 h + Tue 9–10 = 1 h: 540 min).
    act(desk, la(2026, 11, 16, 10))
    ids["A"] = post(
        desk,
        la(2026, 11, 16, 10),
        "alice",
        "@acme my parcel never arrived, call me on 415-555-0134 or jane@example.com",
        probability=0.97,
    )
    act(desk, la(2026, 11, 16, 10, 30))
    book.transition(ids["A"], "responded", "U_AGENT")
    # B: P3 shipping, Mon 16:00; answered Tue 10:00 (Mon 16–18 + Tue 9–10: 180 min; due Tue 11).
    act(desk, la(2026, 11, 16, 16))
    ids["B"] = post(
        desk,
        la(2026, 11, 16, 16),
        "bob",
        "still waiting for order 5521 at 221B Baker Street, ask @helper_bob",
        probability=0.95,
    )
    act(desk, la(2026, 11, 17, 9))
    # C: P3 product quality, Tue 09:00; ack due 13:00, answered 15:00 (360 min: breached).
    ids["C"] = post(desk, la(2026, 11, 17, 9), "carl", "the lid cracked", "product_quality")
    act(desk, la(2026, 11, 17, 10))
    book.transition(ids["B"], "responded", "U_AGENT")
    book.transition(ids["A"], "resolved", "U_AGENT", note="reshipped")
    act(desk, la(2026, 11, 17, 13, 1))
    assert book.mark_breached(ids["C"], "ack")  # escalation 1 of W47 (C → level 1)
    act(desk, la(2026, 11, 17, 14, 1))
    assert book.mark_breached(ids["G"], "resolve")  # escalation 2 of W47 (G → level 2)
    act(desk, la(2026, 11, 17, 15))
    book.transition(ids["C"], "responded", "U_AGENT")
    # D: billing, Wed 12:00, dismissed as not a complaint at 13:00.
    act(desk, la(2026, 11, 18, 12))
    ids["D"] = post(desk, la(2026, 11, 18, 12), "dora", "is the sale on?", "billing_refund")
    act(desk, la(2026, 11, 18, 13))
    book.dismiss(ids["D"], "U_AGENT", "not_a_complaint")
    # F: P1 safety, Thu 20:00 (24x7); answered 20:45 (45 min); resolved Fri 19:00 (1380 min),
    # inside both deadlines (Thu 21:00, Fri 20:00). Staff escalate it at 20:10.
    act(desk, la(2026, 11, 19, 20))
    ids["F"] = post(
        desk,
        la(2026, 11, 19, 20),
        "fred",
        "the charger caught fire",
        "product_quality",
        0.99,
        ("safety",),
    )
    act(desk, la(2026, 11, 19, 20, 10))
    book.escalate(ids["F"], "U_AGENT", "told the safety owner")  # escalation 3 of W47
    act(desk, la(2026, 11, 19, 20, 45))
    book.transition(ids["F"], "responded", "U_AGENT")
    act(desk, la(2026, 11, 20, 19))
    book.transition(ids["F"], "resolved", "U_AGENT")
    # E: Sat 21 Nov 10:00, gina again (12 days after G, outside the 72 h follow-up window):
    # a new case, a repeat complainer (P2); her first response falls in W48.
    act(desk, la(2026, 11, 21, 10))
    ids["E"] = post(
        desk,
        la(2026, 11, 21, 10),
        "gina",
        "handle_gina here again: card 4111 1111 1111 1111 charged twice, no parcel",
        probability=0.9,
    )
    # Two posts that are not complaints, on Reddit.
    post(
        desk,
        la(2026, 11, 18, 8),
        "rita",
        "love the new colours",
        platform="reddit",
        complaint=False,
    )
    post(desk, la(2026, 11, 22, 8), "rob", "anyone tried it?", platform="reddit", complaint=False)
    # A privacy request received Wed 18 Nov, and one from September that is overdue.
    requests = desk.store.db.table("privacy_requests")
    requests.insert(
        {
            "received_at": iso(la(2026, 11, 18, 12)),
            "nature": "delete",
            "method": "public post",
            "acknowledge_due_at": iso(la(2026, 12, 3, 12)),
            "respond_due_at": iso(la(2027, 1, 2, 12)),
        }
    )
    requests.insert(
        {
            "received_at": iso(la(2026, 9, 1, 12)),
            "nature": "know",
            "method": "web form",
            "acknowledge_due_at": iso(la(2026, 9, 15, 12)),
            "acknowledged_at": iso(la(2026, 9, 2, 12)),
            "respond_due_at": iso(la(2026, 10, 16, 12)),
        }
    )
    # Monday 23 Nov: E is answered at 09:30, in W48.
    act(desk, la(2026, 11, 23, 9, 30))
    book.transition(ids["E"], "responded", "U_AGENT")
    return ids
