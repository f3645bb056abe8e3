"""The one place the web desk meets the library: open a day for the page, and run the editor's actions.

Every rule (validation, the publish gate, the merge, the lock) is the library's; this module only reads
what the library returns into plain rows a template shows, and passes the page's form version
(agent.store.Day.version) along so a stale form is refused."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent import review as rv
from agent.config import Config
from agent.errors import ReviewError
from agent.layout import Layout
from agent.publish import publish as publish_day
from agent.publish import publish_problems
from agent.publish import summary_problems as library_summary_problems
from agent.render import render_post
from agent.state import OPEN_STATUSES, STATUSES, effective_enrichment
from agent.store import open_day


class StaleError(ReviewError):
    """The form was made from another version of the day's review state than the one on disk."""

    def __init__(self, day: dt.date, expected: str, actual: str) -> None:
        super().__init__(f"{day}: the review state changed since the page was loaded.")
        self.date, self.expected, self.actual = day, expected, actual


@dataclass(frozen=True, slots=True)
class DayRow:
    date: dt.date
    counts: dict[str, int]  # by review status
    published: bool

    @property
    def open(self) -> int:
        return sum(self.counts.get(s, 0) for s in OPEN_STATUSES)


@dataclass(frozen=True, slots=True)
class Card:
    """One paper as the day page shows it; strings are raw (the template escapes them)."""

    id: str
    rank: int | None  # in the post; None when rejected or vanished
    title: str
    upvotes: int
    affiliation: str
    links: tuple[tuple[str, str], ...]
    abstract: str
    status: str
    model_summary: str | None
    summary: str  # what the editor's textarea starts with: the line the post would show
    tags: tuple[str, ...]
    new_keywords: tuple[str, ...]
    flag_reason: str | None
    note: str | None
    problems: tuple[str, ...]  # why publish would refuse this paper as it is


@dataclass(frozen=True, slots=True)
class DeskDay:
    date: dt.date
    version: str
    cards: tuple[Card, ...]
    counts: dict[str, int]
    vocabulary: tuple[str, ...]
    blockers: tuple[str, ...]  # why publish would refuse; () when it would not
    published: bool
    post_markdown: str | None  # the post publish would write (None: nothing to publish)
    min_chars: int
    max_chars: int
    review_file: Path
    counts_open: int = field(default=0)


def days(layout: Layout) -> list[DayRow]:
    """Every date with a recorded run, newest first, with its counts by status."""
    rows: list[DayRow] = []
    for day in reversed(layout.days()):
        try:
            opened = open_day(layout, day)
        except ReviewError:
            rows.append(DayRow(day, {}, layout.post(day).exists()))
            continue
        counts: Counter[str] = Counter(e.status for e in opened.state.entries.values())
        rows.append(DayRow(day, dict(counts), layout.post(day).exists()))
    return rows


def version_of(layout: Layout, day: dt.date) -> str:
    """The day's review state version as it is on disk now."""
    return open_day(layout, day).version


def open_desk_day(layout: Layout, day: dt.date, cfg: Config) -> DeskDay:
    opened = open_day(layout, day)
    final = {it.paper.id: it for it in opened.final().items}
    papers = {it.paper.id: it.paper for it in opened.digest.items}
    cards: list[Card] = []
    for pid, entry in opened.state.entries.items():
        paper = papers.get(pid)
        if paper is None:
            continue
        shown = effective_enrichment(entry, final=True)
        item = final.get(pid)
        problems = tuple(publish_problems(item, opened.vocab, cfg.llm)) if item is not None else ()
        links = [("HF", paper.hf_url), ("arXiv", paper.arxiv_url)]
        if paper.github_repo:
            links.append(("코드", paper.github_repo))
        if paper.project_page:
            links.append(("프로젝트", paper.project_page))
        cards.append(
            Card(
                id=pid,
                rank=item.rank if item is not None else None,
                title=paper.title,
                upvotes=paper.upvotes,
                affiliation=paper.affiliation,
                links=tuple(links),
                abstract=paper.abstract,
                status=entry.status,
                model_summary=entry.model_summary,
                summary=shown.summary or entry.model_summary or "",
                tags=tuple(shown.tags),
                new_keywords=tuple(entry.new_keywords),
                flag_reason=entry.flag_reason,
                note=entry.note,
                problems=problems,
            )
        )
    counts: dict[str, int] = dict(Counter(str(e.status) for e in opened.state.entries.values()))
    blockers = publish_blockers(layout, day, cfg)
    final_digest = opened.final()
    markdown = render_post(final_digest, cfg.post, final=True) if final_digest.items else None
    return DeskDay(
        date=day,
        version=opened.version,
        cards=tuple(cards),
        counts={s: counts[s] for s in STATUSES if counts.get(s)},
        vocabulary=opened.vocab.names,
        blockers=tuple(blockers),
        published=layout.post(day).exists(),
        post_markdown=markdown,
        min_chars=cfg.llm.summary_min_chars,
        max_chars=cfg.llm.summary_max_chars,
        review_file=layout.review(day),
        counts_open=sum(counts.get(s, 0) for s in OPEN_STATUSES),
    )


def publish_blockers(layout: Layout, day: dt.date, cfg: Config) -> list[str]:
    """Why publish would refuse the day, from the library's own gate; [] when it would not."""
    opened = open_day(layout, day)
    counts: Counter[str] = Counter(e.status for e in opened.state.entries.values() if e.status in OPEN_STATUSES)
    blockers = [", ".join(f"{counts[s]} {s}" for s in OPEN_STATUSES if counts[s])] if counts else []
    final = opened.final()
    if not final.items:
        blockers.append("every paper is rejected")
    blockers += [
        f"{it.paper.id}: {'; '.join(p)}" for it in final.items if (p := publish_problems(it, opened.vocab, cfg.llm))
    ]
    return blockers


def summary_problems(layout: Layout, day: dt.date, cfg: Config, paper_id: str, summary: str) -> list[str]:
    """The library's summary check for one paper, for an inline error next to the field."""
    opened = open_day(layout, day)
    paper = next((it.paper for it in opened.digest.items if it.paper.id == paper_id), None)
    if paper is None:
        return []
    return library_summary_problems(paper, summary.strip(), cfg.llm)


def _check_version(layout: Layout, day: dt.date, expect_version: str | None) -> None:
    # Interim, until agent.review takes expect_version and checks it under the lock.
    if expect_version is None:
        return
    actual = version_of(layout, day)
    if actual != expect_version:
        raise StaleError(day, expect_version, actual)


def approve(layout: Layout, day: dt.date, cfg: Config, ids: Sequence[str], *, expect_version: str | None) -> None:
    _check_version(layout, day, expect_version)
    rv.approve(layout, day, cfg, list(ids))


def reject(layout: Layout, day: dt.date, cfg: Config, paper_id: str, *, expect_version: str | None) -> None:
    _check_version(layout, day, expect_version)
    rv.reject(layout, day, cfg, paper_id)


def edit(
    layout: Layout,
    day: dt.date,
    cfg: Config,
    paper_id: str,
    *,
    summary: str | None,
    tags: Sequence[str] | None,
    expect_version: str | None,
) -> None:
    _check_version(layout, day, expect_version)
    rv.edit(layout, day, cfg, paper_id, summary=summary, tags=tags)


def regenerate(
    layout: Layout,
    day: dt.date,
    cfg: Config,
    paper_id: str,
    note: str | None,
    *,
    enricher: Any = None,
    expect_version: str | None,
) -> None:
    _check_version(layout, day, expect_version)
    rv.regenerate(layout, day, cfg, paper_id, note=note, enricher=enricher)


def publish(layout: Layout, day: dt.date, cfg: Config) -> Path:
    return publish_day(layout, day, cfg).post


EnricherFactory = Callable[[], Any]
