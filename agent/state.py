"""The review state of a date, pure: its entries, how a run merges into it, and what the draft and the post
show from it (the effective digest). No files here: agent.store reads and writes them.

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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal, get_args

from agent.models import Digest, DigestItem, Enrichment, Origin
from agent.models import Status as EnrichmentStatus

ReviewStatus = Literal["pending", "approved", "edited", "rejected", "flagged", "needs-review", "vanished"]
STATUSES: tuple[str, ...] = get_args(ReviewStatus)
OPEN_STATUSES = ("pending", "flagged", "needs-review")  # what blocks publish
DONE_STATUSES = ("approved", "edited")

NEEDS_REVIEW_REASON = "초록이 바뀌어 다시 검토해야 함"
_KEEPS_EDIT = " (이전 편집 유지)"


def fingerprint(abstract: str) -> str:
    """The abstract's fingerprint; whitespace-insensitive so a reflowed abstract is not a changed one."""
    return hashlib.sha256(" ".join(abstract.split()).encode("utf-8")).hexdigest()[:16]


def timestamp() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


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
        status: EnrichmentStatus
        origin: Origin
        if self.flag_reason is not None:
            status, origin = "flagged", "llm"
        elif self.model_summary is not None:
            status, origin = "summarized", "llm"
        else:
            status, origin = "awaiting", "keywords"
        return Enrichment(
            status=status,
            origin=origin,
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
