"""Reading and writing the shipped classifier folder (meta.json + weights.safetensors).

No torch import at module level; the tensor helpers import it when called.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from classifiers.errors import ModelNotFound

if TYPE_CHECKING:
    import torch

META_FILE = "meta.json"
WEIGHTS_FILE = "weights.safetensors"
# /2: full fine-tune shipped as low-rank weight changes (/1 held LoRA adapters).
FORMAT = "complaintbot-classifier/2"


def read_meta(model_dir: Path) -> dict[str, Any]:
    """The folder's meta.json, or ModelNotFound naming ``[classifier] model_dir``."""
    if not model_dir.is_dir():
        raise ModelNotFound(
            "model_dir", model_dir, "no such folder; run `complaintbot train` or fix the path"
        )
    meta_path = model_dir / META_FILE
    weights_path = model_dir / WEIGHTS_FILE
    missing = [p.name for p in (meta_path, weights_path) if not p.is_file()]
    if missing:
        raise ModelNotFound(
            "model_dir",
            model_dir,
            f"no trained classifier here (missing {', '.join(missing)}); run `complaintbot train`",
        )
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelNotFound("model_dir", model_dir, f"unreadable {META_FILE}: {exc}") from exc
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ModelNotFound(
            "model_dir",
            model_dir,
            f"{META_FILE} is not a {FORMAT} file (an older version's model?); "
            "run `complaintbot train`",
        )
    return meta


def read_weights(model_dir: Path) -> dict[str, torch.Tensor]:
    """The weight changes and the complaint, category and flag head tensors."""
    from safetensors.torch import load_file

    try:
        return load_file(str(model_dir / WEIGHTS_FILE))
    except Exception as exc:  # safetensors raises several unrelated types for a bad file
        raise ModelNotFound("model_dir", model_dir, f"unreadable {WEIGHTS_FILE}: {exc}") from exc


def write_artefacts(
    model_dir: Path, meta: dict[str, Any], tensors: dict[str, torch.Tensor]
) -> None:
    """Write both files; meta last, so a half-written folder fails to load instead of misleading."""
    from safetensors.torch import save_file

    model_dir.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in tensors.items()}, str(model_dir / WEIGHTS_FILE))
    payload = {"format": FORMAT, **meta}
    (model_dir / META_FILE).write_text(
        json.dumps(payload, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
