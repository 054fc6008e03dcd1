"""Plain dataclasses that cross the boundaries between the core and its edges.

Connectors produce ``Mention``s, classifiers produce ``Classification``s; the
core never sees a vendor object.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

PLATFORMS = ("x", "reddit", "file")
RISK_FLAGS = ("safety", "legal", "privacy_request", "data_exposure")
CATEGORIES = (
    "shipping_delivery",
    "product_quality",
    "billing_refund",
    "customer_service",
    "account_privacy",
    "website_app",
    "other",
)


@dataclass(frozen=True)
class Mention:
    """One public post about the brand, as a connector found it."""

    platform: str
    post_id: str
    author_id: str
    author_handle: str
    text: str
    created_at: datetime
    url: str = ""
    author_followers: int = 0
    mentions_brand: bool = False
    parent_id: str | None = None
    kind: str = "post"


@dataclass(frozen=True)
class RiskFlag:
    """A risk signal on a post and the phrase or signal that raised it."""

    name: str
    reason: str


@dataclass(frozen=True)
class Classification:
    """The classifier's verdict on one post."""

    is_complaint: bool
    complaint_probability: float
    category: str = "other"
    flags: tuple[RiskFlag, ...] = field(default_factory=tuple)

    @property
    def flag_names(self) -> list[str]:
        return [flag.name for flag in self.flags]


class Classifier(Protocol):
    """What the core needs from a classifier: a batch of texts in, verdicts out."""

    def classify(self, texts: Sequence[str]) -> list[Classification]: ...


@runtime_checkable
class Embedder(Protocol):
    """The classifier's own sentence representation (no second model): one mean-pooled,
    L2-normalised vector per text, which the incident grouping compares (bot/incidents)."""

    def embed(self, texts: Sequence[str]) -> list[list[float]]: ...
