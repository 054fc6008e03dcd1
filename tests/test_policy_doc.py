"""The policy document's model: sections as the spec lists them, the flowchart from the case
state machine, visible gaps, the holiday list, the stamp, and the legal floors."""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from bot.cases import book
from bot.config import Config, default_config
from bot.guard import ACTS, WORDING_ACTS
from bot.policydoc.build import SECTIONS, build_document
from bot.policydoc.draw import flowchart_svg, layout
from bot.policydoc.facts import config_digest, duration_words
from bot.policydoc.floors import floor_problems, policy_warnings
from bot.policydoc.flow import ACTORS, UNDESCRIBED, case_flow, mermaid, mermaid_id
from bot.policydoc.law import LAWS
from bot.policydoc.render_md import render_markdown

DAY = date(2026, 12, 2)


def spec_titles(shared: Path) -> list[str]:
    """The section and appendix names listed in spec/policy.md, lower case, in its order."""
    text = (shared / "spec" / "policy.md").read_text(encoding="utf-8")
    part = text.split("## Sections the rendered policy must have", 1)[1].split("\n## ", 1)[0]
    flat = " ".join(part.split())
    titles = []
    for group in re.findall(
        r"(?:Core|Further|Appendices): (.*?)(?=(?:Further|Appendices):|$)", flat
    ):
        for item in group.split("·"):
            name = re.sub(r"\(.*?\)", "", item).strip(" .")
            titles.append(re.sub(r"^\d+\s+", "", name).lower())
    return titles


def test_the_sections_are_the_ones_the_spec_lists_in_its_order(shared_dir: Path) -> None:
    wanted = spec_titles(shared_dir)
    assert len(wanted) == 20
    assert [title.lower() for _, title, _ in SECTIONS] == wanted
    numbers = [number for number, _, _ in SECTIONS]
    assert numbers == [str(n) for n in range(1, 16)] + list("ABCDE")


def test_every_law_the_spec_cites_is_in_the_regulatory_summary(shared_dir: Path) -> None:
    text = (shared_dir / "spec" / "policy.md").read_text(encoding="utf-8")
    cited = set(re.findall(r"(?:Code|B&P|CCR|CFR)\s+(\d+(?:\.\d+)?(?:–\d+)?)", text))
    cited |= set(re.findall(r"(?:Code|B&P|CCR)\s+\d+(?:\.\d+)?(?:–\d+)?,\s*(\d+)", text))
    summary = " ".join(law.cite for law in LAWS)
    assert cited and not {number for number in cited if number not in summary}
    for law in LAWS:  # each names the part of the bot that carries it out
        assert any(type(span).__name__ == "Code" for span in law.carried_out(default_config()))


def test_every_state_and_transition_of_the_case_book_is_in_the_picture() -> None:
    flow = case_flow("Acme", 30, 72)
    svg, source = flowchart_svg(flow), mermaid(flow)
    assert {step.id for step in flow.states} == set(book.STATES)
    for state in book.STATES:
        assert f'id="state-{state}"' in svg and f"{mermaid_id(state)}[" in source
    pairs = [(a, b) for a, targets in book.TRANSITIONS.items() for b in targets]
    assert sorted((m.source, m.target) for m in flow.transitions) == sorted(pairs)
    for a, b in pairs:
        assert f'id="transition-{a}-{b}"' in svg, (a, b)
        assert re.search(rf"{mermaid_id(a)} -->\|\"[^\"]+\"\| {mermaid_id(b)}\n", source + "\n")


def test_every_transition_names_its_actor() -> None:
    pairs = {(a, b) for a, targets in book.TRANSITIONS.items() for b in targets}
    assert pairs <= set(ACTORS), f"describe who causes {sorted(pairs - set(ACTORS))} in ACTORS"
    for move in case_flow("Acme", 30, 72).transitions:
        assert move.actor != UNDESCRIBED and move.actor in move.short


def test_a_transition_added_to_the_code_is_drawn_even_back_into_a_cycle(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reopened = {**book.TRANSITIONS, "dismissed": frozenset({"new"})}
    monkeypatch.setattr(book, "TRANSITIONS", reopened)
    flow = case_flow("Acme", 30, 72)
    assert ("dismissed", "new") in layout(flow).back
    assert 'id="transition-dismissed-new"' in flowchart_svg(flow)
    assert f"{mermaid_id('dismissed')} -->|" in mermaid(flow)
    [move] = [m for m in flow.transitions if (m.source, m.target) == ("dismissed", "new")]
    assert move.actor == UNDESCRIBED  # visible in the document until ACTORS says who


def test_unset_owners_and_platforms_are_shown_not_invented() -> None:
    text = render_markdown(build_document(default_config(), DAY))
    assert "**⚠ not configured** — set `[policy.escalation] legal_owner`" in text
    assert "**⚠ nobody named** — set `[slack] approvers or [slack] approver_group`" in text
    assert "**⚠ not monitored now** — set `[x] enabled = true`" in text
    configured = replace(
        default_config(),
        policy=replace(
            default_config().policy,
            escalation=replace(default_config().policy.escalation, legal_owner="S0LEGAL01"),
        ),
    )
    text = render_markdown(build_document(configured, DAY))
    assert "`S0LEGAL01` (Slack user group)" in text
    assert "set `[policy.escalation] legal_owner`" not in text


def test_the_coming_twelve_months_of_holidays_are_listed() -> None:
    text = render_markdown(build_document(default_config(), DAY))
    assert "| 2026-12-25 | Friday | Christmas Day |" in text
    assert "Cesar Chavez Day" in text and "2027-11-26" in text  # day after Thanksgiving
    assert "2026-11-26" not in text and "2027-12-25" not in text  # before, and a year on


def test_company_closed_days_are_listed_too() -> None:
    config = default_config()
    config = replace(config, policy=replace(config.policy, extra_holidays=(date(2026, 12, 24),)))
    assert "| 2026-12-24 | Thursday | company holiday |" in render_markdown(
        build_document(config, DAY)
    )


def test_the_stamp_names_the_date_version_and_a_digest_that_follows_the_config() -> None:
    config = default_config()
    document = build_document(config, DAY)
    assert document.stamp.line.startswith("Version 2026-12-02 · complaintbot ")
    assert document.stamp.digest == config_digest(default_config())
    changed = replace(config, brand=replace(config.brand, name="Other Co"))
    assert config_digest(changed) != document.stamp.digest
    moved = replace(config, store=replace(config.store, path=Path("/elsewhere/bot.db")))
    assert config_digest(moved) == document.stamp.digest  # not a policy setting
    first_page = render_markdown(document).split("## Contents")[0]
    assert "not legal advice" in first_page and "counsel" in first_page


@pytest.mark.parametrize(
    ("text", "clock", "words"),
    [
        ("4h", "business", "4 business hours"),
        ("1d", "business", "1 business day"),
        ("1h", "24x7", "1 hour"),
        ("30m", "24x7", "30 minutes"),
    ],
)
def test_durations_read_as_words(text: str, clock: str, words: str) -> None:
    assert duration_words(text, clock) == words


def test_the_appendix_lists_every_act_the_guard_refuses_with_its_rule() -> None:
    text = render_markdown(build_document(default_config(), DAY))
    for act in WORDING_ACTS:
        assert ACTS[act].does in text and ACTS[act].rule in text


def _policy(config: Config, **changes: object) -> Config:
    return replace(config, policy=replace(config.policy, **changes))


def _with(section: str, **changes: object) -> Config:
    config = default_config()
    if section == "brand":
        return replace(config, brand=replace(config.brand, **changes))
    if section == "policy":
        return _policy(config, **changes)
    part = getattr(config.policy, section)
    return _policy(config, **{section: replace(part, **changes)})


@pytest.mark.parametrize(
    ("config", "key"),
    [
        (
            _with("privacy", acknowledge_business_days=11),
            "[policy.privacy] acknowledge_business_days = 11",
        ),
        (_with("privacy", respond_days=46), "[policy.privacy] respond_days = 46"),
        (_with("privacy", extension_days=60), "[policy.privacy] extension_days = 60"),
        (_with("retention", privacy_log_months=12), "[policy.retention] privacy_log_months = 12"),
        (_with("replies", disclosure="  "), '[policy.replies] disclosure = "  "'),
        (_with("brand", support_url=""), '[brand] support_url = ""'),
        (_with("brand", privacy_url=""), '[brand] privacy_url = ""'),
        (_with("policy", clra_cure_days=31), "[policy] clra_cure_days = 31"),
    ],
)
def test_each_floor_names_the_key_the_value_and_the_floor(config: Config, key: str) -> None:
    [problem] = floor_problems(config)
    assert problem.startswith(key)
    assert re.search(r"\d", problem.split("=", 1)[1]) or "must" in problem


def test_templates_are_held_to_the_reply_rules() -> None:
    config = default_config()
    templates = {**config.policy.templates}
    templates["other"] = "Thanks! We'll refund you if you delete your review."
    templates["privacy_request"] = "Hi @{handle}, DM us your address and we'll sort it."
    banned, unlinked = floor_problems(_policy(config, templates=templates))
    assert banned.startswith('[policy.templates] other = "Thanks!')
    assert 'contains "delete your review"' in banned and "Civ. Code 1670.8" in banned
    assert unlinked.startswith("[policy.templates] privacy_request = ")
    assert unlinked.endswith("include {privacy_url}")


def test_the_shipped_defaults_meet_every_floor_and_warn_of_unnamed_owners() -> None:
    assert floor_problems(default_config()) == []
    [warning] = policy_warnings(default_config())
    assert warning.startswith("warning: [policy.escalation] lead, manager, safety_owner")


def test_building_the_document_loads_no_drawing_or_word_library() -> None:
    probe = (
        "import sys, datetime\n"
        "from bot.config import default_config\n"
        "from bot.policydoc import build, floors, render_docx, render_html, render_md\n"
        "build.build_document(default_config(), datetime.date(2026, 12, 2))\n"
        "floors.floor_problems(default_config())\n"
        "print(sorted(m for m in ('docx', 'matplotlib', 'torch', 'bot.app') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
