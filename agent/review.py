"""Editorial review: per-date review state beside the draft, merged on every run, edited by the editor.

Files per date, all under ``<out>/drafts/``, written under the date's lock (agent.lock) as one change
(agent.fsutil.write_files: all of them or none):

- ``<date>-snapshot.json``  machine-written by ``run``: the day's papers, the model's latest answers, the
  overview, the ids of the papers it was written from (``overview_ids``) and the fingerprint of their ids,
  summaries and tags (``overview_fingerprint``): the overview is shown only while the papers shown match it.
- ``<date>-review.toml``    the review state, human-editable and diff-friendly: one table per paper id.
- ``<date>-hf-daily-papers.md``  the draft, always rendered from snapshot + review state (editor text wins).

A hand save of the review file while a command holds the lock is never overwritten: the command stops
with nothing written (ReviewError) and is run again. The file is rewritten only when its state changes.

Statuses: ``pending`` (model answer not reviewed), ``flagged`` (model answer failed validation, not reviewed;
its text, if any, is kept in ``model_summary`` for the editor and never published unless edited),
``needs-review`` (the abstract changed after approval/edit; the old edit is kept), ``approved`` (the model's
answer, pinned as approved), ``edited`` (editor text), ``rejected`` (left out of draft and post),
``vanished`` (no longer among the day's papers; kept in the file, restored if it comes back).

Why the state keeps its own copy of the model's answer (``model_summary``/``model_tags``): an approval is of a
*text*. A later run with another prompt or model must not swap the published sentence under an approval, so
approved and edited entries keep the answer they were judged on; pending and flagged entries follow the run.

Why ``regenerate`` asks the LLM outside the lock: the call takes seconds; holding the lock that long would
make a nightly run or a second editor command time out. The answer is applied under the lock afterwards,
on the state as it is then, so nothing written meanwhile is lost.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import re
import tomllib
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast, get_args

from agent.config import Config, LLMConfig, PostConfig
from agent.errors import ReviewError
from agent.fsutil import write_files
from agent.lock import DEFAULT_TIMEOUT, date_lock
from agent.models import Digest, DigestItem, Enrichment, Origin, Paper
from agent.models import Status as EnrichmentStatus
from agent.vocab import canonicalize

if TYPE_CHECKING:
    from agent.vocab import Vocabulary

ReviewStatus = Literal["pending", "approved", "edited", "rejected", "flagged", "needs-review", "vanished"]
STATUSES: tuple[str, ...] = get_args(ReviewStatus)
OPEN_STATUSES = ("pending", "flagged", "needs-review")  # what blocks publish
DONE_STATUSES = ("approved", "edited")
MAX_EDITOR_TAGS = 3

NEEDS_REVIEW_REASON = "초록이 바뀌어 다시 검토해야 함"
_KEEPS_EDIT = " (이전 편집 유지)"


# -- paths and fingerprints ---------------------------------------------------------------------------


def snapshot_path(out_dir: Path, day: dt.date) -> Path:
    return out_dir / "drafts" / f"{day.isoformat()}-snapshot.json"


def review_path(out_dir: Path, day: dt.date) -> Path:
    return out_dir / "drafts" / f"{day.isoformat()}-review.toml"


def _draft_path(out_dir: Path, day: dt.date) -> Path:
    from agent.pipeline import draft_path  # lazy: pipeline imports this module

    return draft_path(out_dir, day)


def fingerprint(abstract: str) -> str:
    """The abstract's fingerprint; whitespace-insensitive so a reflowed abstract is not a changed one."""
    return hashlib.sha256(" ".join(abstract.split()).encode("utf-8")).hexdigest()[:16]


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


# -- the snapshot -------------------------------------------------------------------------------------


def dump_snapshot(digest: Digest, overview_ids: Sequence[str], overview_fp: str) -> str:
    """The run's papers and model answers as the snapshot file holds them. ``overview_ids``: the papers
    the overview was written from; ``overview_fp``: their overview_fingerprint, so the draft and the post
    can tell when it no longer fits (a paper left out, or its summary or tags changed)."""
    data = {
        "date": digest.date.isoformat(),
        "total": digest.total,
        "overview": digest.overview,
        "overview_ids": list(overview_ids),
        "overview_fingerprint": overview_fp,
        "papers": [asdict(it.paper) for it in sorted(digest.items, key=lambda it: it.rank)],
        "enrichments": {it.paper.id: it.enrichment.to_json() for it in digest.items},
    }
    return json.dumps(data, ensure_ascii=False, indent=1) + "\n"


def overview_basis(digest: Digest) -> tuple[str, ...]:
    """The papers an LLM overview of ``digest`` is written from (agent.enrich: the summarized ones)."""
    return tuple(it.paper.id for it in digest.items if it.enrichment.status == "summarized" and it.enrichment.summary)


def overview_fingerprint(items: Iterable[DigestItem]) -> str:
    """Each paper's id, summary and tags, order-insensitive: the overview fits the papers a draft or post
    shows only while they give the fingerprint of the papers it was written from."""
    rows = [
        [it.paper.id, it.enrichment.summary, list(it.enrichment.tags)]
        for it in sorted(items, key=lambda it: it.paper.id)
    ]
    return hashlib.sha256(json.dumps(rows, ensure_ascii=False).encode("utf-8")).hexdigest()[:16]


def _basis_fingerprint(digest: Digest, ids: Sequence[str]) -> str:
    wanted = set(ids)
    return overview_fingerprint(it for it in digest.items if it.paper.id in wanted)


def load_snapshot(out_dir: Path, day: dt.date) -> Digest:
    """The day's digest as the last run (or regenerate) left it, ranks 1..N in the run's order."""
    return _read_snapshot(out_dir, day)[0]


# What the snapshot's values must be (it is a file a person can damage), and which keys must be there.
_STRING, _OPTIONAL, _INTEGER, _STRINGS = "a string", "a string or null", "an integer", "a list of strings"
_PAPER_KINDS = {
    "id": _STRING, "title": _STRING, "abstract": _STRING, "upvotes": _INTEGER, "authors": _STRINGS,
    "organization": _OPTIONAL, "github_repo": _OPTIONAL, "project_page": _OPTIONAL, "published_at": _OPTIONAL,
    "ai_keywords": _STRINGS,
}  # fmt: skip
_ENRICHMENT_KINDS = {
    "status": _STRING, "origin": _STRING, "summary": _OPTIONAL, "tags": _STRINGS, "new_keywords": _STRINGS,
    "flag_reason": _OPTIONAL,
}  # fmt: skip
_SNAPSHOT_KINDS = {
    "date": _STRING, "total": _INTEGER, "overview": _OPTIONAL, "overview_ids": _STRINGS,
    "overview_fingerprint": _STRING, "papers": "a list", "enrichments": "an object",
}  # fmt: skip


def _json_type(value: Any) -> str:
    names = {type(None): "null", bool: "a boolean", int: "a number", float: "a number", str: "a string"}
    return names.get(type(value)) or ("a list" if isinstance(value, list) else "an object")


def _fits(value: Any, kind: str) -> bool:
    if kind == _STRING:
        return isinstance(value, str)
    if kind == _OPTIONAL:
        return value is None or isinstance(value, str)
    if kind == _INTEGER:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == _STRINGS:
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    return isinstance(value, list) if kind == "a list" else isinstance(value, dict)


def _checked(raw: Any, kinds: Mapping[str, str], required: Sequence[str]) -> dict[str, Any]:
    """The known keys of JSON object ``raw``, lists of strings as tuples; ValueError saying what is wrong."""
    if not isinstance(raw, dict):
        raise ValueError(f"must be an object, not {_json_type(raw)}")
    values: dict[str, Any] = {}
    for key, kind in kinds.items():
        if key not in raw:
            if key in required:
                raise ValueError(f"{key} is missing")
            continue
        if not _fits(raw[key], kind):
            raise ValueError(f"{key} must be {kind}, not {_json_type(raw[key])}")
        values[key] = tuple(raw[key]) if kind == _STRINGS else raw[key]
    return values


def _read_snapshot(out_dir: Path, day: dt.date) -> tuple[Digest, tuple[str, ...], str]:
    """The snapshot's digest, the ids its overview was written from and their overview_fingerprint.
    ReviewError naming the file (and the paper) when it is missing or damaged."""
    path = snapshot_path(out_dir, day)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReviewError(
            f"no run recorded for {day}: {path} is missing; run `paper-digest run --date {day}` first."
        ) from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ReviewError(f"cannot read {path} ({exc}); re-run `paper-digest run --date {day}`.") from exc

    def damaged(problem: str) -> ReviewError:
        return ReviewError(f"{path}: {problem}; re-run `paper-digest run --date {day}` to rebuild it.")

    try:
        top = _checked(raw, _SNAPSHOT_KINDS, required=("date", "total", "papers", "enrichments"))
        if top["date"] != day.isoformat():
            raise ValueError(f"date is {top['date']!r}, not {day}")
    except ValueError as exc:
        raise damaged(str(exc)) from None
    items: list[DigestItem] = []
    for rank, entry in enumerate(top["papers"], 1):
        pid = entry.get("id") if isinstance(entry, dict) else None
        try:
            paper = Paper(**_checked(entry, _PAPER_KINDS, required=("id", "title", "abstract")))
            if any(it.paper.id == paper.id for it in items):
                raise ValueError("listed twice")
            if paper.id not in top["enrichments"]:
                raise ValueError("its enrichment is missing")
            try:
                e = _checked(top["enrichments"][paper.id], _ENRICHMENT_KINDS, required=("status", "origin"))
            except ValueError as exc:
                raise ValueError(f"enrichment: {exc}") from None
            if e["status"] not in get_args(EnrichmentStatus) or e["origin"] not in get_args(Origin):
                raise ValueError(f"enrichment: unknown status {e['status']!r} or origin {e['origin']!r}")
        except ValueError as exc:
            raise damaged(f"paper {pid if isinstance(pid, str) else f'#{rank}'}: {exc}") from None
        items.append(DigestItem(rank=rank, paper=paper, enrichment=Enrichment(**e)))
    digest = Digest(date=day, items=tuple(items), total=top["total"], overview=top.get("overview"))
    ids = top.get("overview_ids")  # absent in snapshots written before it was recorded
    ids = overview_basis(digest) if ids is None else ids
    fp = top.get("overview_fingerprint")  # absent in snapshots that recorded only the ids
    return digest, ids, _basis_fingerprint(digest, ids) if fp is None else fp


# -- the review state ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReviewEntry:
    """One paper's review. ``summary``/``tags`` are the editor's (None: use the model's)."""

    status: ReviewStatus
    title: str = ""  # for the human reading the file; refreshed by every run
    summary: str | None = None
    tags: tuple[str, ...] | None = None
    note: str | None = None  # the editor's note of the last regenerate
    model_summary: str | None = None
    model_tags: tuple[str, ...] = ()
    new_keywords: tuple[str, ...] = ()  # the model's suggestions for the vocabulary
    flag_reason: str | None = None  # why the model's answer was flagged
    abstract_sha: str = ""  # fingerprint of the abstract this entry was judged on
    updated_at: str = ""
    previous_status: ReviewStatus | None = None  # vanished: the status to restore if the paper comes back

    @property
    def has_edit(self) -> bool:
        return self.summary is not None or self.tags is not None

    def model_enrichment(self) -> Enrichment:
        """The model's answer this entry holds, as an Enrichment."""
        if self.flag_reason is not None:
            status, origin = "flagged", "llm"
        elif self.model_summary is not None:
            status, origin = "summarized", "llm"
        else:
            status, origin = "awaiting", "keywords"
        return Enrichment(
            status=cast(Any, status),
            origin=cast(Any, origin),
            summary=self.model_summary,
            tags=self.model_tags,
            new_keywords=self.new_keywords,
            flag_reason=self.flag_reason,
        )

    def with_model(self, e: Enrichment) -> ReviewEntry:
        return replace(
            self,
            model_summary=e.summary,
            model_tags=tuple(e.tags),
            new_keywords=tuple(e.new_keywords),
            flag_reason=(e.flag_reason or "사유가 기록되지 않음") if e.status == "flagged" else None,
        )


@dataclass(frozen=True, slots=True)
class ReviewState:
    date: dt.date
    entries: Mapping[str, ReviewEntry]  # rank order, vanished papers last


_KEY_ORDER = tuple(f.name for f in fields(ReviewEntry))
_STR_KEYS = {"title", "summary", "note", "model_summary", "flag_reason", "abstract_sha", "updated_at"}
_LIST_KEYS = {"tags", "model_tags", "new_keywords"}


def _header(day: dt.date) -> str:
    return (
        f"# paper-digest review state for {day}: one table per paper id, in rank order.\n"
        f"# status: {' | '.join(STATUSES)}\n"
        "# summary/tags are the editor's and win over model_summary/model_tags (\"approved\" with them is read\n"
        f"# as \"edited\"). Hand edits are fine; `paper-digest review {day} --edit ID --summary TEXT` also checks\n"
        f"# the text. needs-review is cleared with `paper-digest review {day} --approve ID`: a status set by\n"
        "# hand on a needs-review paper reverts at the next run.\n"
        "# Comments survive while paper-digest has nothing to change here; when it writes a change, it rewrites\n"
        "# this file without them.\n\n"
    )


def dump_review(state: ReviewState) -> str:
    import tomli_w

    doc: dict[str, dict[str, Any]] = {}
    for pid, entry in state.entries.items():
        table: dict[str, Any] = {}
        for key in _KEY_ORDER:
            value = getattr(entry, key)
            if value is None or (key in ("title", "updated_at", "abstract_sha") and value == ""):
                continue
            table[key] = list(value) if isinstance(value, tuple) else value
        doc[pid] = table
    return _header(state.date) + tomli_w.dumps(doc)


def load_review(out_dir: Path, day: dt.date, vocab: Vocabulary | None = None) -> ReviewState | None:
    """The date's review state, None when there is none yet. A broken file raises ReviewError naming
    the file and the line; editor tags must be vocabulary names or aliases (mapped to the name)."""
    return _read_review(out_dir, day, vocab)[0]


def _read_review(
    out_dir: Path, day: dt.date, vocab: Vocabulary | None = None
) -> tuple[ReviewState | None, bytes | None]:
    """The review state and the file's bytes as read (both None: no file yet)."""
    path = review_path(out_dir, day)
    try:
        data = path.read_bytes()
        text = data.decode("utf-8")
    except FileNotFoundError:
        return None, None
    except (OSError, UnicodeDecodeError) as exc:
        raise ReviewError(f"cannot read {path} ({exc}); fix or remove the file.") from exc
    return parse_review(text, day, where=str(path), vocab=vocab), data


def parse_review(text: str, day: dt.date, *, where: str, vocab: Vocabulary | None = None) -> ReviewState:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ReviewError(f"{where}: invalid TOML: {exc}; fix the file (nothing was changed).") from exc
    if vocab is None:
        from agent.vocab import load_vocabulary

        vocab = load_vocabulary()
    entries: dict[str, ReviewEntry] = {}
    for pid, table in raw.items():
        if not isinstance(table, dict):
            raise ReviewError(
                f'{where} line {_line_of(text, None, pid)}: {pid!r} must be a table ["<paper id>"].'
            )
        entries[pid] = _entry_from_table(pid, table, text, where, vocab)
    return ReviewState(date=day, entries=entries)


def _entry_from_table(
    pid: str, table: dict[str, Any], text: str, where: str, vocab: Vocabulary
) -> ReviewEntry:
    def fail(key: str | None, problem: str) -> ReviewError:
        return ReviewError(f"{where} line {_line_of(text, pid, key)}: paper {pid}: {problem}; fix the file.")

    unknown = sorted(set(table) - set(_KEY_ORDER))
    if unknown:
        raise fail(unknown[0], f"unknown key {unknown[0]!r} (known: {', '.join(_KEY_ORDER)})")
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key in ("status", "previous_status"):
            if value not in STATUSES:
                raise fail(key, f"unknown {key} {value!r} (use one of: {', '.join(STATUSES)})")
        elif key in _STR_KEYS:
            if not isinstance(value, str):
                raise fail(key, f"{key} must be a string")
        elif key in _LIST_KEYS:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise fail(key, f"{key} must be a list of strings")
            value = tuple(value)
        values[key] = value
    if "status" not in values:
        raise fail(None, f"no status (use one of: {', '.join(STATUSES)})")
    if values.get("tags") is not None:
        tags, bad = canonicalize(vocab, values["tags"])
        if bad:
            raise fail("tags", _unknown_tags_message(bad, vocab))
        values["tags"] = tags
    if values.get("summary") is not None or values.get("tags") is not None:
        # The editor's text wins (the header says so): "approved" would publish the model's instead.
        for key in ("status", "previous_status"):
            if values.get(key) == "approved":
                values[key] = "edited"
    return ReviewEntry(**values)


_HEADER = re.compile(r"^\s*\[(?!\[)")
_KEY = re.compile(r"""^\s*(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|([A-Za-z0-9_-]+))\s*=""")


def _line_of(text: str, pid: str | None, key: str | None) -> int:
    """1-based line of ``key`` in table ``pid`` (a top-level key when pid is None), else the line of the
    table's header, else 1. Best effort: it only points the editor at the right place."""
    section: str | None = None
    header_line = 0
    for n, line in enumerate(text.splitlines(), 1):
        if _HEADER.match(line):
            try:
                section = next(iter(tomllib.loads(line)), None)
            except tomllib.TOMLDecodeError:
                section = None
            if pid is not None and section == pid and not header_line:
                header_line = n
            continue
        m = _KEY.match(line)
        if m and key is not None and section == pid and next(g for g in m.groups() if g is not None) == key:
            return n
    return header_line or 1


# -- merging a run into the state ---------------------------------------------------------------------


def _open_status(e: Enrichment) -> ReviewStatus:
    return "flagged" if e.status == "flagged" else "pending"


def merge_review(state: ReviewState | None, digest: Digest, *, now: str | None = None) -> ReviewState:
    """Fold a run's digest into the review state (idempotent: merging the same digest twice changes nothing).

    New papers enter pending (flagged when the model's answer is); papers no longer in the digest become
    vanished; approvals and edits are kept, unless the abstract changed since, which makes them needs-review
    (the old edit stays). Pending/flagged entries take the run's answer, except a regenerated one (it has a
    note) on an unchanged abstract: the nightly run asks without the editor's note.
    """
    now = now or _now()
    old_entries: Mapping[str, ReviewEntry] = state.entries if state is not None else {}
    entries: dict[str, ReviewEntry] = {}
    for item in sorted(digest.items, key=lambda it: it.rank):
        paper, e = item.paper, item.enrichment
        sha = fingerprint(paper.abstract)
        old = old_entries.get(paper.id)
        if old is None:
            entries[paper.id] = ReviewEntry(
                status=_open_status(e), title=paper.title, abstract_sha=sha, updated_at=now
            ).with_model(e)
            continue
        cur = old
        if cur.status == "vanished":
            cur = replace(cur, status=cur.previous_status or "pending", previous_status=None)
        changed = cur.abstract_sha != sha
        if cur.status in DONE_STATUSES:
            if changed:
                cur = replace(cur.with_model(e), status="needs-review")
            elif cur.status == "approved" and not cur.has_edit and cur.model_summary is None and e.summary:
                # An approval of "no summary yet" (a --no-llm run) does not cover a sentence written later.
                cur = replace(cur.with_model(e), status=_open_status(e), abstract_sha=sha)
        elif cur.status == "needs-review":
            cur = cur.with_model(e)  # abstract_sha stays the one the old decision was made on
        elif cur.status == "rejected":
            cur = replace(cur.with_model(e), abstract_sha=sha)
        elif cur.note is None or changed:  # pending, flagged
            cur = replace(cur.with_model(e), status=_open_status(e), abstract_sha=sha)
        cur = replace(cur, title=paper.title)
        entries[paper.id] = replace(cur, updated_at=now) if cur != old else old
    for pid, old in old_entries.items():
        if pid not in entries:
            entries[pid] = (
                old
                if old.status == "vanished"
                else replace(old, status="vanished", previous_status=old.status, updated_at=now)
            )
    return ReviewState(date=digest.date, entries=entries)


# -- what the draft and the post show -----------------------------------------------------------------


def effective_enrichment(entry: ReviewEntry, *, final: bool) -> Enrichment:
    model = entry.model_enrichment()
    if entry.status == "edited" or (entry.status == "needs-review" and entry.has_edit):
        summary = entry.summary if entry.summary is not None else model.summary
        tags = entry.tags if entry.tags is not None else model.tags
        chosen = Enrichment(
            status="summarized" if summary else "awaiting",
            origin="editor",
            summary=summary,
            tags=tuple(tags),
            new_keywords=model.new_keywords,
        )
    else:
        chosen = model
    if entry.status in DONE_STATUSES and chosen.status != "summarized":
        # The editor approved it as it is (say, without a summary): no review marker, in the draft as in
        # the post. "summarized" with no summary renders as a paper without a summary line.
        chosen = replace(chosen, status="summarized", flag_reason=None)
    if entry.status == "needs-review" and not final:
        reason = NEEDS_REVIEW_REASON + (_KEEPS_EDIT if entry.has_edit else "")
        if chosen.status == "flagged" and chosen.flag_reason:
            reason += f"; {chosen.flag_reason}"
        chosen = replace(chosen, status="flagged", flag_reason=reason)
    return chosen


def effective_digest(digest: Digest, state: ReviewState, *, final: bool, overview_fp: str | None = None) -> Digest:
    """The digest as the draft (``final=False``: review markers) or the post shows it: editor text wins,
    rejected and vanished papers left out, ranks renumbered 1..N.

    The count ("총 N개") drops the papers left out. With ``post.top_n`` it stays the day's count, not the
    listed one: the papers beyond the top N were collected, just not listed. The LLM overview (written
    from the papers whose overview_fingerprint is ``overview_fp``, default: the summarized ones) is dropped
    when the papers shown are not exactly those with the same summaries and tags: its themes and counts
    would be stale, and render falls back to one built from the items shown."""
    items: list[DigestItem] = []
    left_out = 0
    for item in sorted(digest.items, key=lambda it: it.rank):
        entry = state.entries.get(item.paper.id)
        if entry is None:
            enrichment = item.enrichment
        elif entry.status in ("rejected", "vanished"):
            left_out += 1
            continue
        else:
            enrichment = effective_enrichment(entry, final=final)
        items.append(DigestItem(rank=len(items) + 1, paper=item.paper, enrichment=enrichment))
    basis = _basis_fingerprint(digest, overview_basis(digest)) if overview_fp is None else overview_fp
    fits = overview_fingerprint(items) == basis
    return replace(
        digest,
        items=tuple(items),
        total=max(digest.total - left_out, len(items)),
        overview=digest.overview if fits else None,
    )


def render_draft(digest: Digest, state: ReviewState, post: PostConfig, overview_fp: str | None = None) -> str:
    from agent.render import render_post

    return render_post(effective_digest(digest, state, final=False, overview_fp=overview_fp), post, final=False)


# -- the publish gate ---------------------------------------------------------------------------------


def summary_problems(paper: Paper, summary: str, llm: LLMConfig) -> list[str]:
    """What validate_summary finds in a summary of ``paper`` (the model's, an editor's, or a hand edit)."""
    from agent.validate import validate_summary

    return validate_summary(
        summary,
        abstract=paper.title + "\n" + paper.abstract,
        min_chars=llm.summary_min_chars,
        max_chars=llm.summary_max_chars,
    )


def tag_problems(tags: Sequence[str], vocab: Vocabulary) -> list[str]:
    canonical, unknown = canonicalize(vocab, tags)
    if unknown:
        return [f"tag(s) not in the vocabulary: {', '.join(unknown)} (see prompts/tags.toml)"]
    if canonical != tuple(tags):
        return [f"tags {', '.join(tags)} are not the vocabulary's names (use: {', '.join(canonical)})"]
    if len(canonical) > MAX_EDITOR_TAGS:
        return [f"{len(canonical)} tags (at most {MAX_EDITOR_TAGS})"]
    return []


def publish_problems(item: DigestItem, vocab: Vocabulary, llm: LLMConfig) -> list[str]:
    """Why an item of the final digest cannot be published as it is; [] when it can. The review file is
    human-editable, so what it holds is checked here rather than trusted: the summary the post would
    print (render prints "summarized" ones) and the tags."""
    e = item.enrichment
    problems: list[str] = []
    if e.status == "summarized" and e.summary:
        problems += [f"summary: {p}" for p in summary_problems(item.paper, e.summary, llm)]
    problems += [f"tags: {p}" for p in tag_problems(e.tags, vocab)]
    return problems


def without_problems(item: DigestItem, vocab: Vocabulary, llm: LLMConfig) -> DigestItem:
    """A forced publish: the item without a summary that fails validation and without unknown tags."""
    e = item.enrichment
    summary = e.summary if e.summary and not summary_problems(item.paper, e.summary, llm) else None
    tags = canonicalize(vocab, e.tags)[0][:MAX_EDITOR_TAGS]
    return replace(item, enrichment=replace(e, summary=summary, tags=tags))


# -- the day, opened and committed ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Day:
    digest: Digest  # the snapshot
    state: ReviewState  # merged with the snapshot
    vocab: Vocabulary
    overview_ids: tuple[str, ...]  # the papers the snapshot's overview was written from
    overview_fp: str  # their overview_fingerprint
    parsed: ReviewState | None  # the review file as read (None: no file yet)
    review_bytes: bytes | None  # its bytes as read: a hand save since then is never overwritten

    def final(self) -> Digest:
        """What the post would show."""
        return effective_digest(self.digest, self.state, final=True, overview_fp=self.overview_fp)


def open_day(out_dir: Path, day: dt.date) -> Day:
    """Snapshot + review state, merged (the state file may not exist yet). Reads only."""
    from agent.vocab import load_vocabulary

    vocab = load_vocabulary()
    digest, overview_ids, overview_fp = _read_snapshot(out_dir, day)
    parsed, review_bytes = _read_review(out_dir, day, vocab)
    return Day(
        digest=digest,
        state=merge_review(parsed, digest),
        vocab=vocab,
        overview_ids=overview_ids,
        overview_fp=overview_fp,
        parsed=parsed,
        review_bytes=review_bytes,
    )


def _commit(
    out_dir: Path,
    day: Day,
    post: PostConfig,
    *,
    snapshot: bool = False,
    extra: Sequence[tuple[Path, str]] = (),
    hint: str = "check --out and try again.",
) -> None:
    """Render everything first (a render failure writes nothing), then write snapshot, state, draft and
    ``extra`` as one change (agent.fsutil.write_files: all or none). Call under the lock, with ``day`` as
    read under it: the review file is left alone when its state is unchanged (its comments survive), and
    nothing is written if someone saved it since it was read (ReviewError)."""
    date = day.state.date
    state_file = review_path(out_dir, date)
    files = []
    if snapshot:
        files.append((snapshot_path(out_dir, date), dump_snapshot(day.digest, day.overview_ids, day.overview_fp)))
    if day.parsed is None or list(day.parsed.entries.items()) != list(day.state.entries.items()):
        files.append((state_file, dump_review(day.state)))
    files.append((_draft_path(out_dir, date), render_draft(day.digest, day.state, post, day.overview_fp)))
    write_files([*files, *extra], hint=hint, expect={state_file: day.review_bytes})


def record_run(
    out_dir: Path,
    digest: Digest,
    post: PostConfig,
    *,
    overview_ids: Sequence[str] | None = None,
    extra: Callable[[ReviewState], Sequence[tuple[Path, str]]] | None = None,
    lock_timeout: float = DEFAULT_TIMEOUT,
) -> ReviewState:
    """What ``run`` writes, under the date's lock: the snapshot, the merged review state, the draft rendered
    from both, and ``extra(merged state)`` (the run's report), all or none. Returns the merged state.
    ``overview_ids``: the papers the digest's overview was written from (default: the summarized ones).
    A broken review file raises ReviewError, and a failed write DigestError, with nothing changed."""
    from agent.vocab import load_vocabulary

    ids = overview_basis(digest) if overview_ids is None else tuple(overview_ids)
    with date_lock(out_dir, digest.date, lock_timeout):
        vocab = load_vocabulary()
        parsed, review_bytes = _read_review(out_dir, digest.date, vocab)
        state = merge_review(parsed, digest)
        day = Day(
            digest=digest,
            state=state,
            vocab=vocab,
            overview_ids=ids,
            overview_fp=_basis_fingerprint(digest, ids),
            parsed=parsed,
            review_bytes=review_bytes,
        )
        files = extra(state) if extra is not None else ()
        _commit(out_dir, day, post, snapshot=True, extra=files, hint="check --out (and --report) and run again.")
    return state


def _entry(day: Day, paper_id: str, action: str) -> ReviewEntry:
    entry = day.state.entries.get(paper_id)
    present = [pid for pid, e in day.state.entries.items() if e.status != "vanished"]
    if entry is None:
        raise ReviewError(
            f"no paper {paper_id!r} on {day.state.date}; ids: {', '.join(present) or '(none)'}."
        )
    if entry.status == "vanished":
        raise ReviewError(
            f"paper {paper_id} is no longer among the papers of {day.state.date} (vanished); "
            f"nothing to {action}."
        )
    return entry


def _paper(day: Day, paper_id: str) -> Paper:
    return next(it.paper for it in day.digest.items if it.paper.id == paper_id)


def _with_entry(day: Day, paper_id: str, entry: ReviewEntry) -> Day:
    entries = dict(day.state.entries)
    entries[paper_id] = replace(entry, updated_at=_now())
    return replace(day, state=replace(day.state, entries=entries))


def _next_step(day: Day, llm: LLMConfig) -> str:
    counts: Counter[str] = Counter(e.status for e in day.state.entries.values() if e.status in OPEN_STATUSES)
    if not counts:
        blocked = [it.paper.id for it in day.final().items if publish_problems(it, day.vocab, llm)]
        if blocked:
            return f"left to fix before publishing (--edit): {', '.join(blocked)}."
        return f"nothing left to review; publish with `paper-digest publish {day.state.date}`."
    left = ", ".join(f"{counts[s]} {s}" for s in OPEN_STATUSES if counts[s])
    return f"left to review: {left}."


# -- the editor's commands ----------------------------------------------------------------------------


def review_table(out_dir: Path, day: dt.date, cfg: Config) -> str:
    """The review table the CLI prints: rank (in the post), id, status, summary and tags; new keywords."""
    opened = open_day(out_dir, day)
    state = opened.state
    final = {it.paper.id: it for it in opened.final().items}
    ranks = {pid: it.rank for pid, it in final.items()}
    counts: Counter[str] = Counter(e.status for e in state.entries.values())
    lines = [
        f"{day}: {len(ranks)} of {len(state.entries)} papers in the post — "
        + ", ".join(f"{counts[s]} {s}" for s in STATUSES if counts[s]),
        "",
        f"{'#':>3}  {'id':<12}  {'status':<12}  tags",
    ]
    for pid, entry in state.entries.items():
        shown = effective_enrichment(entry, final=True)
        rank = str(ranks[pid]) if pid in ranks else "-"
        lines.append(f"{rank:>3}  {pid:<12}  {entry.status:<12}  {', '.join(shown.tags) or '-'}")
        lines.append(f"{'':>5}{entry.title}")
        lines.append(f"{'':>5}요약: {shown.summary or '(없음)'}")
        if entry.status == "needs-review" and entry.has_edit and entry.model_summary != shown.summary:
            lines.append(f"{'':>5}새 모델 요약: {entry.model_summary or '(없음)'}")
        if entry.flag_reason and entry.status in ("flagged", "pending", "needs-review"):
            lines.append(f"{'':>5}검증: {entry.flag_reason}")
        if pid in final:
            problems = publish_problems(final[pid], opened.vocab, cfg.llm)
            if problems:
                lines.append(f"{'':>5}⚠ 게시 불가 (--edit {pid}): {'; '.join(problems)}")
        if entry.note:
            lines.append(f"{'':>5}메모: {entry.note}")
        if entry.new_keywords:
            lines.append(f"{'':>5}new keywords: {', '.join(entry.new_keywords)}")
    lines += ["", f"review file: {review_path(out_dir, day)}", _next_step(opened, cfg.llm)]
    return "\n".join(lines)


def approve(
    out_dir: Path,
    day: dt.date,
    cfg: Config,
    ids: str | Sequence[str],
    *,
    lock_timeout: float = DEFAULT_TIMEOUT,
) -> str:
    """Approve papers: ``"all"`` (every pending and needs-review paper; flagged ones only by id), an id,
    comma-separated ids, or a list. An entry with an editor's edit becomes ``edited``, else ``approved``."""
    wanted = [i.strip() for i in ids.split(",")] if isinstance(ids, str) else [i.strip() for i in ids]
    wanted = [i for i in wanted if i]
    if not wanted:
        raise ReviewError("--approve needs a paper id or 'all'.")
    with date_lock(out_dir, day, lock_timeout):
        opened = open_day(out_dir, day)
        entries = opened.state.entries
        if wanted == ["all"]:
            targets = [pid for pid, e in entries.items() if e.status in ("pending", "needs-review")]
        else:
            targets = [
                pid
                for pid in dict.fromkeys(wanted)
                if _entry(opened, pid, "approve").status not in DONE_STATUSES
            ]
        sha = {it.paper.id: fingerprint(it.paper.abstract) for it in opened.digest.items}
        for pid in targets:
            entry = opened.state.entries[pid]
            status: ReviewStatus = "edited" if entry.has_edit else "approved"
            opened = _with_entry(opened, pid, replace(entry, status=status, abstract_sha=sha[pid]))
        if targets:
            _commit(out_dir, opened, cfg.post)
    done = f"approved {len(targets)} paper(s)" + (f": {', '.join(targets)}" if 0 < len(targets) <= 5 else "")
    if wanted == ["all"]:
        flagged = [pid for pid, e in opened.state.entries.items() if e.status == "flagged"]
        if flagged:
            done += (
                f"; {len(flagged)} flagged left ({', '.join(flagged)}): edit, regenerate, reject,"
                " or approve each by id"
            )
    elif not targets:
        done = "already approved: " + ", ".join(wanted)
    return f"{done}. {_next_step(opened, cfg.llm)}"


def reject(
    out_dir: Path, day: dt.date, cfg: Config, paper_id: str, *, lock_timeout: float = DEFAULT_TIMEOUT
) -> str:
    with date_lock(out_dir, day, lock_timeout):
        opened = open_day(out_dir, day)
        entry = _entry(opened, paper_id, "reject")
        opened = _with_entry(opened, paper_id, replace(entry, status="rejected"))
        _commit(out_dir, opened, cfg.post)
    return f"rejected {paper_id}: left out of the draft and the post. {_next_step(opened, cfg.llm)}"


def _unknown_tags_message(unknown: Sequence[str], vocab: Vocabulary) -> str:
    return (
        f"tag(s) not in the vocabulary: {', '.join(unknown)} (use names or aliases from prompts/tags.toml: "
        + (", ".join(vocab.names) + ")")
    )


def edit(
    out_dir: Path,
    day: dt.date,
    cfg: Config,
    paper_id: str,
    *,
    summary: str | None = None,
    tags: str | Sequence[str] | None = None,
    lock_timeout: float = DEFAULT_TIMEOUT,
) -> str:
    """Set the editor's summary and/or tags, checked like the model's: the summary by validate_summary,
    tags must be vocabulary names or aliases (1–3). ReviewError (nothing written) otherwise."""
    if summary is None and tags is None:
        raise ReviewError("--edit needs --summary TEXT and/or --tags a,b.")
    with date_lock(out_dir, day, lock_timeout):
        opened = open_day(out_dir, day)
        entry = _entry(opened, paper_id, "edit")
        paper = _paper(opened, paper_id)
        changes: dict[str, Any] = {"status": "edited", "abstract_sha": fingerprint(paper.abstract)}
        if summary is not None:
            summary = summary.strip()
            problems = summary_problems(paper, summary, cfg.llm)
            if problems:
                raise ReviewError(f"summary for {paper_id} not accepted: {'; '.join(problems)}.")
            changes["summary"] = summary
        if tags is not None:
            names = tags.split(",") if isinstance(tags, str) else list(tags)
            canonical, unknown = canonicalize(opened.vocab, names)
            if unknown:
                raise ReviewError(
                    f"tags for {paper_id} not accepted: {_unknown_tags_message(unknown, opened.vocab)}."
                )
            if not 1 <= len(canonical) <= MAX_EDITOR_TAGS:
                raise ReviewError(
                    f"tags for {paper_id} not accepted: give 1–{MAX_EDITOR_TAGS} tags, not {len(canonical)}."
                )
            changes["tags"] = canonical
        opened = _with_entry(opened, paper_id, replace(entry, **changes))
        _commit(out_dir, opened, cfg.post)
    shown = effective_enrichment(opened.state.entries[paper_id], final=True)
    return (
        f"edited {paper_id}: {shown.summary or '(요약 없음)'} [{', '.join(shown.tags)}]. {_next_step(opened, cfg.llm)}"
    )


def regenerate(
    out_dir: Path,
    day: dt.date,
    cfg: Config,
    paper_id: str,
    note: str | None = None,
    *,
    enricher: Any = None,
    lock_timeout: float = DEFAULT_TIMEOUT,
) -> str:
    """Ask the LLM again for one paper, with the editor's note, bypassing the cached answer. The new answer
    (cached by the Enricher under its own key) comes back pending (flagged if it fails validation) and
    replaces any editor edit of that paper. ``enricher``: anything with ``async summarize(paper, *, note,
    use_cache)``; default: one built from ``cfg`` (needs LLM credentials). Its client is closed afterwards."""
    note = note.strip() if note and note.strip() else None
    before = open_day(out_dir, day)  # no lock: validate the id and read the paper
    _entry(before, paper_id, "regenerate")
    paper = _paper(before, paper_id)

    own = enricher is None
    if own:
        from agent.enrich import open_enricher
        from agent.models import Usage
        from agent.pipeline import check_llm_credentials

        check_llm_credentials()
        enricher = open_enricher(cfg, Usage())

    async def ask() -> Enrichment:
        try:
            return cast(Enrichment, await enricher.summarize(paper, note=note, use_cache=False))
        finally:
            aclose = getattr(enricher, "aclose", None)
            if aclose is not None:
                await aclose()

    try:
        result = asyncio.run(ask())
    finally:
        if own:
            enricher.cache.close()

    with date_lock(out_dir, day, lock_timeout):
        opened = open_day(out_dir, day)
        entry = _entry(opened, paper_id, "regenerate")
        current = _paper(opened, paper_id)
        if fingerprint(current.abstract) != fingerprint(paper.abstract):
            raise ReviewError(
                f"paper {paper_id} changed while regenerating (a run updated it); run the command again."
            )
        replaced = entry.summary if entry.has_edit else None
        new_entry = replace(
            entry.with_model(result),
            status=_open_status(result),
            summary=None,
            tags=None,
            note=note,
            abstract_sha=fingerprint(current.abstract),
        )
        opened = _with_entry(opened, paper_id, new_entry)
        # The snapshot holds the latest model answers, so later merges keep this one.
        items = tuple(
            replace(it, enrichment=result) if it.paper.id == paper_id else it for it in opened.digest.items
        )
        opened = replace(opened, digest=replace(opened.digest, items=items))
        _commit(out_dir, opened, cfg.post, snapshot=True)

    if result.status == "flagged":
        text = f"regenerated {paper_id}: flagged ({result.flag_reason})"
    else:
        text = f"regenerated {paper_id} (pending): {result.summary} [{', '.join(result.tags)}]"
    if replaced is not None:
        text += f"; replaced your edit: {replaced}"
    return f"{text}. {_next_step(opened, cfg.llm)}"
