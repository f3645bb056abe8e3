"""The controlled tag vocabulary (``prompts/tags.toml``): canonical names, aliases and keyword rules.

Every tag a post carries is a canonical name from this file. The LLM picks names from it; aliases map
other spellings back to a name; keyword rules tag papers when there is no LLM (``--no-llm``).
"""

from __future__ import annotations

import functools
import re
import tomllib
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Protocol

from agent.checks import CheckError, Kind, check, toml_line
from agent.errors import ConfigError
from agent.models import MAX_TAGS as MAX_TAGS  # the one limit (agent.models); callers import it here too
from agent.prompts import PROMPTS_DIR

DEFAULT_VOCABULARY = PROMPTS_DIR / "tags.toml"

# A title hit says more about a paper than a passing mention in its abstract.
TITLE_WEIGHT = 3
ABSTRACT_CAP = 3  # abstract hits counted per tag, at most: a long abstract must not outvote the title
MIN_SCORE = 2  # one passing abstract mention is not enough to tag a paper

# Names go unquoted into YAML front matter and inside Markdown code spans, so they stay plain words.
_NAME_RE = re.compile(r"^[^\W_][\w ./+-]*$")
_TAG_SPEC: dict[str, Kind] = {"name": "str", "description": "str", "aliases": "strs", "keywords": "strs"}


@dataclass(frozen=True)
class Tag:
    name: str
    aliases: tuple[str, ...]
    keywords: tuple[str, ...]
    description: str


def _key(text: str) -> str:
    """Lookup key: case-, width-, space-, '-' and '_'-insensitive ("Multi-Agent" == "multiagent")."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in text if not ch.isspace() and ch not in "-_")


class Vocabulary:
    """A validated set of tags. Raises ConfigError (naming the tag) on duplicates or bad regexes."""

    def __init__(self, tags: Iterable[Tag], *, source: str = "tag vocabulary") -> None:
        self.tags: tuple[Tag, ...] = tuple(tags)
        by_key: dict[str, str] = {}
        rules: list[tuple[str, re.Pattern[str]]] = []
        seen: set[str] = set()
        for tag in self.tags:
            where = f"{source}: tag {tag.name!r}"
            if tag.name in seen:
                raise ConfigError(f"{where}: the name appears twice; merge the two tags.")
            seen.add(tag.name)
            if not _NAME_RE.match(tag.name) or tag.name != tag.name.strip():
                raise ConfigError(
                    f"{where}: a name may hold only letters, digits, spaces and . / + -; rename it."
                )
            for spelling in (tag.name, *tag.aliases):
                key = _key(spelling)
                if not key:
                    raise ConfigError(f"{where}: empty alias; remove it.")
                other = by_key.get(key)
                if other is not None and other != tag.name:
                    raise ConfigError(
                        f"{where}: {spelling!r} is already a name or alias of {other!r}; keep one."
                    )
                by_key[key] = tag.name
            if not tag.keywords:
                raise ConfigError(f"{where}: needs at least one keyword rule for the no-LLM mode.")
            for keyword in tag.keywords:
                try:
                    compiled = re.compile(keyword, re.IGNORECASE)
                except re.error as exc:
                    raise ConfigError(
                        f"{where}: keyword {keyword!r} is not a valid regular expression ({exc}); fix it."
                    ) from exc
                if compiled.match(""):
                    raise ConfigError(f"{where}: keyword {keyword!r} matches empty text; make it specific.")
            # One alternation per tag: overlapping keywords ("language model", "large language model")
            # then count once per place in the text.
            try:
                rule = re.compile("|".join(f"(?:{k})" for k in tag.keywords), re.IGNORECASE)
            except re.error as exc:
                raise ConfigError(
                    f"{where}: keywords do not combine into one rule ({exc}); fix them."
                ) from exc
            rules.append((tag.name, rule))
        # Read-only after construction: load_vocabulary hands one instance to every caller in the process.
        self._by_key: Mapping[str, str] = MappingProxyType(by_key)
        self._rules: tuple[tuple[str, re.Pattern[str]], ...] = tuple(rules)

    def __repr__(self) -> str:
        return f"Vocabulary({len(self.tags)} tags)"

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(tag.name for tag in self.tags)

    def canonical(self, name: str) -> str | None:
        """The canonical name for a name or alias, ignoring case and spacing; None when unknown."""
        return self._by_key.get(_key(name))

    def match_keywords(self, title: str, abstract: str, limit: int = MAX_TAGS) -> tuple[str, ...]:
        """Up to ``limit`` canonical names whose keyword rules fire, best first (ties: file order)."""
        scored: list[tuple[int, int, str]] = []
        for order, (name, rule) in enumerate(self._rules):
            in_title = _count(rule, title)
            in_abstract = min(_count(rule, abstract), ABSTRACT_CAP)
            score = TITLE_WEIGHT * in_title + in_abstract
            if score >= MIN_SCORE:
                scored.append((-score, order, name))
        scored.sort()
        return tuple(name for _, _, name in scored[: max(limit, 0)])


def _count(rule: re.Pattern[str], text: str) -> int:
    return sum(1 for m in rule.finditer(text) if m.end() > m.start())


def load_vocabulary(path: Path | None = None) -> Vocabulary:
    """Read and validate a vocabulary file (default ``prompts/tags.toml``). One instance per process per
    *content* of the file: a run needs it in several stages, and compiling its keyword rules is not free."""
    path = path or DEFAULT_VOCABULARY
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(f"tag vocabulary {path} does not exist; restore prompts/tags.toml.") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read tag vocabulary {path}: {exc}; fix the file.") from exc
    return _parse_vocabulary(path, text)


@functools.lru_cache(maxsize=8)
def _parse_vocabulary(path: Path, text: str) -> Vocabulary:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"cannot read tag vocabulary {path}: {exc}; fix the file.") from exc
    except RecursionError:
        raise ConfigError(f"cannot read tag vocabulary {path}: values nested too deeply; fix the file.") from None

    entries = raw.get("tag")
    if set(raw) - {"tag"} or not isinstance(entries, list) or not entries:
        raise ConfigError(f"{path}: expected only [[tag]] tables, at least one; fix the file.")
    tags = []
    for i, entry in enumerate(entries):
        label = entry.get("name", f"#{i + 1}") if isinstance(entry, dict) else f"#{i + 1}"
        try:
            values = check(entry, _TAG_SPEC, required=("name",), what="a [[tag]] table")
            if not values["name"].strip():
                raise CheckError("name", "name is missing")
        except CheckError as exc:
            problem = "needs a non-empty name" if str(exc) == "name is missing" else str(exc)
            line = toml_line(text, ("tag", i), exc.key)
            at = f"{path} line {line}" if line else str(path)
            raise ConfigError(f"{at}: tag {label!r}: {problem}; fix the file.") from None
        name = values["name"]
        tags.append(
            Tag(
                name=name,
                aliases=values.get("aliases", ()),
                keywords=values.get("keywords", ()),
                description=values.get("description", ""),
            )
        )
    return Vocabulary(tags, source=str(path))


class _Canonical(Protocol):
    def canonical(self, name: str) -> str | None: ...


def canonicalize(vocab: _Canonical, names: Iterable[object]) -> tuple[tuple[str, ...], list[str]]:
    """``(canonical names, deduplicated, in order; the unknown ones)``; blanks and non-strings are skipped."""
    canonical: list[str] = []
    unknown: list[str] = []
    for raw in names:
        name = raw.strip() if isinstance(raw, str) else ""
        if not name:
            continue
        mapped = vocab.canonical(name)
        if mapped is None:
            unknown.append(name)
        elif mapped not in canonical:
            canonical.append(mapped)
    return tuple(canonical), unknown
