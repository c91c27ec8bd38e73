"""The ``show_if`` language: comparisons over earlier answers and contact/customer attributes.

Written by hand, not with ``eval`` or ``ast``: a definition comes from a user's file, so nothing in
it may run, and a mistake must be named with the column and what was expected (``'<==' is not a
comparison``) — a generic parser library's messages are worse than these forty lines.

Grammar::

    expr    := and ("or" and)*
    and     := not ("and" not)*
    not     := "not" not | "(" expr ")" | test
    test    := operand [op operand | ["not"] "in" "[" literal ("," literal)* "]"]
    operand := name | number | 'string' | "string" | true | false
    op      := == | != | < | <= | > | >=

A name alone is true when it has an answer (or a true attribute). A comparison with a missing
value is false, whichever the operator: ``why`` with ``show_if: "nps <= 6"`` stays hidden while
``nps`` is unanswered.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

COMPARISONS = ("==", "!=", "<", "<=", ">", ">=")
KEYWORDS = frozenset({"and", "or", "not", "in", "true", "false"})
Value = str | float | bool


class ExpressionError(ValueError):
    """A ``show_if`` that does not parse: the reason, with the 1-based column."""

    def __init__(self, reason: str, column: int) -> None:
        self.reason = reason
        self.column = column
        super().__init__(f"{reason} at column {column}")


@dataclass(frozen=True)
class Name:
    """A question id (``nps``), a matrix row (``service.speed``) or an attribute
    (``contact.role``)."""

    path: str
    column: int


@dataclass(frozen=True)
class Const:
    value: Value
    column: int


@dataclass(frozen=True)
class Compare:
    left: Name | Const
    op: str  # one of COMPARISONS, "in" or "not in"
    right: Name | Const | tuple[Const, ...]


@dataclass(frozen=True)
class Present:
    name: Name


@dataclass(frozen=True)
class Not:
    operand: Expr


@dataclass(frozen=True)
class Both:
    op: str  # "and" | "or"
    operands: tuple[Expr, ...]


Expr = Compare | Present | Not | Both

_TOKEN = re.compile(
    r"""(?P<space>\s+)
      | (?P<number>-?\d+(?:\.\d+)?)
      | (?P<string>'[^']*'|"[^"]*")
      | (?P<op>[<>=!]+)
      | (?P<name>[^\W\d][\w]*(?:\.[\w]+)*)
      | (?P<punct>[()\[\],])""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    column: int


def _tokens(text: str) -> list[_Token]:
    out: list[_Token] = []
    at = 0
    while at < len(text):
        match = _TOKEN.match(text, at)
        if match is None:
            if text[at] in "'\"":
                raise ExpressionError(f"unclosed quote {text[at]}", at + 1)
            raise ExpressionError(f"unexpected {text[at]!r}", at + 1)
        kind = match.lastgroup or ""
        if kind != "space":
            out.append(_Token(kind, match.group(), at + 1))
        at = match.end()
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.at = 0
        self.end = len(text) + 1

    def peek(self) -> _Token | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.peek()
        if token is None:
            raise ExpressionError("the condition ends too early", self.end)
        self.at += 1
        return token

    def word(self, *words: str) -> bool:
        token = self.peek()
        if token is not None and token.kind == "name" and token.text in words:
            self.at += 1
            return True
        return False

    def expr(self) -> Expr:
        parts = [self.conjunction()]
        while self.word("or"):
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else Both("or", tuple(parts))

    def conjunction(self) -> Expr:
        parts = [self.negation()]
        while self.word("and"):
            parts.append(self.negation())
        return parts[0] if len(parts) == 1 else Both("and", tuple(parts))

    def negation(self) -> Expr:
        if self.word("not"):
            return Not(self.negation())
        token = self.peek()
        if token is not None and token.text == "(":
            self.take()
            inner = self.expr()
            close = self.peek()
            if close is None or close.text != ")":
                where = close.column if close else self.end
                raise ExpressionError("expected ')'", where)
            self.take()
            return inner
        return self.test()

    def operand(self, after: str) -> Name | Const:
        token = self.peek()
        if token is None:
            raise ExpressionError(f"expected a value after {after}", self.end)
        if token.kind == "number":
            self.take()
            return Const(float(token.text), token.column)
        if token.kind == "string":
            self.take()
            return Const(token.text[1:-1], token.column)
        if token.kind == "name" and token.text in ("true", "false"):
            self.take()
            return Const(token.text == "true", token.column)
        if token.kind == "name" and token.text not in KEYWORDS:
            self.take()
            return Name(token.text, token.column)
        raise ExpressionError(f"expected a value after {after}, found {token.text!r}", token.column)

    def test(self) -> Expr:
        left = self.operand("the start" if self.at == 0 else repr(self.tokens[self.at - 1].text))
        token = self.peek()
        if token is not None and token.kind == "op":
            if token.text not in COMPARISONS:
                raise ExpressionError(
                    f"expected a comparison (==, !=, <, <=, >, >=), found {token.text!r}",
                    token.column,
                )
            self.take()
            return Compare(left, token.text, self.operand(repr(token.text)))
        negated = self.word("not")
        if negated or (token is not None and token.kind == "name" and token.text == "in"):
            if not self.word("in"):
                raise ExpressionError("expected 'in' after 'not'", self._column())
            return Compare(left, "not in" if negated else "in", self.choices())
        if isinstance(left, Const):
            raise ExpressionError(
                f"expected a comparison (==, !=, <, <=, >, >=, in) after {_shown(left)}",
                self._column(),
            )
        return Present(left)

    def choices(self) -> tuple[Const, ...]:
        opening = self.peek()
        if opening is None or opening.text != "[":
            raise ExpressionError("expected a list like ['a', 'b'] after 'in'", self._column())
        self.take()
        items: list[Const] = []
        while True:
            item = self.operand("'[' or ','")
            if not isinstance(item, Const):
                raise ExpressionError(
                    f"a list holds values, not names: quote it ('{item.path}')", item.column
                )
            items.append(item)
            token = self.take()
            if token.text == "]":
                return tuple(items)
            if token.text != ",":
                raise ExpressionError(f"expected ',' or ']', found {token.text!r}", token.column)

    def _column(self) -> int:
        token = self.peek()
        return token.column if token else self.end


def _shown(const: Const) -> str:
    return repr(const.value)


def parse(text: str) -> Expr:
    """``text`` as an expression tree, or ``ExpressionError`` saying where and what was expected."""
    if not text.strip():
        raise ExpressionError("is empty", 1)
    parser = _Parser(text)
    tree = parser.expr()
    rest = parser.peek()
    if rest is not None:
        raise ExpressionError(
            f"unexpected {rest.text!r} (expected 'and', 'or' or the end)", rest.column
        )
    return tree


def comparisons(tree: Expr) -> Iterator[Compare | Present]:
    """Every test in ``tree``, left to right (for validation: names and the values they meet)."""
    if isinstance(tree, Compare | Present):
        yield tree
    elif isinstance(tree, Not):
        yield from comparisons(tree.operand)
    else:
        for part in tree.operands:
            yield from comparisons(part)


def names(tree: Expr) -> list[Name]:
    """The names ``tree`` reads, in order."""
    out: list[Name] = []
    for test in comparisons(tree):
        if isinstance(test, Present):
            out.append(test.name)
        else:
            out.extend(x for x in (test.left, test.right) if isinstance(x, Name))
    return out


MISSING = object()
Lookup = Callable[[str], object]


def evaluate(tree: Expr, lookup: Lookup) -> bool:
    """``tree``'s truth, reading names through ``lookup`` (``MISSING`` or None: no value)."""
    if isinstance(tree, Both):
        results = (evaluate(part, lookup) for part in tree.operands)
        return all(results) if tree.op == "and" else any(results)
    if isinstance(tree, Not):
        return not evaluate(tree.operand, lookup)
    if isinstance(tree, Present):
        return _present(lookup(tree.name.path))
    left = _value(tree.left, lookup)
    if isinstance(tree.right, tuple):
        return _member(left, [c.value for c in tree.right], tree.op == "not in")
    return _compare(left, tree.op, _value(tree.right, lookup))


def _value(operand: Name | Const, lookup: Lookup) -> object:
    return lookup(operand.path) if isinstance(operand, Name) else operand.value


def _present(value: object) -> bool:
    if value is MISSING or value is None or value is False:
        return False
    if isinstance(value, str | list | dict):
        return bool(value.strip() if isinstance(value, str) else value)
    return True


def _scalar(value: object) -> object:
    """Numbers as float, text trimmed and case-folded (attributes arrive in any spelling)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        try:
            return float(text)
        except ValueError:
            return text.casefold()
    return value


def _equal(a: object, b: object) -> bool:
    return _scalar(a) == _scalar(b)


def _member(value: object, options: list[Value], negated: bool) -> bool:
    if not _present(value) and value is not False:
        return False
    if isinstance(value, list):  # a multiple choice: any chosen option in the list
        hit = any(_equal(v, o) for v in value for o in options)
    else:
        hit = any(_equal(value, o) for o in options)
    return hit != negated


def _compare(left: object, op: str, right: object) -> bool:
    if left is MISSING or right is MISSING or left is None or right is None:
        return False
    if isinstance(left, list) or isinstance(right, list):  # multiple choice: "chosen"
        chosen, other = (left, right) if isinstance(left, list) else (right, left)
        assert isinstance(chosen, list)
        if op not in ("==", "!="):
            return False
        return any(_equal(v, other) for v in chosen) == (op == "==")
    a, b = _scalar(left), _scalar(right)
    if op == "==":
        return a == b
    if op == "!=":
        return a != b
    same = (isinstance(a, float) and isinstance(b, float)) or (
        isinstance(a, str) and isinstance(b, str)
    )
    if same:
        return bool(_ORDER[op](a, b))
    return False  # a number against a word, a list or a dict: no order between them


_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
