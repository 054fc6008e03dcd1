"""`complaintbot policy render` and `policy check` as a person runs them: every format from the
shipped and a changed configuration, the Word file's structure, the HTML in a real browser."""

from __future__ import annotations

import html
import io
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bot.app.cli import cli
from bot.policydoc.build import SECTIONS

REPO = Path(__file__).resolve().parents[1]
PNG = b"\x89PNG\r\n\x1a\n"
HEADINGS = [f"Appendix {n}. {t}" if n.isalpha() else f"{n}. {t}" for n, t, _ in SECTIONS]

CHANGED = """
[policy]
categories = ["shipping_delivery", "product_quality", "billing_refund", "customer_service",
              "account_privacy", "subscriptions", "other"]
[policy.sla.P3]
first_response = "6h"
[policy.escalation]
legal_owner = "U0LEGAL77"
[policy.templates]
product_quality = "Hi @{handle}, our quality team will look into this (case {case_id})."
"""
NEW = ("6 business hours", "U0LEGAL77", "our quality team will look into this", "subscriptions")
OLD = (
    "4 business hours",
    "not configured — set [policy.escalation] legal_owner",
    "the product let you down",
    "website_app",
    "Website and app",
)


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def render(config: Path, form: str, folder: Path) -> tuple[str, bytes]:
    """The document as text a reader sees, and the file's bytes."""
    out = folder / f"policy.{form}"
    result = run(
        "policy", "render", "--format", form, "--output", str(out), "--config", str(config)
    )
    assert result.exit_code == 0, result.output
    data = out.read_bytes()
    if form == "docx":
        return docx_text(data), data
    text = data.decode("utf-8")
    if form == "html":
        return html.unescape(re.sub(r"<[^>]+>", "", text)), data
    return re.sub(r"[*`\\]", "", text), data


def docx_text(data: bytes) -> str:
    from docx import Document

    word = Document(io.BytesIO(data))
    cells = [cell.text for table in word.tables for row in table.rows for cell in row.cells]
    return "\n".join([p.text for p in word.paragraphs] + cells)


@pytest.fixture(scope="module")
def changed_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("policy") / "config.toml"
    path.write_text(CHANGED, encoding="utf-8")
    return path


@pytest.mark.parametrize("form", ["md", "html", "docx"])
def test_every_format_has_every_section_and_the_shipped_values(form: str, tmp_path: Path) -> None:
    text, _ = render(REPO / "config.toml", form, tmp_path)
    for heading in HEADINGS:
        assert heading in text, (form, heading)
    for old in OLD:  # the shipped values, which the changed config replaces
        assert old in text, (form, old)
    assert "not legal advice" in text and "Acme Outfitters" in text


@pytest.mark.parametrize("form", ["md", "html", "docx"])
def test_a_changed_config_changes_every_format(
    form: str, changed_config: Path, tmp_path: Path
) -> None:
    text, _ = render(changed_config, form, tmp_path)
    for new in NEW:
        assert new in text, (form, new)
    for old in OLD:
        assert old not in text, (form, old)
    assert "no definition written for this type yet" in text  # "subscriptions" has none


def test_markdown_goes_to_standard_output_with_the_flowchart_as_mermaid() -> None:
    result = run("policy", "render", "--config", str(REPO / "config.toml"))
    assert result.exit_code == 0 and result.stderr == ""
    assert result.stdout.startswith("# Acme Outfitters: Customer Complaints Policy and Procedures")
    assert "```mermaid\nflowchart TD\n" in result.stdout
    assert "Length on X: at most 280 weighted characters" in result.stdout  # from the connector


def test_the_word_file_has_headings_tables_and_the_flowchart(tmp_path: Path) -> None:
    from docx import Document

    _, data = render(REPO / "config.toml", "docx", tmp_path)
    word = Document(io.BytesIO(data))
    headings = [p.text for p in word.paragraphs if p.style.name == "Heading 1"]
    assert headings == ["Contents", *HEADINGS]
    headers = {tuple(cell.text for cell in table.rows[0].cells) for table in word.tables}
    assert ("Priority", "First public response", "Resolution", "Clock") in headers
    assert ("Level", "Who", "Named", "When a case reaches it") in headers
    sla = next(t for t in word.tables if t.rows[0].cells[0].text == "Priority")
    assert [row.cells[1].text for row in sla.rows[1:]] == [
        "1 hour",
        "2 business hours",
        "4 business hours",
        "1 business day",
    ]
    assert len(word.inline_shapes) == 1
    assert word.core_properties.title.startswith("Acme Outfitters")


def test_docx_without_output_writes_the_default_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = run("policy", "render", "--format", "docx", "--config", str(REPO / "config.toml"))
    assert result.exit_code == 0, result.output
    assert result.stdout == "" and "wrote complaints-policy.docx" in result.stderr
    assert (tmp_path / "complaints-policy.docx").read_bytes().startswith(b"PK")


def test_the_output_suffix_picks_the_format(tmp_path: Path) -> None:
    page = tmp_path / "policy.html"
    result = run("policy", "render", "--output", str(page), "--config", str(REPO / "config.toml"))
    assert result.exit_code == 0
    assert page.read_text(encoding="utf-8").startswith("<!doctype html>")


def test_html_is_one_self_contained_page_that_prints(tmp_path: Path) -> None:
    _, data = render(REPO / "config.toml", "html", tmp_path)
    page = data.decode("utf-8")
    assert "@media print" in page and "break-before:page" in page
    assert not re.search(r"<(script|link|iframe|img)\b", page)
    assert page.count("<svg") == 1 and 'id="transition-new-responded"' in page


def test_an_output_that_cannot_be_written_exits_2(tmp_path: Path) -> None:
    config = str(REPO / "config.toml")
    result = run("policy", "render", "--output", str(tmp_path), "--config", config)
    assert result.exit_code == 2 and "is a directory" in result.stderr
    missing = tmp_path / "no-such-folder" / "policy.md"
    result = run("policy", "render", "--output", str(missing), "--config", config)
    assert result.exit_code == 2
    assert (
        result.stderr == f"error: --output {missing}: cannot write it (No such file or directory)\n"
    )


def test_policy_check_passes_the_shipped_config() -> None:
    result = run("policy", "check", "--config", str(REPO / "config.toml"))
    assert (result.exit_code, result.stdout) == (0, "policy OK\n")


@pytest.mark.parametrize(
    ("toml", "key"),
    [
        (
            "[policy.privacy]\nacknowledge_business_days = 11\n",
            "[policy.privacy] acknowledge_business_days = 11",
        ),
        ("[policy.privacy]\nrespond_days = 46\n", "[policy.privacy] respond_days = 46"),
        ("[policy.privacy]\nextension_days = 90\n", "[policy.privacy] extension_days = 90"),
        (
            "[policy.retention]\nprivacy_log_months = 23\n",
            "[policy.retention] privacy_log_months = 23",
        ),
        ('[policy.replies]\ndisclosure = ""\n', '[policy.replies] disclosure = ""'),
        ('[brand]\nsupport_url = ""\n', '[brand] support_url = ""'),
        ('[brand]\nprivacy_url = ""\n', '[brand] privacy_url = ""'),
        ("[policy]\nclra_cure_days = 45\n", "[policy] clra_cure_days = 45"),
        (
            '[policy.templates]\nother = "Delete your review and we will refund you."\n',
            "[policy.templates] other = ",
        ),
        (
            '[policy.templates]\nprivacy_request = "Email us your request."\n',
            "[policy.templates] privacy_request = ",
        ),
    ],
)
def test_policy_check_refuses_each_floor_naming_the_key(
    toml: str, key: str, tmp_path: Path
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(toml, encoding="utf-8")
    result = run("policy", "check", "--config", str(path))
    assert (result.exit_code, result.stdout) == (2, "")
    [line] = [line for line in result.stderr.splitlines() if not line.startswith("warning:")]
    assert line.startswith(key)
    assert re.search(r"(floor|limit|must|never|required)", line)


def test_config_check_runs_the_floors_too(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[policy.privacy]\nrespond_days = 60\n", encoding="utf-8")
    result = run("config", "check", "--config", str(path))
    assert (result.exit_code, result.stdout) == (2, "")
    assert "[policy.privacy] respond_days = 60: above the legal limit of 45 days" in result.stderr


PROBE = """<script>
const box = document.querySelector('#flowchart svg').getBoundingClientRect();
const words = [...document.querySelectorAll('#flowchart svg text')].map(t => t.textContent);
document.body.dataset.svg = Math.round(box.width) + 'x' + Math.round(box.height) + ':' +
  words.join(' ');
</script>"""
ONLY_FLOWCHART = "<style>body>*:not(section:has(#flowchart)){display:none}</style>"


@pytest.mark.skipif(shutil.which("chromium") is None, reason="headless Chromium not installed")
def test_html_in_headless_chromium_shows_the_flowchart(tmp_path: Path) -> None:
    from matplotlib.image import imread

    _, data = render(REPO / "config.toml", "html", tmp_path)
    page = data.decode("utf-8")
    probe, alone, shot = tmp_path / "probe.html", tmp_path / "alone.html", tmp_path / "shot.png"
    probe.write_text(page.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    alone.write_text(page.replace("</head>", ONLY_FLOWCHART + "</head>"), encoding="utf-8")
    chromium = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"]
    dom = subprocess.run(
        [*chromium, "--dump-dom", "--virtual-time-budget=5000", probe.as_uri()],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    measured = re.search(r'data-svg="(\d+)x(\d+):([^"]*)"', dom)
    assert measured, "the probe did not run"
    width, height, words = int(measured[1]), int(measured[2]), html.unescape(measured[3])
    assert width > 400 and height > 400
    for label in ("new", "responded", "resolved", "closed", "dismissed", "an approver: Dismiss"):
        assert label in words, label
    subprocess.run(
        [*chromium, f"--screenshot={shot}", "--window-size=1000,1400", alone.as_uri()],
        check=True,
        capture_output=True,
        timeout=60,
    )
    assert shot.read_bytes().startswith(PNG)
    pixels = imread(shot)[..., :3]
    state_fill = (abs(pixels - [0xDB / 255, 0xE8 / 255, 0xF6 / 255]).sum(axis=-1) < 0.03).mean()
    assert state_fill > 0.01, "no state box painted"  # blank or unstyled pages have none
