"""Editorial review: the editor's commands (review_table, approve, reject, edit, regenerate) on a day opened
from its files (agent.store.open_day; paths in agent.layout, the state's rules in agent.state).

The commands that change a day write its snapshot, review state and draft under the date's lock
(agent.lock) as one change (agent.fsutil.write_files: all of them or none); review_table only reads.

A hand save of the review file while a command holds the lock is never overwritten: the command stops
with nothing written (ReviewError) and is run again. The file is rewritten only when its state changes.

Why ``regenerate`` asks the LLM outside the lock: the call takes seconds; holding the lock that long would
make a nightly run or a second editor command time out. The answer is applied under the lock afterwards,
on the state as it is then, so nothing written meanwhile is lost.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from agent.config import Config, LLMConfig
from agent.errors import ReviewError
from agent.layout import Layout
from agent.lock import DEFAULT_TIMEOUT, date_lock
from agent.models import Enrichment, Paper
from agent.publish import publish_problems, summary_problems
from agent.state import (
    DONE_STATUSES,
    OPEN_STATUSES,
    STATUSES,
    ReviewEntry,
    ReviewStatus,
    effective_enrichment,
    fingerprint,
    open_status,
    timestamp,
)
from agent.store import Day, commit, open_day, unknown_tags_message
from agent.vocab import MAX_TAGS, canonicalize

if TYPE_CHECKING:
    from agent.enrich import Enricher

__all__ = ["Day", "approve", "edit", "open_day", "regenerate", "reject", "review_table"]


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
    entries[paper_id] = replace(entry, updated_at=timestamp())
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


def review_table(layout: Layout, day: dt.date, cfg: Config) -> str:
    """The review table the CLI prints: rank (in the post), id, status, summary and tags; new keywords."""
    opened = open_day(layout, day)
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
            lines.append(f"{'':>5}사유: {entry.flag_reason}")
        if pid in final:
            problems = publish_problems(final[pid], opened.vocab, cfg.llm)
            if problems:
                lines.append(f"{'':>5}⚠ 게시 불가 (--edit {pid}): {'; '.join(problems)}")
        if entry.note:
            lines.append(f"{'':>5}메모: {entry.note}")
        if entry.new_keywords:
            lines.append(f"{'':>5}new keywords: {', '.join(entry.new_keywords)}")
    lines += ["", f"review file: {layout.review(day)}", _next_step(opened, cfg.llm)]
    return "\n".join(lines)


def approve(
    layout: Layout,
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
    with date_lock(layout, day, lock_timeout):
        opened = open_day(layout, day)
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
            commit(layout, opened, cfg.post)
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
    layout: Layout, day: dt.date, cfg: Config, paper_id: str, *, lock_timeout: float = DEFAULT_TIMEOUT
) -> str:
    with date_lock(layout, day, lock_timeout):
        opened = open_day(layout, day)
        entry = _entry(opened, paper_id, "reject")
        opened = _with_entry(opened, paper_id, replace(entry, status="rejected"))
        commit(layout, opened, cfg.post)
    return f"rejected {paper_id}: left out of the draft and the post. {_next_step(opened, cfg.llm)}"


def edit(
    layout: Layout,
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
    with date_lock(layout, day, lock_timeout):
        opened = open_day(layout, day)
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
                    f"tags for {paper_id} not accepted: {unknown_tags_message(unknown, opened.vocab)}."
                )
            if not 1 <= len(canonical) <= MAX_TAGS:
                raise ReviewError(
                    f"tags for {paper_id} not accepted: give 1–{MAX_TAGS} tags, not {len(canonical)}."
                )
            changes["tags"] = canonical
        opened = _with_entry(opened, paper_id, replace(entry, **changes))
        commit(layout, opened, cfg.post)
    shown = effective_enrichment(opened.state.entries[paper_id], final=True)
    return (
        f"edited {paper_id}: {shown.summary or '(요약 없음)'} [{', '.join(shown.tags)}]. {_next_step(opened, cfg.llm)}"
    )


def regenerate(
    layout: Layout,
    day: dt.date,
    cfg: Config,
    paper_id: str,
    note: str | None = None,
    *,
    enricher: Enricher | None = None,
    lock_timeout: float = DEFAULT_TIMEOUT,
) -> str:
    """Ask the LLM again for one paper, with the editor's note, bypassing the cached answer. The new answer
    (cached by the Enricher under its own key) comes back pending (flagged if it fails validation) and
    replaces any editor edit of that paper. ``enricher``: default one built from ``cfg`` (needs LLM
    credentials); its client is closed afterwards. Raises EndpointDown (exit code 4) when the endpoint cannot
    be reached: nothing is written."""
    note = note.strip() if note and note.strip() else None
    before = open_day(layout, day)  # no lock: validate the id and read the paper
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
        opened = open_day(layout, day)
        entry = _entry(opened, paper_id, "regenerate")
        current = _paper(opened, paper_id)
        if fingerprint(current.abstract) != fingerprint(paper.abstract):
            raise ReviewError(
                f"paper {paper_id} changed while regenerating (a run updated it); run the command again."
            )
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
        items = tuple(
            replace(it, enrichment=result) if it.paper.id == paper_id else it for it in opened.digest.items
        )
        opened = replace(opened, digest=replace(opened.digest, items=items))
        commit(layout, opened, cfg.post, snapshot=True)

    if result.status == "flagged":
        text = f"regenerated {paper_id}: flagged ({result.flag_reason})"
    else:
        text = f"regenerated {paper_id} (pending): {result.summary} [{', '.join(result.tags)}]"
    if replaced is not None:
        text += f"; replaced your edit: {replaced}"
    return f"{text}. {_next_step(opened, cfg.llm)}"
