"""A small boolean search-query parser shared by the X and Reddit search emulations.

Grammar (whitespace means AND, as on both platforms)::

    query  := or_expr
    or_expr := and_expr ("OR" and_expr)*
    and_expr := unary+
    unary  := ["-" | "NOT "] atom
    atom   := "(" or_expr ")" | '"phrase"' | name ":" value | word

Each platform decides what a word, a phrase and an operator match, by passing
a function that turns an atom into a predicate.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")
Predicate = Callable[[T], bool]

TOKEN = re.compile(r'\s*(\(|\)|-?"[^"]*"|[^\s()]+)')


class QueryError(ValueError):
    """The query cannot be parsed; the message says where."""


@dataclass(frozen=True)
class Atom:
    """A leaf of the query: a word, a quoted phrase, or an ``operator:value`` pair."""

    kind: str  # "word", "phrase" or "operator"
    value: str
    operator: str = ""


def tokenize(query: str) -> list[str]:
    tokens: list[str] = []
    position = 0
    query = query.strip()
    while position < len(query):
        match = TOKEN.match(query, position)
        if match is None:
            raise QueryError(f"cannot read the query at position {position}: {query[position:]!r}")
        tokens.append(match.group(1))
        position = match.end()
        while position < len(query) and query[position].isspace():
            position += 1
    return tokens


class Parser(Generic[T]):
    """Turns a query string into one predicate over the platform's post type."""

    def __init__(self, leaf: Callable[[Atom], Predicate[T]], *, not_keyword: bool = False) -> None:
        self._leaf = leaf
        self._not_keyword = not_keyword
        self._tokens: list[str] = []
        self._pos = 0

    def parse(self, query: str) -> Predicate[T]:
        self._tokens = tokenize(query)
        self._pos = 0
        if not self._tokens:
            raise QueryError("the query is empty")
        predicate = self._or()
        if self._pos != len(self._tokens):
            raise QueryError(f"unexpected {self._tokens[self._pos]!r} in the query")
        return predicate

    def _peek(self) -> str | None:
        return self._tokens[self._pos] if self._pos < len(self._tokens) else None

    def _or(self) -> Predicate[T]:
        branches = [self._and()]
        while self._peek() == "OR":
            self._pos += 1
            branches.append(self._and())
        if len(branches) == 1:
            return branches[0]
        return lambda item: any(branch(item) for branch in branches)

    def _and(self) -> Predicate[T]:
        parts: list[Predicate[T]] = []
        while (token := self._peek()) is not None and token not in (")", "OR"):
            if self._not_keyword and token == "AND":
                self._pos += 1
                continue
            parts.append(self._unary())
        if not parts:
            raise QueryError("an operator or parenthesis has nothing to apply to")
        if len(parts) == 1:
            return parts[0]
        return lambda item: all(part(item) for part in parts)

    def _unary(self) -> Predicate[T]:
        token = self._peek()
        negate = False
        if self._not_keyword and token == "NOT":
            self._pos += 1
            negate = True
        elif token is not None and token.startswith("-") and len(token) > 1:
            self._tokens[self._pos] = token[1:]
            negate = True
        inner = self._atom()
        if negate:
            return lambda item: not inner(item)
        return inner

    def _atom(self) -> Predicate[T]:
        token = self._peek()
        if token is None:
            raise QueryError("the query ends too early")
        self._pos += 1
        if token == "(":
            inner = self._or()
            if self._peek() != ")":
                raise QueryError("a parenthesis is not closed")
            self._pos += 1
            return inner
        if token == ")":
            raise QueryError("a closing parenthesis has no opening one")
        if token.startswith('"'):
            return self._leaf(Atom("phrase", token.strip('"')))
        name, colon, value = token.partition(":")
        if colon and name and value and re.fullmatch(r"[a-z_]+", name):
            return self._leaf(Atom("operator", value, operator=name))
        return self._leaf(Atom("word", token))


WORD = re.compile(r"[\w']+|[@#$][\w]+", re.UNICODE)


def words(text: str) -> set[str]:
    """The lower-cased words of a text, plus its @handles, #hashtags and $cashtags."""
    found = {match.lower() for match in WORD.findall(text)}
    return found | {word[1:] for word in found if word[:1] in "@#$"}


def contains_phrase(text: str, phrase: str) -> bool:
    """Whole-word, case-insensitive phrase match."""
    pattern = r"(?<!\w)" + r"\s+".join(map(re.escape, phrase.split())) + r"(?!\w)"
    return re.search(pattern, text, re.IGNORECASE) is not None
