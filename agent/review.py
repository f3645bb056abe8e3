"""Editorial review: the editor's commands (approve, reject, edit, regenerate; review_rows for the table) on a
day opened from its files (agent.store.open_day; paths in agent.layout, the state's rules in agent.state).

Every command returns a ReviewResult (what changed, what is left, why publish would refuse) and raises errors
with fields (agent.errors); agent/cli.py and the web desk word them. ``expect_version``: the ``Day.version``
the caller's form was built from; a command on a day changed since then raises StaleError, nothing written.

The commands that change a day write its snapshot, review state and draft under the date's lock
(agent.lock) as one change (agent.fsutil.write_files: all of them or none); review_rows only reads.
A hand save of the review file while a command holds the lock is never overwritten: the command stops
with nothing written (FileChangedError) and is run again.

Why ``regenerate`` asks the LLM outside the lock: the call takes seconds; holding the lock that long would
make a nightly run or a second editor command time out. The answer is applied under the lock afterwards,
on the state as it is then, so nothing written meanwhile is lost.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

from agent.config import Config
from agent.errors import EditRejected, PaperChangedError, StaleError, UnknownPaperError
from agent.layout import Layout
from agent.lock import DEFAULT_TIMEOUT, date_lock
from agent.models import Blocker, Enrichment, Paper
from agent.publish import day_blockers, publish_problems, summary_problems, unknown_tags_message
from agent.state import (
    DONE_STATUSES,
    OPEN_STATUSES,
    ReviewEntry,
    ReviewStatus,
    effective_enrichment,
    fingerprint,
    open_status,
    timestamp,
)
from agent.store import Day, commit, open_day
from agent.vocab import MAX_TAGS, canonicalize

if TYPE_CHECKING:
    from agent.enrich import Enricher

__all__ = [
    "Day", "ReviewResult", "ReviewRow", "approve", "edit", "open_day", "refresh_draft", "regenerate", "reject",
    "review_rows",
]  # fmt: skip

Action = Literal["approve", "reject", "edit", "regenerate"]


@dataclass(frozen=True, slots=True)
class ReviewResult:
    """What a review command did and what is left.

    ``changed``: the papers whose review changed; ``unchanged``: those named that needed nothing (approving
    an approved paper); ``left``: open papers by status (pending, flagged, needs-review: what blocks
    publish); ``flagged``: the flagged ones (``approve all`` leaves them); ``blockers``: why publish would
    refuse now (agent.models.Blocker; none: ``publishable``); ``entry``/``shown``: edit, reject and
    regenerate: the paper's entry, and what the post shows of it (regenerate: the new answer);
    ``replaced_edit``: the editor's summary a regenerate replaced; ``version``: the day's version now."""

    date: dt.date
    action: Action
    changed: tuple[str, ...]
    left: Mapping[str, int]
    flagged: tuple[str, ...]
    blockers: tuple[Blocker, ...]
    version: str
    unchanged: tuple[str, ...] = ()
    entry: ReviewEntry | None = None
    shown: Enrichment | None = None
    replaced_edit: str | None = None

    @property
    def publishable(self) -> bool:
        return not self.blockers

    @property
    def blocked(self) -> Mapping[str, tuple[str, ...]]:
        """Papers of the post that fail the checks, with their problems."""
        return next((b.problems for b in self.blockers if b.kind == "failed-checks"), {})


@dataclass(frozen=True, slots=True)
class ReviewRow:
    """One paper of the review table. ``rank``: its place in the post (None: left out); ``summary``/``tags``:
    what the post shows; ``new_model_summary``: a needs-review paper's new model answer, worth showing when
    it differs from the kept edit (``model_differs``); ``flag_reason``: why the editor must look;
    ``problems``: why the post cannot show it as it is (the publish checks)."""

    id: str
    rank: int | None
    status: ReviewStatus
    title: str
    summary: str | None
    tags: tuple[str, ...]
    model_differs: bool
    new_model_summary: str | None
    flag_reason: str | None
    problems: tuple[str, ...]
    note: str | None
    new_keywords: tuple[str, ...]
    hf_keywords: tuple[str, ...] = ()  # the HF API's ai_keywords for the paper (a hint for choosing tags)


# -- helpers ------------------------------------------------------------------------------------------


def _entry(day: Day, paper_id: str, action: str) -> ReviewEntry:
    entry = day.state.entries.get(paper_id)
    if entry is None or entry.status == "vanished":
        present = [pid for pid, e in day.state.entries.items() if e.status != "vanished"]
        raise UnknownPaperError(day.date, paper_id, present, vanished=entry is not None, action=action)
    return entry


def _opened(layout: Layout, day: dt.date, expect_version: str | None) -> Day:
    """The day as it is now; StaleError when it is not the version the caller read."""
    opened = open_day(layout, day)
    if expect_version is not None and opened.version != expect_version:
        raise StaleError(day, expect_version, opened.version)
    return opened


def _paper(day: Day, paper_id: str) -> Paper:
    return next(it.paper for it in day.digest.items if it.paper.id == paper_id)


def _with_entry(day: Day, paper_id: str, entry: ReviewEntry) -> Day:
    entries = dict(day.state.entries)
    entries[paper_id] = replace(entry, updated_at=timestamp())
    return replace(day, state=replace(day.state, entries=entries))


def _result(day: Day, cfg: Config, action: Action, changed: Sequence[str], version: str, **more: Any) -> ReviewResult:
    counts: Counter[str] = Counter(e.status for e in day.state.entries.values() if e.status in OPEN_STATUSES)
    return ReviewResult(
        date=day.date,
        action=action,
        changed=tuple(changed),
        left={s: counts[s] for s in OPEN_STATUSES if counts[s]},
        flagged=tuple(pid for pid, e in day.state.entries.items() if e.status == "flagged"),
        blockers=tuple(day_blockers(day, cfg)),
        version=version,
        **more,
    )


# -- the table ----------------------------------------------------------------------------------------


def rows_of(day: Day, cfg: Config) -> list[ReviewRow]:
    """The review table's rows of an opened day, in the review file's order."""
    final = {it.paper.id: it for it in day.final().items}
    papers = {it.paper.id: it.paper for it in day.digest.items}
    rows = []
    for pid, entry in day.state.entries.items():
        shown = effective_enrichment(entry, final=True)
        item = final.get(pid)
        rows.append(
            ReviewRow(
                id=pid,
                rank=item.rank if item else None,
                status=entry.status,
                title=entry.title,
                summary=shown.summary,
                tags=tuple(shown.tags),
                model_differs=entry.status == "needs-review"
                and entry.has_edit
                and entry.model_summary != shown.summary,
                new_model_summary=entry.model_summary,
                flag_reason=entry.flag_reason if entry.status in ("flagged", "pending", "needs-review") else None,
                problems=tuple(publish_problems(item, day.vocab, cfg.llm)) if item else (),
                note=entry.note,
                new_keywords=tuple(entry.new_keywords),
                hf_keywords=papers[pid].ai_keywords if pid in papers else (),
            )
        )
    return rows


def review_rows(layout: Layout, day: dt.date, cfg: Config) -> list[ReviewRow]:
    """The review table's rows (rank order; vanished papers last). Reads only."""
    return rows_of(open_day(layout, day), cfg)


def refresh_draft(layout: Layout, day: dt.date, cfg: Config, *, lock_timeout: float = DEFAULT_TIMEOUT) -> bool:
    """Re-render the draft from the files as they are (say, after a hand edit of the review file); True
    when it changed. Writes only the draft, and nothing if the review file is saved meanwhile or there is
    no draft (publish took it out of the blog's _drafts/: a look at the table does not put it back)."""
    from agent.fsutil import write_files
    from agent.store import render_draft

    with date_lock(layout, day, lock_timeout):
        opened = open_day(layout, day)
        path, text = layout.draft(day), render_draft(opened, cfg.post)
        try:
            if path.read_bytes() == text.encode("utf-8"):
                return False
        except FileNotFoundError:
            return False
        except OSError:
            pass
        write_files([(path, text)], expect={layout.review(day): opened.review_bytes})
    return True


# -- the editor's commands ----------------------------------------------------------------------------


def approve(
    layout: Layout,
    day: dt.date,
    cfg: Config,
    ids: str | Sequence[str],
    *,
    expect_version: str | None = None,
    lock_timeout: float = DEFAULT_TIMEOUT,
) -> ReviewResult:
    """Approve papers: ``"all"`` (every pending and needs-review paper; flagged ones only by id), an id,
    comma-separated ids, or a list. An entry with an editor's edit becomes ``edited``, else ``approved``."""
    wanted = [i.strip() for i in ids.split(",")] if isinstance(ids, str) else [i.strip() for i in ids]
    wanted = [i for i in wanted if i]
    if not wanted:
        raise ValueError("approve needs a paper id or 'all'")
    with date_lock(layout, day, lock_timeout):
        opened = _opened(layout, day, expect_version)
        version = opened.version
        entries = opened.state.entries
        if wanted == ["all"]:
            targets = [pid for pid, e in entries.items() if e.status in ("pending", "needs-review")]
        else:
            targets = [
                pid for pid in dict.fromkeys(wanted) if _entry(opened, pid, "approve").status not in DONE_STATUSES
            ]
        sha = {it.paper.id: fingerprint(it.paper.abstract) for it in opened.digest.items}
        for pid in targets:
            entry = opened.state.entries[pid]
            status: ReviewStatus = "edited" if entry.has_edit else "approved"
            opened = _with_entry(opened, pid, replace(entry, status=status, abstract_sha=sha[pid]))
        if targets:
            version = commit(layout, opened, cfg.post)
    unchanged = () if wanted == ["all"] else tuple(pid for pid in dict.fromkeys(wanted) if pid not in targets)
    return _result(opened, cfg, "approve", targets, version, unchanged=unchanged)


def reject(
    layout: Layout,
    day: dt.date,
    cfg: Config,
    paper_id: str,
    *,
    expect_version: str | None = None,
    lock_timeout: float = DEFAULT_TIMEOUT,
) -> ReviewResult:
    """Leave a paper out of the draft and the post."""
    with date_lock(layout, day, lock_timeout):
        opened = _opened(layout, day, expect_version)
        entry = _entry(opened, paper_id, "reject")
        opened = _with_entry(opened, paper_id, replace(entry, status="rejected"))
        version = commit(layout, opened, cfg.post)
    return _result(opened, cfg, "reject", [paper_id], version, entry=opened.state.entries[paper_id])


def edit(
    layout: Layout,
    day: dt.date,
    cfg: Config,
    paper_id: str,
    *,
    summary: str | None = None,
    tags: str | Sequence[str] | None = None,
    expect_version: str | None = None,
    lock_timeout: float = DEFAULT_TIMEOUT,
) -> ReviewResult:
    """Set the editor's summary and/or tags, checked like the model's: the summary by validate_summary,
    tags must be vocabulary names or aliases (1–MAX_TAGS). EditRejected (nothing written) otherwise."""
    if summary is None and tags is None:
        raise ValueError("edit needs a summary and/or tags")
    with date_lock(layout, day, lock_timeout):
        opened = _opened(layout, day, expect_version)
        entry = _entry(opened, paper_id, "edit")
        paper = _paper(opened, paper_id)
        changes: dict[str, Any] = {"status": "edited", "abstract_sha": fingerprint(paper.abstract)}
        bad_summary: list[str] = []
        bad_tags: list[str] = []
        if summary is not None:
            summary = summary.strip()
            bad_summary = summary_problems(paper, summary, cfg.llm)
            changes["summary"] = summary
        if tags is not None:
            names = tags.split(",") if isinstance(tags, str) else list(tags)
            canonical, unknown = canonicalize(opened.vocab, names)
            if unknown:
                bad_tags.append(unknown_tags_message(unknown, opened.vocab))
            elif not 1 <= len(canonical) <= MAX_TAGS:
                bad_tags.append(f"give 1–{MAX_TAGS} tags, not {len(canonical)}")
            changes["tags"] = canonical
        if bad_summary or bad_tags:  # every problem at once: the editor fixes both in one go
            raise EditRejected(day, paper_id, summary_problems=bad_summary, tag_problems=bad_tags)
        opened = _with_entry(opened, paper_id, replace(entry, **changes))
        version = commit(layout, opened, cfg.post)
    entry = opened.state.entries[paper_id]
    shown = effective_enrichment(entry, final=True)
    return _result(opened, cfg, "edit", [paper_id], version, entry=entry, shown=shown)


def regenerate(
    layout: Layout,
    day: dt.date,
    cfg: Config,
    paper_id: str,
    note: str | None = None,
    *,
    enricher: Enricher | None = None,
    expect_version: str | None = None,
    lock_timeout: float = DEFAULT_TIMEOUT,
) -> ReviewResult:
    """Ask the LLM again for one paper, with the editor's note, bypassing the cached answer. The new answer
    (cached by the Enricher under its own key) comes back pending (flagged if it fails validation) and
    replaces any editor edit of that paper. ``enricher``: default one built from ``cfg`` (needs LLM
    credentials); its client is closed afterwards. Raises EndpointDown (exit code 4) when the endpoint cannot
    be reached: nothing is written."""
    note = note.strip() if note and note.strip() else None
    before = _opened(layout, day, expect_version)  # no lock: validate the id and read the paper
    _entry(before, paper_id, "regenerate")
    paper = _paper(before, paper_id)

    own = enricher is None
    if enricher is None:
        from agent.enrich import open_enricher
        from agent.llm import check_credentials
        from agent.models import Usage

        check_credentials()
        enricher = open_enricher(cfg, Usage())
    asker = enricher

    async def ask() -> Enrichment:
        try:
            return await asker.summarize(paper, note=note, use_cache=False)
        finally:
            await asker.aclose()

    try:
        result = asyncio.run(ask())
    finally:
        if own:
            asker.cache.close()

    with date_lock(layout, day, lock_timeout):
        opened = _opened(layout, day, expect_version)
        entry = _entry(opened, paper_id, "regenerate")
        current = _paper(opened, paper_id)
        if fingerprint(current.abstract) != fingerprint(paper.abstract):
            raise PaperChangedError(day, paper_id)
        replaced = entry.summary if entry.has_edit else None
        new_entry = replace(
            entry.with_model(result),
            status=open_status(result),
            summary=None,
            tags=None,
            note=note,
            abstract_sha=fingerprint(current.abstract),
        )
        opened = _with_entry(opened, paper_id, new_entry)
        # The snapshot holds the latest model answers, so later merges keep this one.
        items = tuple(replace(it, enrichment=result) if it.paper.id == paper_id else it for it in opened.digest.items)
        opened = replace(opened, digest=replace(opened.digest, items=items))
        version = commit(layout, opened, cfg.post, snapshot=True)
    entry = opened.state.entries[paper_id]
    return _result(opened, cfg, "regenerate", [paper_id], version, entry=entry, shown=result, replaced_edit=replaced)
