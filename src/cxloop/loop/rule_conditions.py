"""The ``when`` of an alert rule: the survey ``show_if`` language, read over one feedback's facts.

Pure. The syntax is ``surveys.expressions`` (comparisons, ``and``/``or``/``not``, parentheses,
``in [..]``; mistakes named with their column), not a third condition language. This module adds
what alerts need on top: the names a feedback offers (``rule_names``: kinds and allowed values,
checked when the rules load, so ``sentiment == 'angry'`` is refused, not silently false);
topic patterns (``topic == 'service/*'``); aspects with their sentiment
(``aspect == 'delivery:negative'``, as ``cxloop feedback search --aspect`` writes them); and the
words that say why a rule matched::

    nps_group == 'detractor' and aspect == 'service/*:negative'
    aspect == '配送:负面' and value_percentile >= 80        # top 20 % by value
    flag == 'escalation' or churn_risk >= 0.7
    segment in ['VIP', 'KA'] and not channel == 'review' and attributes.plan == 'pro'

A test that reads a missing value is false whatever its operator (as in ``show_if``).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from cxloop.feedback.channels import canonical_channel
from cxloop.loop.alert_facts import AlertFacts
from cxloop.loop.facts import FeedbackFacts
from cxloop.loop.hours import BadEntries
from cxloop.loop.rule_names import (
    ATTRIBUTES,
    FLAGS,
    NAMES,
    ORDER,
    Name,
    Pattern,
    aspect_pattern,
    fold,
    topic_pattern,
)
from cxloop.surveys import expressions as ex
from cxloop.surveys.logic import attribute


class BadCondition(ValueError):
    """Every mistake of one condition, as (value, reason) pairs."""

    def __init__(self, entries: list[tuple[Any, str]]):
        super().__init__("; ".join(f"{value!r} {reason}" for value, reason in entries))
        self.entries = entries


# ---------------------------------------------------------------- compiled tests


@dataclass(frozen=True)
class Test:
    """One comparison, its constants already in canonical form (``负面`` → ``negative``)."""

    name: str
    op: str  # a comparison, "in", "not in" or "present"
    values: tuple[Any, ...]

    def shown(self) -> str:
        if self.op == "present":
            return self.name
        if self.op in ("in", "not in"):
            return f"{self.name} {self.op} [{', '.join(_show(v) for v in self.values)}]"
        return f"{self.name} {self.op} {_show(self.values[0])}"


@dataclass(frozen=True)
class Group:
    op: Literal["and", "or", "not"]
    parts: tuple[Node, ...]

    def shown(self) -> str:
        if self.op == "not":
            return f"not ({self.parts[0].shown()})"
        return f" {self.op} ".join(
            f"({p.shown()})" if isinstance(p, Group) and p.op != "not" else p.shown()
            for p in self.parts
        )


Node = Test | Group


@dataclass(frozen=True)
class Outcome:
    """Whether a condition holds, the parts that made it hold, and the topics it matched."""

    hit: bool
    why: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()


@dataclass(frozen=True)
class Condition:
    """A compiled ``when``: the text as written and its tree."""

    text: str
    tree: Node

    def reads_topics(self) -> bool:
        """Whether a topic or aspect test can give a matched topic (for de-duplication): one
        that finds topics (``==``, ``in``, bare), outside any ``not``."""
        return any(
            t.name in ("topic", "aspect") and t.op in ("==", "in", "present")
            for t in _tests(self.tree)
        )

    def evaluate(self, facts: FeedbackFacts | AlertFacts) -> Outcome:
        return _evaluate(self.tree, facts)


def _tests(node: Node) -> list[Test]:
    """The tests of ``node`` that are not negated."""
    if isinstance(node, Test):
        return [node]
    if node.op == "not":
        return []
    return [t for part in node.parts for t in _tests(part)]


# ---------------------------------------------------------------- compiling


def compile_condition(text: Any, names: Mapping[str, Name] = NAMES) -> Condition:
    """``text`` parsed by the ``show_if`` parser and checked against ``names`` (a feedback's
    ``NAMES`` with ``attributes.<key>``, or a metric alert's ``ALERT_NAMES``);
    ``BadCondition`` lists every unknown name, wrong operator and refused value at once."""
    if not isinstance(text, str):
        raise BadCondition([(text, "must be a condition as text, e.g. nps <= 6")])
    try:
        tree = ex.parse(text)
    except ex.ExpressionError as exc:
        raise BadCondition([(text, f"{exc.reason} at column {exc.column}")]) from None
    problems: list[tuple[Any, str]] = []
    node = _compile(tree, problems, names)
    if problems:
        raise BadCondition(problems)
    return Condition(text.strip(), node)


def read_condition(value: Any, names: Mapping[str, Name] = NAMES) -> Condition:
    """``compile_condition`` for a file's ``when`` field (a rule's, a routing rule's): its
    mistakes as ``BadEntries``, which ``problems_of`` names one by one under the field's path."""
    try:
        return compile_condition(value, names)
    except BadCondition as exc:
        raise BadEntries([("", v, reason) for v, reason in exc.entries]) from None


def _compile(tree: ex.Expr, problems: list[tuple[Any, str]], names: Mapping[str, Name]) -> Node:
    if isinstance(tree, ex.Both):
        parts = tuple(_compile(p, problems, names) for p in tree.operands)
        return Group("and" if tree.op == "and" else "or", parts)
    if isinstance(tree, ex.Not):
        return Group("not", (_compile(tree.operand, problems, names),))
    if isinstance(tree, ex.Present):
        name = tree.name
        return Test(name.path, "present", ()) if _known(name, problems, names) else _nothing()
    left, op, right = tree.left, tree.op, tree.right
    if isinstance(left, ex.Const) and isinstance(right, ex.Name):  # 6 >= nps reads nps <= 6
        left, right = right, left
        op = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}.get(op, op)
    if not isinstance(left, ex.Name):
        problems.append((_raw(left), f"is not a condition name (column {left.column})"))
        return _nothing()
    if isinstance(right, ex.Name):
        reason = f"compares two names (column {right.column}): compare {left.path} with a value"
        problems.append((right.path, reason))
        return _nothing()
    if not _known(left, problems, names):
        return _nothing()
    consts = right if isinstance(right, tuple) else (right,)
    values = []
    for const in consts:
        try:
            values.append(_value(left.path, op, const.value, names))
        except ValueError as exc:
            problems.append((_raw(const), f"{exc}; column {const.column}"))
    return Test(left.path, op, tuple(values))


def _nothing() -> Test:
    return Test("", "present", ())


def _raw(const: ex.Const) -> Any:
    value = const.value
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _known(name: ex.Name, problems: list[tuple[Any, str]], names: Mapping[str, Name]) -> bool:
    """Whether ``names`` has the name (a feedback's also ``attributes.<key>``); else a problem
    naming the closest and every known name."""
    customer = names is NAMES
    if name.path in names or (
        customer and name.path.startswith(ATTRIBUTES) and len(name.path) > len(ATTRIBUTES)
    ):
        return True
    close = difflib.get_close_matches(name.path, list(names), n=1, cutoff=0.6)
    hint = f"did you mean {close[0]}? " if close else ""
    known = ", ".join(names) + (", attributes.<key>" if customer else "")
    reason = f"is not a condition name (column {name.column}); {hint}known: {known}"
    problems.append((name.path, reason))
    return False


def _value(name: str, op: str, value: ex.Value, names: Mapping[str, Name] = NAMES) -> Any:
    """A constant in the form the facts are compared in, or ``ValueError`` saying why not."""
    spec = names.get(name, Name("any"))
    if spec.kind == "any":
        return value
    if op in ORDER and spec.kind not in ("number", "text"):
        raise ValueError(f"{name} has no order: compare it with ==, != or in")
    if spec.kind == "number" or (spec.kind == "text" and op in ORDER):
        return _number(name, spec, value)
    if isinstance(value, bool) or (isinstance(value, float) and spec.kind != "text"):
        raise ValueError(
            f"is not a value of {name}: write it in quotes, e.g. {_example(name, names)}"
        )
    text = _text(value)
    if spec.kind in ("choice", "flags"):
        canonical = spec.choices.get(fold(text))
        if canonical is None:
            known = ", ".join(dict.fromkeys(spec.choices.values()))
            raise ValueError(f"is not a {name} value ({known})")
        return canonical
    if spec.kind == "topics":
        return topic_pattern(text)
    if spec.kind == "aspects":
        return aspect_pattern(text)
    return canonical_channel(text) if name == "channel" else text


def _number(name: str, spec: Name, value: ex.Value) -> float:
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise ValueError(f"is not a number, and {name} compares as a number") from None
    if isinstance(value, bool):
        raise ValueError(f"is not a number, and {name} compares as a number")
    low, high = spec.low, spec.high
    if low is not None and high is not None and not low <= value <= high:
        hint = f": {spec.hint}" if spec.hint else ""
        raise ValueError(f"is outside {name}'s range {_show(low)}–{_show(high)}{hint}")
    return float(value)


def _example(name: str, names: Mapping[str, Name] = NAMES) -> str:
    spec = names.get(name)
    if spec is not None and spec.choices:
        return repr(next(iter(spec.choices.values())))
    return {"topic": "'service/*'", "aspect": "'delivery:negative'"}.get(name, "'VIP'")


def _text(value: ex.Value) -> str:
    return _show(value) if isinstance(value, float) else str(value)


def _show(value: Any) -> str:
    if isinstance(value, Pattern):
        return value.written
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


# ---------------------------------------------------------------- evaluating


def _evaluate(node: Node, facts: FeedbackFacts | AlertFacts) -> Outcome:
    if isinstance(node, Group):
        parts = [_evaluate(part, facts) for part in node.parts]
        if node.op == "not":
            hit = not parts[0].hit
            return Outcome(hit, (f"not ({node.parts[0].shown()})",) if hit else ())
        held = [p for p in parts if p.hit]
        hit = len(held) == len(parts) if node.op == "and" else bool(held)
        if not hit:
            return Outcome(False)
        return Outcome(
            True,
            tuple(w for p in held for w in p.why),
            tuple(dict.fromkeys(t for p in held for t in p.topics)),
        )
    if node.name in ("topic", "aspect", "flag") and isinstance(facts, FeedbackFacts):
        return _listed(node, facts)
    return _scalar(node, facts)


def _lookup(facts: FeedbackFacts | AlertFacts) -> Callable[[str], object]:
    def read(name: str) -> object:
        if name.startswith(ATTRIBUTES) and isinstance(facts, FeedbackFacts):
            value = attribute(facts.attributes, name.removeprefix(ATTRIBUTES))
        else:
            value = getattr(facts, name, None)
        if value is None or value is ex.MISSING:
            return ex.MISSING
        spec = NAMES.get(name)
        if spec is not None and spec.kind == "choice" and isinstance(value, str):
            return spec.choices.get(fold(value), value)
        if name == "channel" and isinstance(value, str):
            return canonical_channel(value)
        return value

    return read


def _scalar(test: Test, facts: FeedbackFacts | AlertFacts) -> Outcome:
    read = _lookup(facts)
    name = ex.Name(test.name, 0)
    tree: ex.Expr
    if test.op == "present":
        if not test.name:
            return Outcome(False)
        tree = ex.Present(name)
    elif test.op in ("in", "not in"):
        tree = ex.Compare(name, test.op, tuple(ex.Const(v, 0) for v in test.values))
    else:
        tree = ex.Compare(name, test.op, ex.Const(test.values[0], 0))
    if not ex.evaluate(tree, read):
        return Outcome(False)
    actual = _show(read(test.name))
    if test.op in ("==", "present"):
        return Outcome(True, (f"{test.name} = {actual}",))
    if test.op == "in":
        return Outcome(True, (f"{test.name} = {actual} ∈ [{', '.join(map(_show, test.values))}]",))
    if test.op == "not in":
        shown = ", ".join(map(_show, test.values))
        return Outcome(True, (f"{test.name} = {actual} ∉ [{shown}]",))
    return Outcome(True, (f"{test.name} {actual} {test.op} {_show(test.values[0])}",))


def _listed(test: Test, facts: FeedbackFacts) -> Outcome:
    """Topic, aspect and flag tests: ``==``/``in`` hold when some item matches, ``!=``/
    ``not in`` when none does, a bare name when there is any."""
    items: list[tuple[str, str | None]]
    if test.name == "topic":
        items = [(t, None) for t in facts.all_topics()]
    elif test.name == "aspect":
        items = [(t, s) for t, s in facts.aspects]
    else:
        items = [(FLAGS.get(fold(f), f), None) for f in facts.flags]
    if test.op == "present":
        if not items:
            return Outcome(False)
        found = tuple(dict.fromkeys(t for t, _ in items)) if test.name != "flag" else ()
        return Outcome(True, (f"{test.name} = {', '.join(_item(i) for i in items)}",), found)
    matched = []
    for item in dict.fromkeys(items):
        value = next((v for v in test.values if _match(v, item)), None)
        if value is not None:
            matched.append((item, value))
    if test.op in ("!=", "not in"):
        if matched:
            return Outcome(False)
        shown = ", ".join(map(_show, test.values))
        return Outcome(True, (f"{test.name} ∉ [{shown}]" if test.op == "not in" else test.shown(),))
    if not matched:
        return Outcome(False)
    if test.name == "flag":
        return Outcome(True, tuple(f"flag = {item[0]}" for item, _ in matched))
    why = tuple(f"{test.name} {_item(item)} ~ {_show(v)}" for item, v in matched)
    return Outcome(True, why, tuple(dict.fromkeys(item[0] for item, _ in matched)))


def _match(value: Any, item: tuple[str, str | None]) -> bool:
    if isinstance(value, Pattern):
        return value.matches(*item)
    return bool(item[0] == value)


def _item(item: tuple[str, str | None]) -> str:
    return f"{item[0]}:{item[1]}" if item[1] else item[0]
