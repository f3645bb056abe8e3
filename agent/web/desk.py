"""The one place the web desk meets the library: open a day for the page, run the editor's actions, and word
what comes back for a person (as agent/cli.py does for a terminal).

Every rule (validation, the publish gate, the merge, the lock, stale forms) is the library's: the cards are
agent.review's rows, the publish button's reasons agent.publish's blockers, and every action passes the form's
``Day.version`` as ``expect_version`` (StaleError when the day changed since the page was loaded)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent import review as rv
from agent.config import Config
from agent.errors import ReviewError
from agent.layout import Layout
from agent.models import Blocker, Paper
from agent.publish import PublishResult, day_blockers, summary_problems
from agent.publish import publish as publish_day
from agent.render import render_post
from agent.state import OPEN_STATUSES, STATUSES
from agent.store import open_day


@dataclass(frozen=True, slots=True)
class DayRow:
    date: dt.date
    counts: dict[str, int]  # by review status
    published: bool
    problem: str | None = None  # the day cannot be opened (a broken file)

    @property
    def open(self) -> int:
        return sum(self.counts.get(s, 0) for s in OPEN_STATUSES)


@dataclass(frozen=True, slots=True)
class Card:
    """One paper as the day page shows it: agent.review's row plus the paper; strings are raw (the template
    escapes them)."""

    row: rv.ReviewRow
    abstract: str
    upvotes: int
    affiliation: str
    links: tuple[tuple[str, str], ...]

    @property
    def id(self) -> str:
        return self.row.id

    @property
    def status(self) -> str:
        return self.row.status

    @property
    def summary(self) -> str:
        """What the editor's textarea starts with: the line the post would show, else the model's."""
        return self.row.summary or self.row.new_model_summary or ""


@dataclass(frozen=True, slots=True)
class DeskDay:
    date: dt.date
    version: str
    cards: tuple[Card, ...]
    counts: dict[str, int]
    vocabulary: tuple[str, ...]
    blockers: tuple[str, ...]  # why publish would refuse, worded; () when it would not
    published: bool
    post_markdown: str | None  # the post publish would write (None: nothing to publish)
    min_chars: int
    max_chars: int


# The days list opens every day; a day whose files have not changed is not parsed again.
_DAY_ROWS: dict[tuple[object, ...], DayRow] = {}


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


def days(layout: Layout) -> list[DayRow]:
    """Every date with a recorded run, newest first, with its counts by status."""
    rows: list[DayRow] = []
    for day in reversed(layout.days()):
        key = (layout, day, *(_stamp(p) for p in (layout.snapshot(day), layout.review(day), layout.post(day))))
        row = _DAY_ROWS.get(key)
        if row is None:
            if len(_DAY_ROWS) > 4096:  # a long-running desk: forget old versions now and then
                _DAY_ROWS.clear()
            row = _DAY_ROWS[key] = _day_row(layout, day)
        rows.append(row)
    return rows


def _day_row(layout: Layout, day: dt.date) -> DayRow:
    published = layout.post(day).exists()
    try:
        opened = open_day(layout, day)
    except ReviewError as exc:
        return DayRow(day, {}, published, problem=str(exc))
    counts: Counter[str] = Counter(e.status for e in opened.state.entries.values())
    return DayRow(day, dict(counts), published)


def blocker_text(b: Blocker) -> str:
    """A publish blocker in the desk's words."""
    if b.kind == "unreviewed":
        detail = ", ".join(f"{n} {status}" for status, n in b.counts.items())
        return f"{detail} (검토 전 {len(b.ids)}/{b.of}편)"
    if b.kind == "failed-checks":
        return "검사 실패 — " + "; ".join(f"{pid}: {', '.join(p)}" for pid, p in b.problems.items())
    if b.kind == "missing-summaries":
        return f"요약 없는 논문 {len(b.ids)}편 ({', '.join(b.ids)})"
    return "모두 제외되어 게시할 논문이 없음"


def open_desk_day(layout: Layout, day: dt.date, cfg: Config) -> DeskDay:
    opened = open_day(layout, day)
    papers = {it.paper.id: it.paper for it in opened.digest.items}
    cards: list[Card] = []
    for row in rv.rows_of(opened, cfg):
        paper = papers.get(row.id)
        if paper is None:  # vanished: no longer among the day's papers
            continue
        links = [("HF", paper.hf_url), ("arXiv", paper.arxiv_url)]
        if paper.github_repo:
            links.append(("코드", paper.github_repo))
        if paper.project_page:
            links.append(("프로젝트", paper.project_page))
        cards.append(Card(row, paper.abstract, paper.upvotes, paper.affiliation, tuple(links)))
    counts: Counter[str] = Counter(e.status for e in opened.state.entries.values())
    final = opened.final()
    return DeskDay(
        date=day,
        version=opened.version,
        cards=tuple(cards),
        counts={s: counts[s] for s in STATUSES if counts[s]},
        vocabulary=opened.vocab.names,
        blockers=tuple(blocker_text(b) for b in day_blockers(opened, cfg)),
        published=layout.post(day).exists(),
        post_markdown=render_post(final, cfg.post, final=True) if final.items else None,
        min_chars=cfg.llm.summary_min_chars,
        max_chars=cfg.llm.summary_max_chars,
    )


def check_line(layout: Layout, day: dt.date, cfg: Config, paper_id: str, summary: str) -> tuple[Paper, list[str]]:
    """A line being typed for ``paper_id``: the paper and what the library's summary check says of the line
    (the check ``edit`` applies); nothing is written. ReviewError for an unknown id."""
    opened = open_day(layout, day)
    paper = next((it.paper for it in opened.digest.items if it.paper.id == paper_id), None)
    if paper is None:
        raise ReviewError(f"no paper {paper_id!r} on {day}", day)
    return paper, summary_problems(paper, summary.strip(), cfg.llm) if summary.strip() else []


def approve(
    layout: Layout, day: dt.date, cfg: Config, ids: Sequence[str], *, expect_version: str | None
) -> rv.ReviewResult:
    return rv.approve(layout, day, cfg, list(ids), expect_version=expect_version)


def reject(layout: Layout, day: dt.date, cfg: Config, paper_id: str, *, expect_version: str | None) -> rv.ReviewResult:
    return rv.reject(layout, day, cfg, paper_id, expect_version=expect_version)


def edit(
    layout: Layout,
    day: dt.date,
    cfg: Config,
    paper_id: str,
    *,
    summary: str | None,
    tags: Sequence[str] | None,
    expect_version: str | None,
) -> rv.ReviewResult:
    return rv.edit(layout, day, cfg, paper_id, summary=summary, tags=tags, expect_version=expect_version)


def regenerate(
    layout: Layout,
    day: dt.date,
    cfg: Config,
    paper_id: str,
    note: str | None,
    *,
    enricher: Any = None,
    expect_version: str | None,
) -> rv.ReviewResult:
    return rv.regenerate(layout, day, cfg, paper_id, note=note, enricher=enricher, expect_version=expect_version)


def publish(layout: Layout, day: dt.date, cfg: Config) -> PublishResult:
    return publish_day(layout, day, cfg)
