"""Chat messages for the LLM, rendered from the files in ``prompts/``.

    summary_messages(title=..., abstract=..., tag_names=vocab.names)  # system + few-shot + the paper
    repair_messages(previous, bad_answer, problems)                   # + one corrective turn
    overview_messages(date=..., items=[(summary, tags), ...])        # the day's overview

Every function returns plain OpenAI message dicts (``{"role": ..., "content": ...}``).

The templates are Jinja2, rendered by langchain-core's ``ChatPromptTemplate`` (a sandboxed environment).
Text from a paper is always a variable *value*, never template source, and sits between delimiters
(``<abstract>…</abstract>``) that the value itself cannot open or close (see ``as_data``); the system
prompt tells the model that instructions inside them are data. langchain renders a missing variable as
"", so inputs are checked here: a missing or empty one is a ValueError. The register (해라체/합니다체),
target length and few-shot examples live in the prompt files, which also make up the cache's prompt
version. ``langchain_core`` is imported only when a prompt is rendered, so a fully cached run never pays
for it.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

from agent.errors import ConfigError
from agent.models import MAX_TAGS

__all__ = [
    "OVERVIEW_SCHEMA",
    "VERIFY_SCHEMA",
    "PROMPTS_DIR",
    "as_data",
    "overview_messages",
    "repair_messages",
    "summary_messages",
    "summary_schema",
    "describe_tags",
    "verify_messages",
]


def _prompts_dir() -> Path:
    """``prompts/`` at the repository top in a checkout (and an editable install); in an installed wheel the
    same files ship as the data-only package ``agent.prompts_data`` (pyproject.toml maps it)."""
    here = Path(__file__).resolve().parent
    installed = here / "prompts_data"
    return installed if installed.is_dir() else here.parent / "prompts"


PROMPTS_DIR = _prompts_dir()

Message = dict[str, str]

# Every tag the templates use to fence off data. A value may not contain one, opening or closing.
_DELIMITERS = (
    "paper_title",
    "abstract",
    "editor_note",
    "allowed_tags",
    "validation_problems",
    "tag_counts",
    "summaries",
    "summary_line",
)
_DELIMITER_RE = re.compile(r"<(?=\s*/?\s*(?:" + "|".join(_DELIMITERS) + r")\b)", re.IGNORECASE)
_NEUTRAL_LT = "\uff1c"  # FULLWIDTH LESS-THAN SIGN: reads the same, closes nothing

_STYLE_KEYS = {
    "summary": ("register", "endings", "min_chars", "max_chars", "banned_hype"),
    "overview": ("register", "endings", "max_sentences"),
}
_ROLES = {"system": "system", "human": "user", "ai": "assistant"}

OVERVIEW_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"overview": {"type": "string", "description": "오늘의 개요, 합니다체 1–2문장"}},
    "required": ["overview"],
    "additionalProperties": False,
}


VERIFY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "verdict": {"type": "string", "enum": ["yes", "no"], "description": "요약이 초록에 충실한가"},
        "reason": {"type": "string", "description": "판정 이유, 한국어 한 문장"},
    },
    "required": ["verdict", "reason"],
    "additionalProperties": False,
}


class TagLike(Protocol):
    """What ``describe_tags`` reads from a vocabulary tag (agent.vocab's Tag fits)."""

    @property
    def name(self) -> str: ...
    @property
    def aliases(self) -> Sequence[str]: ...
    @property
    def description(self) -> str: ...


def as_data(text: str) -> str:
    """``text`` made unable to open or close a prompt delimiter: ``</abstract>`` becomes ``＜/abstract>``."""
    return _DELIMITER_RE.sub(_NEUTRAL_LT, text)


def describe_tags(tags: Iterable[TagLike]) -> dict[str, str]:
    """One hint per tag for the system prompt: its description (name → hint).

    Aliases are left out: the answer schema's enum already holds only canonical names, and listing every
    alias cost ~900 prompt tokens per paper (about a fifth of the prompt) for no constraint the schema
    lacks; an alias the model still writes is mapped back by the validator."""
    return {tag.name: tag.description.strip() for tag in tags if tag.description and tag.description.strip()}


def summary_schema(tag_names: Sequence[str]) -> dict[str, Any]:
    """The strict JSON schema of a summary answer; ``tags`` may only hold vocabulary names."""
    names = _tag_names(tag_names)
    return {
        "type": "object",
        "properties": {
            "summary": {"type": "string", "description": "한국어 한 줄 요약, 한 문장"},
            "tags": {
                "type": "array",
                "items": {"type": "string", "enum": names},
                "minItems": 1,
                "maxItems": MAX_TAGS,
                "description": f"허용된 태그 1–{MAX_TAGS}개, 첫 번째가 주 분야",
            },
            "new_keywords": {
                "type": "array",
                "items": {"type": "string"},
                "maxItems": 5,
                "description": "어휘에 없는 키워드 제안 0–5개",
            },
        },
        "required": ["summary", "tags", "new_keywords"],
        "additionalProperties": False,
    }


def summary_messages(
    *,
    title: str,
    abstract: str,
    tag_names: Sequence[str],
    note: str | None = None,
    tag_hints: Mapping[str, str] | None = None,
    prompts_dir: Path | None = None,
) -> list[Message]:
    """System prompt (rules + allowed tags), the few-shot examples, then the paper.

    ``note`` is the editor's extra instruction for a regeneration (trusted, but still delimited);
    ``tag_hints`` maps a tag name to a one-line description shown next to it (see ``describe_tags``).
    """
    d = prompts_dir or PROMPTS_DIR
    title = _required("title", title)
    abstract = _required("abstract", abstract)
    names = _tag_names(tag_names)
    if note is not None and not isinstance(note, str):
        raise ValueError("note must be a string or None.")
    note = note.strip() if note else ""
    hints = tuple((n, " ".join(tag_hints[n].split())) for n in names if tag_hints and tag_hints.get(n))
    # The paper's turn first: a template variable without a value is reported before anything else renders.
    (paper,) = _render(
        [("human", _template("summary_user.j2", d))],
        style=_style("summary", d),
        title=as_data(title),
        abstract=as_data(abstract),
        note=as_data(note),
    )
    sources = tuple(_read(d / n) for n in ("summary_system.j2", "summary_user.j2", "examples.toml", "style.toml"))
    head = _summary_head(tuple(names), hints, d, sources)
    return [*(dict(m) for m in head), paper]


@lru_cache(maxsize=8)
def _summary_head(
    names: tuple[str, ...], hints: tuple[tuple[str, str], ...], d: Path, sources: tuple[str, ...]
) -> tuple[Message, ...]:
    """System prompt + few-shot turns: the same for every paper of a run, so rendered once (langchain
    compiles a jinja2 template on every format call). ``sources`` (the prompt files' text) is only part of
    the cache key, so edited prompt files render afresh."""
    from langchain_core.prompts import ChatPromptTemplate, FewShotChatMessagePromptTemplate

    hint = dict(hints)
    shots = FewShotChatMessagePromptTemplate(
        examples=_examples(set(names), d),
        example_prompt=ChatPromptTemplate.from_messages(
            [("human", _template("summary_user.j2", d)), ("ai", "{{ answer }}")], template_format="jinja2"
        ),
    )
    return tuple(
        _render(
            [("system", _template("summary_system.j2", d)), shots],
            style=_style("summary", d),
            tags=[{"name": n, "hint": as_data(hint.get(n, ""))} for n in names],
        )
    )


def repair_messages(
    previous: list[Message], bad_answer: str, problems: Sequence[str], *, prompts_dir: Path | None = None
) -> list[Message]:
    """``previous`` + the model's rejected answer + one request to fix the listed validation problems."""
    d = prompts_dir or PROMPTS_DIR
    if not previous:
        raise ValueError("previous must hold the messages of the first attempt.")
    listed = [" ".join(str(p).split()) for p in problems]
    listed = [p for p in listed if p]
    if not listed:
        raise ValueError("problems must name at least one validation problem.")
    (request,) = _render(
        [("human", _template("repair_user.j2", d))],
        style=_style("summary", d),
        problems=[as_data(p) for p in listed],
    )
    # An empty assistant turn is refused by some servers; say it was empty instead.
    answer = bad_answer if bad_answer and bad_answer.strip() else "(빈 답)"
    return [*(dict(m) for m in previous), {"role": "assistant", "content": answer}, request]


def overview_messages(
    *, date: str, items: Sequence[tuple[str, Sequence[str]]], prompts_dir: Path | None = None
) -> list[Message]:
    """The day's overview from the validated one-liners and their tags, with the tag counts precomputed
    (models miscount; the overview must name themes with the right number of papers)."""
    d = prompts_dir or PROMPTS_DIR
    date = _required("date", date)
    rows: list[tuple[str, list[str]]] = []
    for i, item in enumerate(items, 1):
        summary, tags = item
        summary = _required(f"items[{i}] summary", summary)
        if isinstance(tags, str) or not all(isinstance(t, str) for t in tags):
            raise ValueError(f"items[{i}] tags must be a sequence of tag names.")
        rows.append((as_data(" ".join(summary.split())), [as_data(t) for t in tags if t.strip()]))
    if not rows:
        raise ValueError("items must hold at least one (summary, tags) pair.")
    counts = Counter(t for _, tags in rows for t in dict.fromkeys(tags))
    return _render(
        [("system", _template("overview_system.j2", d)), ("human", _template("overview_user.j2", d))],
        style=_style("overview", d),
        date=as_data(date),
        count=len(rows),
        tag_counts=counts.most_common(),  # ties keep first appearance (Counter preserves insertion order)
        items=rows,
    )


def verify_messages(*, title: str, abstract: str, summary: str, prompts_dir: Path | None = None) -> list[Message]:
    """The faithfulness check of one validated summary against its paper (``--verify``): system + the paper
    and the line, all three delimited data."""
    d = prompts_dir or PROMPTS_DIR
    return _render(
        [("system", _template("verify_system.j2", d)), ("human", _template("verify_user.j2", d))],
        title=as_data(_required("title", title)),
        abstract=as_data(_required("abstract", abstract)),
        summary=as_data(" ".join(_required("summary", summary).split())),
    )


# -- rendering ------------------------------------------------------------------------------------------


def _render(parts: list[Any], **values: Any) -> list[Message]:
    from langchain_core.prompts import ChatPromptTemplate

    prompt = ChatPromptTemplate.from_messages(parts, template_format="jinja2")
    missing = set(prompt.input_variables) - values.keys()
    if missing:  # a template names a variable this module does not pass: it would render as ""
        raise ValueError(f"prompt variable(s) without a value: {', '.join(sorted(missing))}.")
    messages = []
    for message in prompt.format_messages(**values):
        role = _ROLES.get(message.type)
        if role is None or not isinstance(message.content, str):  # pragma: no cover - templates are text
            raise ValueError(f"unexpected prompt message {message.type!r}.")
        messages.append({"role": role, "content": message.content.strip()})
    return messages


def _required(name: str, value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string, not {type(value).__name__}.")
    if not value.strip():
        raise ValueError(f"{name} is empty.")
    return value.strip()


def _tag_names(tag_names: Sequence[str]) -> list[str]:
    if isinstance(tag_names, str):
        raise ValueError("tag_names must be a sequence of names, not one string.")
    names = list(dict.fromkeys(n.strip() for n in tag_names if isinstance(n, str) and n.strip()))
    if not names:
        raise ValueError("tag_names is empty: the vocabulary must name at least one tag.")
    return names


# -- prompt files (read once per process; their bytes are the cache's prompt version) ------------------


def _template(name: str, d: Path) -> str:
    return _read(d / name)


@lru_cache(maxsize=32)
def _read(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read prompt file {path}: {exc.strerror or exc}.") from exc
    if not text.strip():
        raise ConfigError(f"prompt file {path} is empty.")
    return text


def _toml(name: str, d: Path) -> dict[str, Any]:
    path = d / name
    try:
        return tomllib.loads(_read(path))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"prompt file {path} is not valid TOML: {exc}.") from exc
    except RecursionError:
        raise ConfigError(f"prompt file {path} is not valid TOML: values nested too deeply.") from None


def _style(section: str, d: Path) -> dict[str, Any]:
    style = _toml("style.toml", d).get(section)
    keys = _STYLE_KEYS[section]
    if not isinstance(style, dict) or any(style.get(k) in (None, "") for k in keys):
        raise ConfigError(f"{d / 'style.toml'} [{section}] must set {', '.join(keys)}.")
    return style


def _examples(allowed: set[str], d: Path) -> list[dict[str, str]]:
    """Few-shot examples whose tags the vocabulary knows, as values for summary_user.j2 + the answer."""
    examples = []
    for ex in _toml("examples.toml", d).get("example", []):
        tags = [t for t in ex.get("tags", []) if t in allowed]
        if not tags:  # teaching a tag the vocabulary lacks would be worse than one example fewer
            continue
        answer = {"summary": ex["summary"], "tags": tags, "new_keywords": list(ex.get("new_keywords", []))}
        examples.append(
            {
                "title": as_data(ex["title"].strip()),
                "abstract": as_data(ex["abstract"].strip()),
                "note": "",
                "answer": json.dumps(answer, ensure_ascii=False),
            }
        )
    return examples
