"""``complaintbot classify | evaluate | train``.

Only click and the standard library at import time: the classifier loads when a command runs,
so ``complaintbot --help`` stays fast. ``classify`` and ``evaluate`` run the cached int8 graph
without torch; only ``train`` (and building a missing graph) needs it.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from bot.app import progress
from bot.app.jsonl_io import count_lines, jsonl_line, open_output, read_jsonl
from bot.app.options import config_option, reported_errors
from bot.errors import ComplaintbotError
from bot.text import clean_text
from classifiers.errors import TrainingDataError

if TYPE_CHECKING:
    from bot.config import Config
    from bot.models import Classification
    from classifiers.data import EvaluationSet, StaffLabel
    from classifiers.model import TransformerClassifier
    from classifiers.runtime import OnnxClassifier


def _config(config_path: Path | None) -> Config:
    from bot.config import load_config

    return load_config(config_path)


def _classifier(config: Config) -> OnnxClassifier | TransformerClassifier:
    """The model the bot runs: the registry's current version (``complaintbot model list``)."""
    from bot.app.retrain_model import registry_for
    from classifiers import load_classifier

    folder = registry_for(config).current_path()
    settings = dataclasses.replace(config.classifier, model_dir=folder)
    return load_classifier(settings, config.store.path)


def _result_fields(result: Classification) -> dict[str, Any]:
    return {
        "is_complaint": result.is_complaint,
        "complaint_probability": round(result.complaint_probability, 6),
        "category": result.category,
        "flags": [flag.name for flag in result.flags],
        "reasons": {flag.name: flag.reason for flag in result.flags},
    }


@click.command("classify")
@config_option
@click.argument("text", required=False)
@click.option(
    "--input",
    "input_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="JSONL file, one object with a 'text' field per line ('-' for stdin).",
)
@click.option(
    "--output",
    "output_path",
    # Checked by open_output (one line, before the model loads), not by click.
    type=click.Path(path_type=Path),
    help="Where to write the JSONL results (default: stdout).",
)
def classify_command(
    config_path: Path | None, text: str | None, input_path: Path | None, output_path: Path | None
) -> None:
    """Classify TEXT, or every line of --input: complaint or not, category, risk flags."""
    if (text is None) == (input_path is None):
        raise click.UsageError("give either TEXT or --input FILE")
    with reported_errors():
        config = _config(config_path)
        if text is not None:
            # clean_text: a non-UTF-8 argv byte arrives as a lone surrogate (surrogateescape).
            result = _classifier(config).classify([clean_text(text)])[0]
            verdict = "complaint" if result.is_complaint else "not a complaint"
            click.echo(f"{verdict} (probability {result.complaint_probability:.3f})")
            click.echo(f"category: {result.category}")
            if not result.flags:
                click.echo("flags: none")
            for flag in result.flags:
                click.echo(f"flag {flag.name}: {flag.reason}")
            return
        assert input_path is not None
        _classify_file(config, input_path, output_path)


def _classify_file(config: Config, input_path: Path, output_path: Path | None) -> None:
    """Classify every line of ``input_path`` (``-``: stdin) into ``output_path`` (None: stdout).

    Both paths are opened, and the first chunk of lines read, before the model loads:
    a bad path or an early bad line is reported at once, not after a 10-second load.
    """
    stdin = str(input_path) == "-"
    try:
        reader = sys.stdin.buffer if stdin else input_path.open("rb")
    except OSError as exc:
        raise TrainingDataError(f"{input_path}: {exc.strerror}") from exc
    try:
        sink = open_output(output_path, None if stdin else input_path)
    except ComplaintbotError:
        if not stdin:
            reader.close()
        raise
    classifier: OnnxClassifier | TransformerClassifier | None = None
    count = 0
    started = time.perf_counter()
    # Results printed to the terminal are their own progress; a bar would garble them.
    show = output_path is not None and progress.wanted()
    total = None if stdin or not show else count_lines(input_path)
    try:
        with progress.bar("classifying", " posts", show, total) as shown:
            for chunk in read_jsonl(reader, str(input_path)):
                if classifier is None:
                    classifier = _classifier(config)
                results = classifier.classify([obj["text"] for _, obj in chunk])
                for (_, obj), result in zip(chunk, results, strict=True):
                    sink.write(jsonl_line({**obj, **_result_fields(result)}))
                count += len(chunk)
                shown.add(len(chunk))
    finally:
        if not stdin:
            reader.close()
        if sink is not sys.stdout:
            sink.close()
    if output_path is not None:
        seconds = time.perf_counter() - started
        click.echo(f"classified {count} posts in {seconds:.1f}s -> {output_path}", err=True)


@click.command("evaluate")
@config_option
@click.option(
    "--data",
    "data_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="CSV with 'text' and 'is_complaint' (0/1) columns; optional 0/1 flag columns "
    "(safety, legal, privacy_request, data_exposure) and a 'category' column add per-flag "
    "precision/recall and category accuracy.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def evaluate_command(config_path: Path | None, data_path: Path, as_json: bool) -> None:
    """Score the shipped classifier on a labelled CSV."""
    from classifiers.data import load_evaluation_csv
    from classifiers.metrics import binary_scores

    with reported_errors():
        config = _config(config_path)
        data = load_evaluation_csv(data_path)
        classifier = _classifier(config)
        show = progress.wanted(as_json)
        with progress.bar("scoring", " posts", show, len(data.texts)) as shown:
            if data.flags or data.categories is not None:
                results = _classify_all(classifier, data.texts, shown)
                probabilities = [r.complaint_probability for r in results]
            else:
                results = []
                probabilities = classifier.probabilities(data.texts, progress=shown)
        scores: dict[str, Any] = dict(
            binary_scores(data.labels, probabilities, config.classifier.threshold)
        )
        scores.update(_flag_and_category_scores(data, results))
    if as_json:
        click.echo(json.dumps(scores))
        return
    for key, value in scores.items():
        if isinstance(value, dict):
            parts = (f"{k} {v}" if isinstance(v, int) else f"{k} {v:.4f}" for k, v in value.items())
            click.echo(f"{key:>20}: " + ", ".join(parts))
        else:
            click.echo(f"{key:>20}: {value}" if key == "n" else f"{key:>20}: {value:.4f}")


_EVALUATE_CHUNK = 512


def _classify_all(
    classifier: OnnxClassifier | TransformerClassifier, texts: list[str], shown: progress.Bar
) -> list[Classification]:
    """Full verdicts (flags and category too), in chunks so the bar moves."""
    results: list[Classification] = []
    for start in range(0, len(texts), _EVALUATE_CHUNK):
        results.extend(classifier.classify(texts[start : start + _EVALUATE_CHUNK]))
        shown(len(results), len(texts))
    return results


def _flag_and_category_scores(data: EvaluationSet, results: list[Classification]) -> dict[str, Any]:
    """``flag_<name>`` per flag column and ``category`` when the CSV has one."""
    from classifiers.metrics import category_accuracy, flag_scores

    out: dict[str, Any] = {}
    for name, truth in data.flags.items():
        out[f"flag_{name}"] = flag_scores(truth, [name in r.flag_names for r in results])
    if data.categories is not None:
        predicted = [r.category for r in results]
        out["category"] = category_accuracy(data.categories, predicted, data.labels)
    return out


def _default_training_csv() -> Path:
    """../shared/data/complaints-train.csv from here, else beside the repository."""
    from classifiers.data import DEFAULT_TRAINING_CSV, REPO_ROOT

    if DEFAULT_TRAINING_CSV.is_file():
        return DEFAULT_TRAINING_CSV
    return REPO_ROOT.parent / "shared" / "data" / "complaints-train.csv"


@click.command("train")
@config_option
@click.option(
    "--data",
    "data_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Training CSV (default: ../shared/data/complaints-train.csv).",
)
@click.option(
    "--include-labels",
    is_flag=True,
    help="Also learn from the staff decisions in the store's labels table.",
)
@click.option(
    "--output",
    "output_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where to write the model (default: [classifier] model_dir).",
)
@click.option(
    "--layers",
    type=click.IntRange(1, 6),
    default=None,
    help="Encoder layers to keep (default 6; fewer run faster and score lower, "
    "see docs/model-card.md).",
)
@click.option(
    "--no-teacher",
    is_flag=True,
    help="Learn from the hard labels alone (default: also from the teacher's soft labels in "
    "data/teacher/soft-labels.csv, for the rows it labelled; see docs/model-card.md).",
)
@click.option(
    "--heads-only",
    is_flag=True,
    help="Keep the trained encoder in --output (default: [classifier] model_dir) and refit "
    "only the category and flag heads (about a sixth of a full run's time).",
)
@click.option(
    "--cache-only",
    is_flag=True,
    help="Train nothing: build the int8 graph the bot runs for the trained model in "
    "[classifier] model_dir, into [classifier] cache_dir, unless it is already there "
    "(make setup runs this; needs torch, once per trained model).",
)
def train_command(
    config_path: Path | None,
    data_path: Path | None,
    include_labels: bool,
    output_dir: Path | None,
    layers: int | None,
    no_teacher: bool,
    heads_only: bool,
    cache_only: bool,
) -> None:
    """Fine-tune the complaint classifier on CPU (seeded, under 10 minutes on 2 cores), then
    build the int8 graph the bot runs."""
    if heads_only and layers is not None:
        raise click.UsageError("--layers changes the encoder; --heads-only keeps it")
    if heads_only and no_teacher:
        raise click.UsageError("--no-teacher changes how the encoder learns; --heads-only keeps it")
    if cache_only and (
        heads_only or no_teacher or layers is not None or include_labels or data_path
    ):
        raise click.UsageError("--cache-only trains nothing; give it only --config / --output")
    with reported_errors():
        config = _config(config_path)
        if cache_only:
            _build_cache(config, output_dir)
            return
        data = data_path or _default_training_csv()
        if heads_only:
            _refit_heads(config, data, include_labels, output_dir)
        else:
            _train(config, data, include_labels, output_dir, layers, not no_teacher)
        _build_cache(config, output_dir)


def _ml_extras_missing(exc: ImportError) -> ComplaintbotError:
    return ComplaintbotError(
        f"training needs the train extra (pip install 'complaintbot[train]'): {exc}"
    )


def _build_cache(config: Config, output_dir: Path | None) -> None:
    """Build (or check) the int8 graph for the model in ``output_dir`` (default: model_dir)."""
    from classifiers import cache

    settings = config.classifier
    if output_dir is not None:
        settings = dataclasses.replace(settings, model_dir=output_dir)
    started = time.perf_counter()
    # Built in this process: it has torch (or is about to end), unlike the bot.
    graph = cache.ensure(settings, cache.cache_root(settings, config.store.path), isolated=False)
    seconds = time.perf_counter() - started
    click.echo(f"int8 graph ready in {graph.folder} ({seconds:.1f}s)", err=True)


def _staff_labels(config: Config, include_labels: bool) -> list[StaffLabel]:
    from classifiers.data import load_staff_labels

    if not include_labels:
        return []
    staff = load_staff_labels(config.store.path)
    click.echo(f"staff labels from {config.store.path}: {len(staff)}", err=True)
    return staff


def _refit_heads(config: Config, data: Path, include_labels: bool, output_dir: Path | None) -> None:
    staff = _staff_labels(config, include_labels)
    try:
        from classifiers.pipeline import refit_heads
    except ImportError as exc:
        raise _ml_extras_missing(exc) from exc
    output = output_dir or config.classifier.model_dir
    refit_heads(output, data, staff, base_model=config.classifier.base_model)
    click.echo(f"category and flag heads refit in {output}")


def _train(
    config: Config,
    data: Path,
    include_labels: bool,
    output_dir: Path | None,
    layers: int | None,
    teacher: bool,
) -> None:
    staff = _staff_labels(config, include_labels)
    try:
        import torch

        from classifiers.pipeline import train_and_save
        from classifiers.train import TrainParams
    except ImportError as exc:
        raise _ml_extras_missing(exc) from exc
    torch.set_num_threads(min(2, torch.get_num_threads()))
    output = output_dir or config.classifier.model_dir
    params = TrainParams(max_length=config.classifier.max_length)
    if layers is not None:
        params = dataclasses.replace(params, num_layers=layers)
    if not teacher:
        params = dataclasses.replace(params, distill_weight=0.0)
    with progress.bar("training", " steps", progress.wanted()) as shown:
        meta = train_and_save(
            data,
            output,
            base_model=config.classifier.base_model,
            staff=staff,
            params=params,
            progress=shown.say,
            steps=shown,
        )
    click.echo(f"model written to {output} ({meta['total_seconds']}s)")
