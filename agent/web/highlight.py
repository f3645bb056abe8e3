"""The faithfulness aid: the numbers and Latin-script names of a Korean line, and the same tokens in its
abstract, as spans a template can mark up (the template escapes every span's text).

Which tokens to *show* is decided here; which number is *wrong* is not: that is
agent.validate.invented_numbers, the rule the validator applies, so the page and the gate never disagree.
A number the abstract states in words ("three") or scales ("30K" for "3만") is not red, only unmatched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Literal

from agent.validate import invented_numbers

# A run of Latin letters and digits joined by . , - (as the validator reads them), and a trailing %.
_TOKEN = re.compile(r"[A-Za-z0-9]+(?:[.,\-][A-Za-z0-9]+)*%?")
_NUMBER = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?")

Kind = Literal["", "num", "name"]


@dataclass(frozen=True, slots=True)
class Span:
    text: str
    kind: Kind = ""  # "": plain text
    key: str = ""  # the same key in the line and in the abstract: the page links the two
    missing: bool = False  # a number the abstract does not state (the validator's verdict)


def _value(text: str) -> Decimal | None:
    try:
        return Decimal(text.replace(",", "")).normalize()
    except InvalidOperation:
        return None


def _numbers(token: str) -> list[Decimal]:
    return [v for m in _NUMBER.finditer(token) if (v := _value(m.group(0))) is not None]


def _key(token: str) -> tuple[Kind, str]:
    core = token.rstrip("%")
    if any(c.isalpha() for c in core):
        return "name", "w:" + core.casefold()
    value = _value(core)
    return "num", "n:" + (format(value, "f") if value is not None else core)


def _spans(text: str, mark: dict[tuple[int, int], Span]) -> list[Span]:
    spans: list[Span] = []
    pos = 0
    for (start, end), span in sorted(mark.items()):
        if start > pos:
            spans.append(Span(text[pos:start]))
        spans.append(span)
        pos = end
    if pos < len(text):
        spans.append(Span(text[pos:]))
    return spans


def faithfulness(summary: str, abstract: str, title: str = "") -> tuple[list[Span], list[Span]]:
    """``(line spans, abstract spans)``: every number and Latin-script name of ``summary`` marked, the same
    tokens marked in ``abstract`` (names case-insensitively, numbers by value: "1,000" = "1000"), and the
    numbers the validator finds invented marked missing (it reads the title and the abstract, as here)."""
    source = f"{title}\n{abstract}" if title else abstract
    invented = set(invented_numbers(summary, source)) if summary.strip() else set()
    line_marks: dict[tuple[int, int], Span] = {}
    names: dict[str, str] = {}  # casefolded name -> key
    values: dict[Decimal, str] = {}  # number value -> key
    for m in _TOKEN.finditer(summary):
        token = m.group(0)
        kind, key = _key(token)
        nums = [n.group(0) for n in _NUMBER.finditer(token)]
        if kind == "num":
            missing = any(n in invented for n in nums)
            for v in _numbers(token):
                values.setdefault(v, key)
        else:
            verbatim = re.search(
                rf"(?<![A-Za-z0-9]){re.escape(token.rstrip('%'))}(?![A-Za-z0-9])", source, re.IGNORECASE
            )
            missing = verbatim is None and any(n in invented for n in nums)
            names.setdefault(token.rstrip("%").casefold(), key)
        line_marks[m.span()] = Span(token, kind, key, missing)

    abstract_marks: dict[tuple[int, int], Span] = {}
    for m in _TOKEN.finditer(abstract):
        token = m.group(0)
        kind, _ = _key(token)
        found = names.get(token.rstrip("%").casefold())
        if found is None:
            found = next((values[v] for v in _numbers(token) if v in values), None)
            if found is None:
                continue
            if kind == "name" and not any(c.isdigit() for c in token[:1]):
                continue  # "GPT-4" in the abstract is not the line's standalone "4"
        key = found
        abstract_marks[m.span()] = Span(token, "name" if key.startswith("w:") else "num", key)
    return _spans(summary, line_marks), _spans(abstract, abstract_marks)
