"""Reply text as the guard reads it: lower case, contractions spelled out, inflections folded.

``normalise`` turns a reply into a line of lemmas separated by single spaces, with ``,``
for a clause boundary and ``.`` for a sentence boundary, so a pattern written once
("update your review") also matches "Would you consider updating your reviews?", "could u
UPDATE ur review" and "you'd updated the review". Every lemma remembers where its word
stands in the original text, so a finding quotes the staff member's own words.

Only the words the guard's patterns use are folded (``lexicon.LEMMAS``): the rest stay
as written, lower-cased, which keeps "post office" apart from "post" and "reviewer" apart
from "review". URLs, e-mail addresses and @handles are single opaque tokens, so a link
such as ``/review-policy`` is not read as words.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from bot.guard.lexicon import CONTRACTED_IS, LEMMAS, NUMBER_WORDS, SLANG

INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"))
APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'"})
_TOKEN = re.compile(
    r"(?P<url>\b(?:https?://|www\.)[^\s<>]+)"
    r"|(?P<email>[\w.%+-]+@[\w-]+(?:\.[\w-]+)+)"
    r"|(?P<handle>(?<![\w@])[@#][A-Za-z0-9_]+|\bu/[A-Za-z0-9_-]+)"
    r"|(?P<money>[$€£]\s?\d[\d,]*(?:\.\d+)?)"
    r"|(?P<percent>\d+(?:\.\d+)?\s?%)"
    r"|(?P<word>[a-z0-9]+(?:'[a-z]+)*)"
    r"|(?P<sentence>[.!?\n]+)"
    r"|(?P<clause>[,;:()\[\]\"—–]|\s-+\s)",
    re.IGNORECASE,
)
_MONEY_WORDS = frozenset({"dollar", "dollars", "buck", "bucks", "usd"})
_NEGATED = {"won't": "will", "can't": "can", "shan't": "shall", "ain't": "is"}
_SUFFIXES = {"'ll": "will", "'re": "are", "'ve": "have", "'d": "would", "'m": "am"}


@dataclass(frozen=True)
class Token:
    lemma: str
    start: int  # where the word it came from stands in the original text
    end: int


@dataclass(frozen=True)
class Normalised:
    """The reply as lemmas: ``line`` is them joined by single spaces, ``offsets[i]`` where
    token ``i`` starts in ``line``."""

    text: str
    tokens: tuple[Token, ...]
    line: str
    offsets: tuple[int, ...]

    def quote(self, start: int, end: int) -> str:
        """The original words behind ``line[start:end]``."""
        first = self._token_at(start)
        last = self._token_at(max(end - 1, start))
        words = [t for t in self.tokens[first : last + 1] if t.lemma not in (".", ",")]
        if not words:
            return ""
        return self.text[words[0].start : words[-1].end].strip()

    def _token_at(self, position: int) -> int:
        low, high = 0, len(self.offsets) - 1
        while low < high:
            middle = (low + high + 1) // 2
            if self.offsets[middle] <= position:
                low = middle
            else:
                high = middle - 1
        return low

    def sentences(self) -> list[tuple[int, str]]:
        """Each sentence of ``line`` with where it starts (boundaries excluded)."""
        found, start = [], 0
        for match in re.finditer(r"(?:^| )\.(?: |$)", self.line + " "):
            if match.start() > start:
                found.append((start, self.line[start : match.start()]))
            start = match.end()
        if start < len(self.line):
            found.append((start, self.line[start:]))
        return [(at, text.strip()) for at, text in found if text.strip()]


def clean(text: str) -> str:
    """NFKC, straight apostrophes, no invisible characters (soft hyphen, zero-width)."""
    return unicodedata.normalize("NFKC", text).translate(INVISIBLE).translate(APOSTROPHES)


def lemma(word: str) -> str:
    """The base form of a word the patterns know; any other word as it is."""
    return LEMMAS.get(word, word)


def _words(word: str) -> list[str]:
    """A word with its contraction spelled out: "we'll" → we will, "don't" → do not."""
    if word in SLANG:
        return SLANG[word].split()
    if word in _NEGATED:
        return [_NEGATED[word], "not"]
    if word.endswith("n't"):
        return [word[:-3], "not"]
    if word == "let's":
        return ["let", "us"]
    for suffix, full in _SUFFIXES.items():
        if word.endswith(suffix):
            return [word[: -len(suffix)], full]
    if word.endswith("'s"):
        stem = word[:-2]
        return [stem, "is"] if stem in CONTRACTED_IS else [stem]
    if word.endswith("s'"):
        return [word[:-1]]
    return [word.replace("'", "")]


def _lemmas(kind: str, raw: str) -> list[str]:
    if kind in ("url", "email"):
        return [kind.upper()]
    if kind == "handle":
        return ["HANDLE"]
    if kind == "money":
        return ["MONEY"]
    if kind == "percent":
        return ["PERCENT"]
    if kind == "sentence":
        return ["."]
    if kind == "clause":
        return [","]
    lemmas = []
    for word in _words(raw.lower()):
        word = NUMBER_WORDS.get(word, word)
        lemmas.append("MONEY" if word in _MONEY_WORDS else lemma(word))
    return lemmas


def normalise(text: str) -> Normalised:
    text = clean(text)
    tokens: list[Token] = []
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup or "word"
        for item in _lemmas(kind, match.group(0)):
            if item in (".", ",") and (not tokens or tokens[-1].lemma in (".", ",")):
                if item == "." and tokens:  # a sentence end outranks a clause boundary
                    tokens[-1] = Token(".", tokens[-1].start, tokens[-1].end)
                continue
            if item and tokens and item == "MONEY" and tokens[-1].lemma == "MONEY":
                continue  # "$20 dollars"
            if item:
                tokens.append(Token(item, match.start(), match.end()))
    offsets, position = [], 0
    for token in tokens:
        offsets.append(position)
        position += len(token.lemma) + 1
    line = " ".join(token.lemma for token in tokens)
    return Normalised(text, tuple(tokens), line, tuple(offsets))
