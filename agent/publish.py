"""Publish a reviewed day: the final post (no review markers) and the day's data file; the gate before it.

Refuses while any paper is pending, flagged or needs-review (cleared only by approving it by id), or while a
paper to be published has a summary that fails validation or tags outside the vocabulary (the review file is
hand-editable, so its text is checked again here, not trusted) -- unless forced; a forced publish leaves such
a summary or tag out. Rejected papers are left out, ranks renumbered, editor text used. Idempotent: the same
review state gives the same bytes, and an unchanged file is not rewritten. In the blog layout the draft
leaves ``_drafts/`` as the post enters ``_posts/``.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from agent.config import Config, LLMConfig
from agent.errors import PublishRefused
from agent.layout import Layout
from agent.lock import DEFAULT_TIMEOUT, date_lock
from agent.models import DigestItem, Paper
from agent.state import OPEN_STATUSES
from agent.store import open_day
from agent.vocab import MAX_TAGS, canonicalize

if TYPE_CHECKING:
    from agent.vocab import Vocabulary


# -- the gate -----------------------------------------------------------------------------------------


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
    if len(canonical) > MAX_TAGS:
        return [f"{len(canonical)} tags (at most {MAX_TAGS})"]
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
    tags = canonicalize(vocab, e.tags)[0][:MAX_TAGS]
    return replace(item, enrichment=replace(e, summary=summary, tags=tags))


# -- publishing ---------------------------------------------------------------------------------------


def publish(
    layout: Layout, day: dt.date, cfg: Config, force: bool = False, *, lock_timeout: float = DEFAULT_TIMEOUT
) -> Path:
    """Write the day's final post and data file atomically and return the post's path. PublishRefused while
    papers are unreviewed or fail the checks (unless ``force``) or when every paper is rejected; ReviewError
    when the day has no run or a broken review file; DigestError when a file cannot be written."""
    from agent.fsutil import write_files
    from agent.render import render_data_file, render_post

    with date_lock(layout, day, lock_timeout):
        opened = open_day(layout, day)
        entries = opened.state.entries
        unreviewed: Counter[str] = Counter(e.status for e in entries.values() if e.status in OPEN_STATUSES)
        if unreviewed and not force:
            detail = ", ".join(f"{unreviewed[s]} {s}" for s in OPEN_STATUSES if unreviewed[s])
            in_day = sum(1 for e in entries.values() if e.status != "vanished")
            how = f"run `paper-digest review {day}`"
            if unreviewed["needs-review"]:
                how += (
                    f" and clear needs-review with `paper-digest review {day} --approve ID`"
                    " (a status set by hand in the review file reverts at the next run),"
                )
            total = sum(unreviewed.values())
            raise PublishRefused(
                f"{day}: {total} of {in_day} papers not reviewed yet ({detail}); {how} or pass --force."
            )
        final = opened.final()
        if not final.items:
            raise PublishRefused(f"{day}: every paper is rejected; nothing to publish.")
        problems = {it.paper.id: p for it in final.items if (p := publish_problems(it, opened.vocab, cfg.llm))}
        if problems and not force:
            detail = "; ".join(f"{pid}: {', '.join(p)}" for pid, p in problems.items())
            raise PublishRefused(
                f"{day}: {len(problems)} paper(s) cannot be published as they are ({detail}); "
                f"fix with `paper-digest review {day} --edit ID --summary TEXT [--tags a,b]` or pass --force."
            )
        if problems:
            items = tuple(
                without_problems(it, opened.vocab, cfg.llm) if it.paper.id in problems else it for it in final.items
            )
            final = replace(final, items=items)
        files = [
            (layout.post(day), render_post(final, cfg.post, final=True)),
            (layout.data_file(day), render_data_file(final, cfg.post)),
        ]
        # The post must show the review file as read: a hand save meanwhile stops the publish.
        write_files(
            files,
            hint="check --out and publish again.",
            expect={layout.review(day): opened.review_bytes},
            remove=[layout.draft(day)] if layout.blog else [],
        )
    return layout.post(day)
