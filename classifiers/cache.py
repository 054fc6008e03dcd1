"""The built int8 graph, cached on disk per trained artefact: the one place that finds,
checks, builds and loads it.

Building the graph (merge the fine-tuning changes into the base encoder, export to ONNX,
smooth, quantize) needs torch and takes seconds; running it needs only onnxruntime. So it is
built once per artefact -- by ``complaintbot train``, ``complaintbot train --cache-only``
(``make setup``) or on first use -- and every later process loads the file.

Layout: ``<cache_dir>/<digest[:16]>/`` holding ``graph.int8.onnx``, the base model's
``tokenizer.json`` and ``manifest.json``. The digest is the SHA-256 of the artefact's
meta.json and weights (``artefact_digest``): a retrained or refit model gets a new folder, and
a model version can name its graph by it. The manifest records the full digest, the builder's
format, the ``base_model`` setting and each file's SHA-256; a folder whose manifest or files do
not match is stale or corrupt, and is rebuilt (one log line), never used.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.config import ClassifierSettings
from classifiers.artefacts import META_FILE, WEIGHTS_FILE, read_meta
from classifiers.errors import CacheBuildFailed, ModelNotFound

log = logging.getLogger("complaintbot.classifier")

# Bump when the builder writes a different graph for the same artefact (smoothing, opset,
# quantization): every existing cache folder then reads as stale and is rebuilt.
CACHE_FORMAT = "complaintbot-graph/2"  # 2: the graph also outputs the sentence vector
GRAPH_FILE = "graph.int8.onnx"
TOKENIZER_FILE = "tokenizer.json"
MANIFEST_FILE = "manifest.json"
DEFAULT_FOLDER = "classifier-cache"
CACHE_ONLY_COMMAND = "complaintbot train --cache-only"


class StaleCache(Exception):
    """A cache folder that must not be used; the message says why."""


@dataclass(frozen=True)
class CachedGraph:
    """A checked cache folder: the int8 graph, its tokenizer and the artefact's meta."""

    folder: Path
    digest: str
    meta: dict[str, Any]

    @property
    def graph(self) -> Path:
        return self.folder / GRAPH_FILE

    @property
    def tokenizer(self) -> Path:
        return self.folder / TOKENIZER_FILE


def _sha256(paths: Iterable[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        with path.open("rb") as handle:
            digest.update(hashlib.file_digest(handle, "sha256").digest())
    return digest.hexdigest()


def artefact_digest(model_dir: Path) -> str:
    """SHA-256 of the trained artefact (meta.json and weights): the cache key."""
    read_meta(model_dir)  # a missing or foreign folder fails here, naming model_dir
    return _sha256([model_dir / META_FILE, model_dir / WEIGHTS_FILE])


def cache_root(settings: ClassifierSettings, store_path: Path | None = None) -> Path:
    """``[classifier] cache_dir``, else ``classifier-cache`` beside the store (the one folder a
    hardened deployment may write)."""
    if settings.cache_dir is not None:
        return settings.cache_dir
    if store_path is None:
        from bot.settings import StoreSettings

        store_path = StoreSettings().path
    return store_path.parent / DEFAULT_FOLDER


def cache_folder(root: Path, digest: str) -> Path:
    return root / digest[:16]


def find(settings: ClassifierSettings, root: Path, digest: str) -> CachedGraph:
    """The checked cache folder for ``digest``; FileNotFoundError when there is none,
    StaleCache when it does not match the artefact, the settings or its own files."""
    folder = cache_folder(root, digest)
    if not folder.exists():
        raise FileNotFoundError(folder)
    try:
        manifest = json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise StaleCache(f"unreadable {MANIFEST_FILE} ({exc})") from None
    if not isinstance(manifest, dict):
        raise StaleCache(f"{MANIFEST_FILE} is not an object")
    expected = {
        "format": CACHE_FORMAT,
        "artefact_sha256": digest,
        "base_model": settings.base_model,
    }
    for key, want in expected.items():
        if manifest.get(key) != want:
            raise StaleCache(f"built for {key} {manifest.get(key)!r}, not {want!r}")
    for name in (GRAPH_FILE, TOKENIZER_FILE):
        try:
            actual = _sha256([folder / name])
        except OSError as exc:
            raise StaleCache(f"{name} unreadable ({exc.strerror or exc})") from None
        if actual != manifest.get("files", {}).get(name):
            raise StaleCache(f"{name} does not match its recorded SHA-256 (corrupt)")
    meta = manifest.get("meta")
    if not isinstance(meta, dict):
        raise StaleCache(f"{MANIFEST_FILE} holds no model meta")
    return CachedGraph(folder, digest, meta)


def _train_extra_missing(settings: ClassifierSettings, root: Path, digest: str, name: str) -> Any:
    return ModelNotFound(
        "cache_dir",
        root,
        f"no int8 graph is built for the model in {settings.model_dir} "
        f"(digest {digest[:16]}), and building one needs the train extra ({name} is "
        "not installed). Build it where that is installed "
        f"(pip install 'complaintbot[train]', then `{CACHE_ONLY_COMMAND}`, or `make setup`) "
        "and copy the folder here, or point [classifier] cache_dir at a folder holding it",
    )


def build(settings: ClassifierSettings, root: Path, digest: str) -> CachedGraph:
    """Build the int8 graph for the artefact into its cache folder (needs torch; seconds).

    Written into a temporary folder beside it and renamed into place, so a reader never
    sees half a cache, and of two processes building at once the second keeps the first's."""
    try:
        from classifiers.model import TransformerClassifier
    except ImportError as exc:
        raise _train_extra_missing(settings, root, digest, exc.name or str(exc)) from None
    folder = cache_folder(root, digest)
    try:
        root.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=".building-", dir=root))
    except OSError as exc:
        raise ModelNotFound(
            "cache_dir", root, f"cannot write the int8 graph here ({exc.strerror or exc})"
        ) from None
    try:
        model = TransformerClassifier(settings, quantized=False)
        model.export_int8(work, GRAPH_FILE)
        expose_sentence_vector(work / GRAPH_FILE)
        model.save_tokenizer(work / TOKENIZER_FILE)
        manifest = {
            "format": CACHE_FORMAT,
            "artefact_sha256": digest,
            "model_dir": str(settings.model_dir),
            "base_model": settings.base_model,
            "files": {name: _sha256([work / name]) for name in (GRAPH_FILE, TOKENIZER_FILE)},
            "meta": model.meta,
        }
        (work / MANIFEST_FILE).write_text(
            json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8"
        )
        if folder.exists():
            _discard(folder)
        try:
            work.rename(folder)
        except OSError:
            if not folder.is_dir():  # another process did not just win the race
                raise
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    return find(settings, root, digest)


def expose_sentence_vector(graph: Path) -> None:
    """Make the graph also output the mean-pooled middle-layer states as ``sentence_vector``
    (the incidents' sentence representation): the tensor is computed anyway, for the
    category head, so classify costs the same. Found by its shape in the exported graph:
    the other mean (Div by the same token count) than the one the complaint head reads, or
    that one when the model has a single layer."""
    import onnx
    from onnx import TensorProto, helper

    from classifiers.runtime import SENTENCE

    model = onnx.load(str(graph))
    made_by = {out: node for node in model.graph.node for out in node.output}
    head = next(
        (
            node
            for node in model.graph.node
            if node.op_type in ("MatMulInteger", "MatMul", "Gemm")
            and any(name.startswith("net.head.weight") for name in node.input)
        ),
        None,
    )
    if head is None:
        log.warning(
            "the graph has no complaint head to find the sentence vector by; incidents are off"
        )
        return
    last = head.input[0]
    if made_by[last].op_type == "DynamicQuantizeLinear":
        last = made_by[last].input[0]
    count = made_by[last].input[1]
    middle = next(
        (
            node.output[0]
            for node in model.graph.node
            if node.op_type == "Div" and node.input[1] == count and node.output[0] != last
        ),
        last,  # a one-layer model: its middle layer is its last, one mean in the graph
    )
    model.graph.node.append(helper.make_node("Identity", [middle], [SENTENCE], name="/sentence"))
    model.graph.output.append(
        helper.make_tensor_value_info(SENTENCE, TensorProto.FLOAT, ["batch", None])
    )
    onnx.save(model, str(graph))


def _discard(folder: Path) -> None:
    """Move a stale folder aside, then delete it: a reader mid-load keeps its open files."""
    aside = folder.with_name(f".stale-{folder.name}-{os.getpid()}")
    folder.rename(aside)
    shutil.rmtree(aside, ignore_errors=True)


def build_in_child(settings: ClassifierSettings, root: Path, digest: str) -> CachedGraph:
    """``build`` in a fresh interpreter, so torch (about 500 MB) never stays in this one:
    a daemon that had to build its graph at start runs as lean as one that found it."""
    for name in ("torch", "transformers"):
        try:
            missing = importlib.util.find_spec(name) is None
        except ImportError:
            missing = True
        if missing:
            raise _train_extra_missing(settings, root, digest, name)
    values = dataclasses.asdict(settings)
    paths = [key for key, value in values.items() if isinstance(value, Path)]
    request: dict[str, Any] = {
        "settings": {k: str(v) if k in paths else v for k, v in values.items()},
        "paths": paths,
        "root": str(root),
        "digest": digest,
    }
    project = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([project, os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(
        [sys.executable, "-m", "classifiers.cache", json.dumps(request)],
        capture_output=True,
        text=True,
        env=env,
    )
    if done.returncode == 3:
        raise CacheBuildFailed(done.stdout.strip())
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines() or [f"exit status {done.returncode}"]
        raise CacheBuildFailed(
            f"[classifier] cache_dir = {str(root)!r}: building the int8 graph failed: {lines[-1]}"
        )
    return find(settings, root, digest)


def _child(argv: Sequence[str]) -> int:
    """``python -m classifiers.cache REQUEST``: what ``build_in_child`` runs."""
    from bot.errors import ComplaintbotError

    request = json.loads(argv[0])
    values: dict[str, Any] = {
        k: Path(v) if k in request["paths"] else v for k, v in request["settings"].items()
    }
    try:
        build(ClassifierSettings(**values), Path(request["root"]), request["digest"])
    except ComplaintbotError as exc:
        print(exc)
        return 3
    return 0


def ensure(settings: ClassifierSettings, root: Path, *, isolated: bool = True) -> CachedGraph:
    """The cached graph for the configured artefact, built first when missing, stale or
    corrupt (with one log line saying which). ``isolated``: build in a child process (for
    a process that should stay without torch); False builds here (``train``, tests)."""
    digest = artefact_digest(settings.model_dir)
    try:
        return find(settings, root, digest)
    except FileNotFoundError:
        log.info(
            "building the int8 graph for %s in %s (once per trained model)",
            settings.model_dir,
            cache_folder(root, digest),
        )
    except StaleCache as exc:
        log.warning(
            "classifier cache %s not used: %s; rebuilding it", cache_folder(root, digest), exc
        )
    return build_in_child(settings, root, digest) if isolated else build(settings, root, digest)


if __name__ == "__main__":
    sys.exit(_child(sys.argv[1:]))
