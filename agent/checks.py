"""One way to check structured input a person can write or damage: the config file, the review file, the tag
vocabulary and the snapshot. A *spec* maps each key to a kind (or a tuple of allowed strings); ``spec_of``
derives it from a dataclass, so a new field is checked without a second list to keep in step. ``check``
returns the known values (lists of strings as tuples, numbers as floats) or raises CheckError naming the key;
``toml_line`` finds that key's line, so every caller words one line-numbered message.

Why not pydantic (installed through langchain-core): its import alone costs more than a fully cached run's
budget allows, and these files need only flat tables of strings, numbers and string lists.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from collections.abc import Collection, Mapping
from typing import Any

Kind = str | tuple[str, ...]  # a kind name below, or the allowed strings

_NAMES = {
    "str": "a string",
    "str?": "a string or null",
    "int": "a whole number",
    "int?": "a whole number or null",
    "number": "a number",
    "bool": "true or false",
    "strs": "a list of strings",
    "strs?": "a list of strings or null",
    "table": "a table",
    "list": "a list",
}
# Annotations (strings: the models postpone them) and the kind they mean.
_ANNOTATIONS = {
    "str": "str",
    "str | None": "str?",
    "int": "int",
    "int | None": "int?",
    "float": "number",
    "bool": "bool",
    "tuple[str, ...]": "strs",
    "tuple[str, ...] | None": "strs?",
}


class CheckError(ValueError):
    """``key``: the offending key (None: the value itself is of the wrong kind)."""

    def __init__(self, key: str | None, problem: str) -> None:
        super().__init__(problem)
        self.key = key


def type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "a list" if isinstance(value, list) else "a table"


def _fits(value: object, kind: str) -> bool:
    if kind.endswith("?") and value is None:
        return True
    kind = kind.rstrip("?")
    if kind == "str":
        return isinstance(value, str)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "strs":
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    return isinstance(value, list) if kind == "list" else isinstance(value, dict)


def check(
    raw: object,
    spec: Mapping[str, Kind],
    *,
    required: Collection[str] = (),
    unknown_ok: bool = False,
    what: str = "a table",
) -> dict[str, Any]:
    """The values of table ``raw`` that ``spec`` knows, converted; CheckError at the first problem."""
    if not isinstance(raw, dict):
        raise CheckError(None, f"must be {what}, not {type_name(raw)}")
    unknown = sorted(set(raw) - set(spec))
    if unknown and not unknown_ok:
        raise CheckError(unknown[0], f"unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(spec))}")
    values: dict[str, Any] = {}
    for key, kind in spec.items():
        if key not in raw:
            if key in required:
                raise CheckError(None, f"{key} is missing")
            continue
        value = raw[key]
        if isinstance(kind, tuple):
            if value not in kind:
                raise CheckError(key, f"unknown {key} {value!r} (use one of: {', '.join(kind)})")
        elif not _fits(value, kind):
            raise CheckError(key, f"{key} must be {_NAMES[kind]}, not {type_name(value)}")
        elif kind.startswith("strs") and value is not None:
            value = tuple(value)
        elif kind == "number":
            value = float(value)
        values[key] = value
    return values


def spec_of(cls: type, **override: Kind | None) -> dict[str, Kind]:
    """The spec of dataclass ``cls`` from its fields' annotations; ``override`` a field's kind (None: leave
    the field out). A field whose annotation has no kind here must be overridden (a bug otherwise)."""
    spec: dict[str, Kind] = {}
    for f in dataclasses.fields(cls):
        if f.name in override:
            kind = override[f.name]
            if kind is not None:
                spec[f.name] = kind
            continue
        annotation = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
        if annotation not in _ANNOTATIONS:
            raise TypeError(f"spec_of({cls.__name__}): no kind for {f.name}: {annotation}")
        spec[f.name] = _ANNOTATIONS[annotation]
    return spec


_HEADER = re.compile(r"^\s*\[(\[)?")
_KEY = re.compile(r"""^\s*(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|([A-Za-z0-9_-]+))\s*=""")


def toml_line(text: str, table: str | tuple[str, int] | None, key: str | None) -> int | None:
    """1-based line of ``key`` in ``table`` (a name, or (name, n) for the n-th ``[[name]]``, from 0; None:
    the top level), else the table's header line, else None. Best effort: it only points a person at the
    right place."""
    section: str | tuple[str, int] | None = None
    counts: dict[str, int] = {}
    header_line: int | None = None
    for n, line in enumerate(text.splitlines(), 1):
        m = _HEADER.match(line)
        if m:
            try:
                name = next(iter(tomllib.loads(line.replace("[[", "[", 1).replace("]]", "]", 1))), None)
            except tomllib.TOMLDecodeError:
                name = None
            if m.group(1) and name is not None:  # [[name]]: the next of an array of tables
                counts[name] = counts.get(name, -1) + 1
                section = (name, counts[name])
            else:
                section = name
            if table is not None and section == table and header_line is None:
                header_line = n
            continue
        k = _KEY.match(line)
        if k and key is not None and section == table and next(g for g in k.groups() if g is not None) == key:
            return n
    return header_line


_AT_LINE = re.compile(r" \(at line (\d+), column (\d+)\)$")


def toml_error_at(exc: tomllib.TOMLDecodeError) -> tuple[int | None, str]:
    """The 1-based line a TOMLDecodeError points at, and its message with "(at line N, column M)" shortened
    to "(column M)" (the line goes where the caller names the file). Python 3.11 to 3.13 give the place only
    in the message."""
    message = str(exc)
    m = _AT_LINE.search(message)
    if m is None:
        return None, message
    return int(m.group(1)), f"{message[: m.start()]} (column {m.group(2)})"
