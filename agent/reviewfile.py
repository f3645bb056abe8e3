"""The per-date review files and their formats: the snapshot, the review state, and how they merge.

Files per date, all under ``<out>/drafts/`` (written by agent.review under the date's lock, as one change):

- ``<date>-snapshot.json``  machine-written by ``run``: the day's papers, the model's latest answers, the
  overview, the ids of the papers it was written from (``overview_ids``) and the fingerprint of their ids,
  summaries and tags (``overview_fingerprint``): the overview is shown only while the papers shown match it.
- ``<date>-review.toml``    the review state, human-editable and diff-friendly: one table per paper id.
- ``<date>-hf-daily-papers.md``  the draft, always rendered from snapshot + review state (editor text wins).

Statuses: ``pending`` (model answer not reviewed), ``flagged`` (model answer failed validation, not reviewed;
its text, if any, is kept in ``model_summary`` for the editor and never published unless edited),
``needs-review`` (the abstract changed after approval/edit; the old edit is kept), ``approved`` (the model's
answer, pinned as approved), ``edited`` (editor text), ``rejected`` (left out of draft and post),
``vanished`` (no longer among the day's papers; kept in the file, restored if it comes back).

Why the state keeps its own copy of the model's answer (``model_summary``/``model_tags``): an approval is of a
*text*. A later run with another prompt or model must not swap the published sentence under an approval, so
approved and edited entries keep the answer they were judged on; pending and flagged entries follow the run.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast, get_args

from agent.config import PostConfig
from agent.errors import ReviewError
from agent.models import Digest, DigestItem, Enrichment, Origin, Paper
from agent.models import Status as EnrichmentStatus
from agent.vocab import canonicalize

if TYPE_CHECKING:
    from agent.vocab import Vocabulary

ReviewStatus = Literal["pending", "approved", "edited", "rejected", "flagged", "needs-review", "vanished"]
STATUSES: tuple[str, ...] = get_args(ReviewStatus)
OPEN_STATUSES = ("pending", "flagged", "needs-review")  # what blocks publish
DONE_STATUSES = ("approved", "edited")

NEEDS_REVIEW_REASON = "초록이 바뀌어 다시 검토해야 함"
_KEEPS_EDIT = " (이전 편집 유지)"


# -- paths and fingerprints ---------------------------------------------------------------------------


def draft_path(out_dir: Path, day: dt.date) -> Path:
    return out_dir / "drafts" / f"{day.isoformat()}-hf-daily-papers.md"


def post_path(out_dir: Path, day: dt.date) -> Path:
    return out_dir / "_posts" / f"{day.isoformat()}-hf-daily-papers.md"


def snapshot_path(out_dir: Path, day: dt.date) -> Path:
    return out_dir / "drafts" / f"{day.isoformat()}-snapshot.json"


def review_path(out_dir: Path, day: dt.date) -> Path:
    return out_dir / "drafts" / f"{day.isoformat()}-review.toml"


def fingerprint(abstract: str) -> str:
    """The abstract's fingerprint; whitespace-insensitive so a reflowed abstract is not a changed one."""
    return hashlib.sha256(" ".join(abstract.split()).encode("utf-8")).hexdigest()[:16]


def timestamp() -> str:
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


def basis_fingerprint(digest: Digest, ids: Sequence[str]) -> str:
    wanted = set(ids)
    return overview_fingerprint(it for it in digest.items if it.paper.id in wanted)


def load_snapshot(out_dir: Path, day: dt.date) -> Digest:
    """The day's digest as the last run (or regenerate) left it, ranks 1..N in the run's order."""
    return read_snapshot(out_dir, day)[0]


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


def read_snapshot(out_dir: Path, day: dt.date) -> tuple[Digest, tuple[str, ...], str]:
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
    return digest, ids, basis_fingerprint(digest, ids) if fp is None else fp


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
    return read_review(out_dir, day, vocab)[0]


def read_review(
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
            raise fail("tags", unknown_tags_message(bad, vocab))
        values["tags"] = tags
    if values.get("summary") is not None or values.get("tags") is not None:
        # The editor's text wins (the header says so): "approved" would publish the model's instead.
        for key in ("status", "previous_status"):
            if values.get(key) == "approved":
                values[key] = "edited"
    return ReviewEntry(**values)


def unknown_tags_message(unknown: Sequence[str], vocab: Vocabulary) -> str:
    return (
        f"tag(s) not in the vocabulary: {', '.join(unknown)} (use names or aliases from prompts/tags.toml: "
        + (", ".join(vocab.names) + ")")
    )


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


def open_status(e: Enrichment) -> ReviewStatus:
    return "flagged" if e.status == "flagged" else "pending"


def merge_review(state: ReviewState | None, digest: Digest, *, now: str | None = None) -> ReviewState:
    """Fold a run's digest into the review state (idempotent: merging the same digest twice changes nothing).

    New papers enter pending (flagged when the model's answer is); papers no longer in the digest become
    vanished; approvals and edits are kept, unless the abstract changed since, which makes them needs-review
    (the old edit stays). Pending/flagged entries take the run's answer, except a regenerated one (it has a
    note) on an unchanged abstract: the nightly run asks without the editor's note.
    """
    now = now or timestamp()
    old_entries: Mapping[str, ReviewEntry] = state.entries if state is not None else {}
    entries: dict[str, ReviewEntry] = {}
    for item in sorted(digest.items, key=lambda it: it.rank):
        paper, e = item.paper, item.enrichment
        sha = fingerprint(paper.abstract)
        old = old_entries.get(paper.id)
        if old is None:
            entries[paper.id] = ReviewEntry(
                status=open_status(e), title=paper.title, abstract_sha=sha, updated_at=now
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
                cur = replace(cur.with_model(e), status=open_status(e), abstract_sha=sha)
        elif cur.status == "needs-review":
            cur = cur.with_model(e)  # abstract_sha stays the one the old decision was made on
        elif cur.status == "rejected":
            cur = replace(cur.with_model(e), abstract_sha=sha)
        elif cur.note is None or changed:  # pending, flagged
            cur = replace(cur.with_model(e), status=open_status(e), abstract_sha=sha)
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
    basis = basis_fingerprint(digest, overview_basis(digest)) if overview_fp is None else overview_fp
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
