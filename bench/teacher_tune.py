"""The fine-tuned teacher: all-mpnet-base-v2's top layers fine-tuned per pair of folds, giving
out-of-fold soft labels that a cross-validated student can use without seeing its own fold.

Offline and run once, never at run time (``bench/teacher.py`` holds the frozen teacher). Two steps:

    nice -n 19 python bench/teacher_tune.py pairs --model /tmp/mpnet/all-mpnet-base-v2 \\
        --output /tmp/teacher-pairs.jsonl          # ten teachers; resumes where it stopped
    python bench/teacher_tune.py labels --pairs /tmp/teacher-pairs.jsonl \\
        --soft data/teacher/soft-labels.csv        # adds the tuned columns, seconds

and, for the teacher's labels on seeded variants of the posts (``classifiers.augment``):

    nice -n 5 python bench/teacher_tune.py augment --model /tmp/mpnet/all-mpnet-base-v2 \
        --output /tmp/aug.jsonl [--fold 0 --fold 1 ...]   # one teacher per student fold
    python bench/teacher_tune.py augment-labels --records /tmp/aug.jsonl

Why pairs: the five folds are ``classifiers.crossval``'s (seed 13). The teacher of pair {j, k}
trains on the other three folds and predicts folds j and k. For the student of fold k, a post in
fold j gets its label from pair {j, k}: a teacher that saw neither the post nor fold k. For the
shipped student, a post in fold j gets the mean of its four pair teachers, none of which trained
on it. Ten teachers cover both uses.

Why the top layers only: the bottom layers' output for every post is computed once and kept in
memory; each teacher fine-tunes a fresh copy of the top ``--tune-layers`` layers on it, which
costs about a third of a full fine-tune on these two cores.
"""

from __future__ import annotations

import argparse
import copy
import csv
import itertools
import json
import math
import os
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.teacher import FOLDS, SEED, _training_csv  # noqa: E402
from classifiers.augment import AUGMENTED_LABELS, make_variants  # noqa: E402
from classifiers.data import fold_of_rows, load_binary_csv, stratified_folds  # noqa: E402
from classifiers.metrics import binary_scores  # noqa: E402

MAX_TOKENS = 96


def lower_states(model: Any, tokenizer: Any, texts: list[str], bottom: int) -> list[Any]:
    """Each text's hidden states after the first ``bottom`` layers (unpadded, one per text)."""
    import torch

    states: list[Any] = [None] * len(texts)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    started = time.perf_counter()
    with torch.inference_mode():
        for start in range(0, len(order), 64):
            rows = order[start : start + 64]
            batch = tokenizer(
                [texts[i] for i in rows],
                padding=True,
                truncation=True,
                max_length=MAX_TOKENS,
                return_tensors="pt",
            )
            out = model(**batch, output_hidden_states=True)
            hidden = out.hidden_states[bottom]
            for slot, i in enumerate(rows):
                length = int(batch["attention_mask"][slot].sum())
                states[i] = hidden[slot, :length].clone()
    seconds = time.perf_counter() - started
    print(f"lower states for {len(texts)} posts in {seconds:.0f}s", file=sys.stderr, flush=True)
    return states


class TopLayers:
    """The trainable top of the encoder plus a mean-pooled linear head."""

    def __init__(self, model: Any, bottom: int, seed: int) -> None:
        import torch

        torch.manual_seed(seed)
        self.encoder = model.encoder
        self.layers = torch.nn.ModuleList(copy.deepcopy(list(model.encoder.layer[bottom:])))
        self.head = torch.nn.Linear(model.config.hidden_size, 1)
        self.dropout = torch.nn.Dropout(0.1)

    def modules(self) -> list[Any]:
        return [self.layers, self.head, self.dropout]

    def train(self, on: bool) -> None:
        for module in self.modules():
            module.train(on)

    def logits(self, states: list[Any], rows: list[int]) -> Any:
        import torch

        longest = max(states[i].shape[0] for i in rows)
        width = states[rows[0]].shape[1]
        hidden = torch.zeros(len(rows), longest, width)
        mask = torch.zeros(len(rows), longest, dtype=torch.long)
        for slot, i in enumerate(rows):
            n = states[i].shape[0]
            hidden[slot, :n] = states[i]
            mask[slot, :n] = 1
        bias = self.encoder.compute_position_bias(hidden)
        # Additive, as MPNet adds it to the scores: 0 for tokens, very negative for padding.
        extended = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
        for layer in self.layers:
            hidden = layer(hidden, attention_mask=extended, position_bias=bias)[0]
        weights = mask.unsqueeze(-1).float()
        pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1.0)
        return self.head(self.dropout(pooled)).squeeze(-1)


def train_teacher(
    model: Any,
    states: list[Any],
    labels: list[int],
    train: list[int],
    args: argparse.Namespace,
) -> TopLayers:
    """Fine-tune a fresh top on ``train`` rows: class-weighted BCE, AdamW, linear warm-up/decay."""
    import torch

    top = TopLayers(model, args.bottom, SEED)
    rng = random.Random(SEED)
    y = torch.tensor(labels, dtype=torch.float32)
    positives = sum(labels[i] for i in train)
    pos_weight = torch.tensor((len(train) - positives) / max(positives, 1))
    optimizer = torch.optim.AdamW(
        [
            {"params": top.layers.parameters(), "lr": args.learning_rate},
            {"params": top.head.parameters(), "lr": args.head_learning_rate},
        ],
        weight_decay=0.01,
    )
    steps = math.ceil(len(train) / args.batch_size) * args.epochs
    warmup = max(1, steps // 10)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, max(0.0, (steps - s) / max(1, steps - warmup)))
    )
    top.train(True)
    started = time.perf_counter()
    for epoch in range(args.epochs):
        order = list(train)
        rng.shuffle(order)
        total = 0.0
        batches = [order[i : i + args.batch_size] for i in range(0, len(order), args.batch_size)]
        for rows in batches:
            loss = torch.nn.functional.binary_cross_entropy_with_logits(
                top.logits(states, rows), y[rows], pos_weight=pos_weight
            )
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            total += loss.item()
        seconds = time.perf_counter() - started
        print(
            f"  epoch {epoch + 1}/{args.epochs}: loss {total / len(batches):.4f} ({seconds:.0f}s)",
            file=sys.stderr,
            flush=True,
        )
    top.train(False)
    return top


def predict(top: TopLayers, states: list[Any], rows: list[int]) -> list[float]:
    """Complaint probabilities for ``rows``."""
    import torch

    out: list[float] = []
    with torch.inference_mode():
        for start in range(0, len(rows), 64):
            chunk = rows[start : start + 64]
            out.extend(torch.sigmoid(top.logits(states, chunk)).tolist())
    return out


def _done_pairs(path: Path) -> set[tuple[int, int]]:
    if not path.is_file():
        return set()
    lines = path.read_text(encoding="utf-8").splitlines()
    return {tuple(json.loads(line)["pair"]) for line in lines if line.strip()}  # type: ignore[misc]


def _load_mpnet(path: Path) -> tuple[Any, Any]:
    """mpnet and its tokenizer, every weight frozen (a teacher unfreezes its top layers)."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    torch.set_num_threads(2)
    tokenizer = AutoTokenizer.from_pretrained(str(path))
    model = AutoModel.from_pretrained(str(path)).eval()
    for p in model.parameters():
        p.requires_grad = False
    return model, tokenizer


def run_pairs(args: argparse.Namespace) -> None:
    """Train the pair teachers not yet in ``--output`` and append each one's predictions."""
    texts, labels = load_binary_csv(_training_csv(args.data))
    folds = stratified_folds(labels, FOLDS, SEED)
    wanted = [tuple(int(x) for x in p.split("-")) for p in args.pair] or list(
        itertools.combinations(range(FOLDS), 2)
    )
    todo = [p for p in wanted if p not in _done_pairs(args.output)]
    if not todo:
        print("every pair is done", file=sys.stderr)
        return
    model, tokenizer = _load_mpnet(args.model)
    args.bottom = model.config.num_hidden_layers - args.tune_layers
    states = lower_states(model, tokenizer, texts, args.bottom)
    for j, k in todo:
        started = time.perf_counter()
        held = {*folds[j], *folds[k]}
        train = [i for i in range(len(texts)) if i not in held]
        print(f"pair {j}-{k}: training on {len(train)} posts", file=sys.stderr, flush=True)
        for param in model.encoder.layer[args.bottom :].parameters():
            param.requires_grad = True
        top = train_teacher(model, states, labels, train, args)
        record: dict[str, Any] = {"pair": [j, k], "tune_layers": args.tune_layers}
        for fold in (j, k):
            probs = predict(top, states, folds[fold])
            scores = binary_scores([labels[i] for i in folds[fold]], probs)
            record[f"fold_{fold}"] = {
                "index": folds[fold],
                "probability": [round(p, 5) for p in probs],
                "macro_f1": round(scores["macro_f1"], 4),
            }
        record["seconds"] = round(time.perf_counter() - started, 1)
        with args.output.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(record) + "\n")
        brief = {f"fold_{f}": record[f"fold_{f}"]["macro_f1"] for f in (j, k)}
        print(json.dumps({"pair": [j, k], **brief, "seconds": record["seconds"]}), flush=True)


def run_augment(args: argparse.Namespace) -> None:
    """One teacher per student fold k (trained on the other four folds; ``all``: on every
    post) labels the variants of the posts outside fold k (``classifiers.augment``). A fold
    already in ``--output`` is skipped."""
    texts, labels = load_binary_csv(_training_csv(args.data))
    folds = stratified_folds(labels, FOLDS, SEED)
    fold_of = fold_of_rows(folds, len(texts))
    variants = make_variants(texts, fold_of, args.variants, SEED)
    done = set()
    if args.output.is_file():
        lines = args.output.read_text(encoding="utf-8").splitlines()
        done = {json.loads(line)["fold"] for line in lines if line.strip()}
    todo = [f for f in args.fold if f not in done]
    if not todo:
        print("every fold is done", file=sys.stderr)
        return
    model, tokenizer = _load_mpnet(args.model)
    args.bottom = model.config.num_hidden_layers - args.tune_layers
    states = lower_states(model, tokenizer, texts + [v.text for v in variants], args.bottom)
    n = len(texts)
    for name in todo:
        fold = None if name == "all" else int(name)
        started = time.perf_counter()
        train = [i for i in range(n) if fold_of[i] != fold]
        print(f"fold {name}: training on {len(train)} posts", file=sys.stderr, flush=True)
        for param in model.encoder.layer[args.bottom :].parameters():
            param.requires_grad = True
        top = train_teacher(model, states, labels, train, args)
        picked = [(n + at, v) for at, v in enumerate(variants) if fold_of[v.source] != fold]
        chosen = [v for _, v in picked]
        probs = predict(top, states, [row for row, _ in picked])
        record: dict[str, Any] = {
            "fold": name,
            "variants": args.variants,
            "labels": [
                [v.source, v.number, round(p, 5)] for v, p in zip(chosen, probs, strict=True)
            ],
        }
        if fold is not None:
            held = predict(top, states, folds[fold])
            record["macro_f1"] = round(
                binary_scores([labels[i] for i in folds[fold]], held)["macro_f1"], 4
            )
        record["seconds"] = round(time.perf_counter() - started, 1)
        with args.output.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(record) + "\n")
        print(json.dumps({k: v for k, v in record.items() if k != "labels"}), flush=True)


def write_augmented_labels(records: Path, data: Path | None, out: Path) -> None:
    """The variants' labels as a CSV without text: tweet_id, variant, method, digest (of the
    text the teacher saw), ``teacher_outer_K`` (fold K's teacher) and ``teacher`` (the teacher
    of every post). A teacher missing from ``records`` keeps its column from an existing
    ``out`` where the variant's text is unchanged, so teachers can be run in several sittings."""
    from classifiers.augment import digest

    path = _training_csv(data)
    texts, labels = load_binary_csv(path)
    with path.open(newline="", encoding="utf-8") as fh:
        ids = [row["tweet_id"] for row in csv.DictReader(fh)]
    columns: dict[str, dict[tuple[int, int], float]] = {}
    count = 0
    for line in records.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        name = "teacher" if record["fold"] == "all" else f"teacher_outer_{record['fold']}"
        columns[name] = {(s, v): p for s, v, p in record["labels"]}
        count = max(count, record["variants"])
    earlier: dict[tuple[str, int], dict[str, str]] = {}
    if out.is_file():
        with out.open(newline="", encoding="utf-8") as fh:
            earlier = {(row["tweet_id"], int(row["variant"])): row for row in csv.DictReader(fh)}
        count = max([count, *(number + 1 for _, number in earlier)])
    fold_of = fold_of_rows(stratified_folds(labels, FOLDS, SEED), len(texts))
    names = [f"teacher_outer_{k}" for k in range(FOLDS)] + ["teacher"]
    lines = []
    for v in make_variants(texts, fold_of, count, SEED):
        fingerprint = digest(v.text)
        before = earlier.get((ids[v.source], v.number), {})
        if before.get("digest") != fingerprint:
            before = {}
        cells = [
            f"{columns[name][(v.source, v.number)]:.4f}"
            if (v.source, v.number) in columns.get(name, {})
            else ("" if name in columns else before.get(name) or "")
            for name in names
        ]
        if any(cells):
            lines.append([ids[v.source], v.number, v.method, fingerprint, *cells])
    with out.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["tweet_id", "variant", "method", "digest", *names])
        writer.writerows(lines)


def tuned_columns(path: Path, labels: list[int]) -> dict[str, Any]:
    """From the pair records: ``tuned`` (mean of a post's four pair teachers) and
    ``tuned_outer_K`` (for a post in fold j: pair {j, K}'s probability; fold K's own posts get
    ``tuned``, which the student of fold K never trains on), with per-fold scores."""
    n = len(labels)
    by_pair: dict[tuple[int, int], dict[int, float]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        j, k = record["pair"]
        probs: dict[int, float] = {}
        for fold in (j, k):
            part = record[f"fold_{fold}"]
            probs.update(zip(part["index"], part["probability"], strict=True))
        by_pair[(j, k)] = probs
    missing = [p for p in itertools.combinations(range(FOLDS), 2) if p not in by_pair]
    if missing:
        raise SystemExit(f"{path}: pairs not trained yet: {missing}")
    folds = stratified_folds(labels, FOLDS, SEED)
    fold_of = {i: f for f, rows in enumerate(folds) for i in rows}
    pair_of = {
        (a, b): by_pair[(min(a, b), max(a, b))]
        for a in range(FOLDS)
        for b in range(FOLDS)
        if a != b
    }
    tuned = [
        statistics.mean(pair_of[(fold_of[i], k)][i] for k in range(FOLDS) if k != fold_of[i])
        for i in range(n)
    ]
    outer = [
        [tuned[i] if fold_of[i] == k else pair_of[(fold_of[i], k)][i] for i in range(n)]
        for k in range(FOLDS)
    ]
    per_fold = [
        binary_scores([labels[i] for i in rows], [tuned[i] for i in rows])["macro_f1"]
        for rows in folds
    ]
    return {"tuned": tuned, "outer": outer, "per_fold": per_fold}


def write_columns(soft_path: Path, result: dict[str, Any], tuned_weight: float) -> None:
    """Add (or replace) the tuned columns in the soft-label CSV, and the ``teacher`` columns
    the student reads: ``tuned_weight`` x tuned + the rest x the frozen teacher (``mpnet``),
    column by column, so the nested ``teacher_outer_K`` stay nested."""
    with soft_path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    rows.sort(key=lambda r: int(r["row"]))
    w = tuned_weight
    for i, row in enumerate(rows):
        row["tuned"] = f"{result['tuned'][i]:.4f}"
        row["teacher"] = f"{w * result['tuned'][i] + (1 - w) * float(row['mpnet']):.4f}"
        for k in range(FOLDS):
            tuned = result["outer"][k][i]
            row[f"tuned_outer_{k}"] = f"{tuned:.4f}"
            frozen = float(row[f"mpnet_outer_{k}"])
            row[f"teacher_outer_{k}"] = f"{w * tuned + (1 - w) * frozen:.4f}"
    with soft_path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _teacher_options(parser: argparse.ArgumentParser) -> None:
    """The options every teacher-training subcommand shares: the weights, the data, the output
    records and the fine-tuning recipe."""
    parser.add_argument("--model", type=Path, required=True, help="the unzipped all-mpnet-base-v2")
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument(
        "--output", type=Path, required=True, help="a .jsonl file (outside the repo)"
    )
    parser.add_argument("--tune-layers", type=int, default=4)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--learning-rate", type=float, default=5e-5)
    parser.add_argument("--head-learning-rate", type=float, default=1e-3)


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("pairs", help="train the pair teachers (resumable)")
    p.add_argument("--pair", action="append", default=[], metavar="J-K", help="only these pairs")
    _teacher_options(p)
    s = sub.add_parser("labels", help="add the tuned columns to the soft-label CSV")
    s.add_argument("--pairs", type=Path, required=True)
    s.add_argument("--data", type=Path, default=None)
    s.add_argument("--soft", type=Path, required=True)
    s.add_argument(
        "--tuned-weight", type=float, default=1.0, help="share of the tuned teacher in `teacher`"
    )
    a = sub.add_parser("augment", help="label the posts' variants, one teacher per fold")
    a.add_argument(
        "--fold", action="append", default=[], help="0-4 or all (repeatable; default: every one)"
    )
    a.add_argument("--variants", type=int, default=4, help="variants per post")
    _teacher_options(a)
    w = sub.add_parser("augment-labels", help="write the variants' labels CSV")
    w.add_argument("--records", type=Path, required=True)
    w.add_argument("--data", type=Path, default=None)
    w.add_argument("--out", type=Path, default=AUGMENTED_LABELS)
    args = parser.parse_args()
    if args.command == "pairs":
        run_pairs(args)
        return
    if args.command == "augment":
        args.fold = args.fold or [*(str(k) for k in range(FOLDS)), "all"]
        run_augment(args)
        return
    if args.command == "augment-labels":
        write_augmented_labels(args.records, args.data, args.out)
        return
    _, labels = load_binary_csv(_training_csv(args.data))
    result = tuned_columns(args.pairs, labels)
    write_columns(args.soft, result, args.tuned_weight)
    per_fold = [round(f, 4) for f in result["per_fold"]]
    mean, sd = statistics.mean(per_fold), statistics.stdev(per_fold)
    print(json.dumps({"tuned_macro_f1": per_fold, "mean": round(mean, 4), "sd": round(sd, 4)}))


if __name__ == "__main__":
    main()
