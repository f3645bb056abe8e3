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
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from agent.config import Config, LLMConfig
from agent.errors import PublishRefused
from agent.layout import Layout
from agent.lock import DEFAULT_TIMEOUT, date_lock
from agent.models import Blocker, Digest, DigestItem, Paper
from agent.state import OPEN_STATUSES
from agent.store import Day, open_day
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


def unknown_tags_message(unknown: Sequence[str], vocab: Vocabulary) -> str:
    return f"tag(s) not in the vocabulary: {', '.join(unknown)} (use names or aliases from prompts/tags.toml: " + (
        ", ".join(vocab.names) + ")"
    )


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


@dataclass(frozen=True, slots=True)
class PublishResult:
    """What publish wrote. ``post_change``/``data_change``: "created", "replaced" (a different file was
    there: a hand edit of the post, or an earlier publish of another review state) or "unchanged"."""

    date: dt.date
    post: Path
    data_file: Path
    post_change: Literal["created", "replaced", "unchanged"]
    data_change: Literal["created", "replaced", "unchanged"]
    papers: int
    forced: tuple[Blocker, ...] = ()  # what force published past
    draft_removed: bool = False


def day_blockers(day: Day, cfg: Config) -> list[Blocker]:
    """Why publish would refuse ``day`` as opened; [] when it would publish."""
    entries = day.state.entries
    blockers: list[Blocker] = []
    open_ids = [pid for pid, e in entries.items() if e.status in OPEN_STATUSES]
    if open_ids:
        counts: Counter[str] = Counter(entries[pid].status for pid in open_ids)
        blockers.append(
            Blocker(
                "unreviewed",
                ids=tuple(open_ids),
                counts={s: counts[s] for s in OPEN_STATUSES if counts[s]},
                of=sum(1 for e in entries.values() if e.status != "vanished"),
            )
        )
    final = day.final()
    if not final.items:
        return [*blockers, Blocker("nothing-to-publish")]
    problems = {it.paper.id: tuple(p) for it in final.items if (p := publish_problems(it, day.vocab, cfg.llm))}
    if problems:
        blockers.append(Blocker("failed-checks", ids=tuple(problems), problems=problems))
    bare = [
        it.paper.id
        for it in final.items
        if not (it.enrichment.status == "summarized" and it.enrichment.summary)
        and it.paper.id not in problems
        and it.paper.id not in open_ids  # said by "unreviewed" already
    ]
    if bare:
        blockers.append(Blocker("missing-summaries", ids=tuple(bare), of=len(final.items)))
    return blockers


def publish_blockers(layout: Layout, day: dt.date, cfg: Config) -> list[Blocker]:
    """Why ``publish(layout, day, cfg)`` would refuse; [] when it would publish. Reads only (no lock): the
    answer is as of now. ReviewError when the day has no run or a broken file."""
    return day_blockers(open_day(layout, day), cfg)


def _change(path: Path, text: str) -> Literal["created", "replaced", "unchanged"]:
    try:
        old = path.read_bytes()
    except FileNotFoundError:
        return "created"
    except OSError:
        return "replaced"
    return "unchanged" if old == text.encode("utf-8") else "replaced"


def data_file_text(path: Path, final: Digest, cfg: Config) -> str:
    """The data file for ``final``, keeping the ``crawled_at`` of the one published at ``path`` when nothing
    else in it would change: a re-run fetches the same day again (a new fetch time in the snapshot), and
    publishing the same review again must leave the published file as it is, and say so."""
    from agent.render import render_data_file

    text = render_data_file(final, cfg.post)
    try:
        old = path.read_bytes()
        was = json.loads(old).get("crawled_at")
    except (OSError, ValueError, AttributeError):
        return text
    if not isinstance(was, str) or was == final.crawled_at:
        return text
    kept = render_data_file(replace(final, crawled_at=was), cfg.post)
    return kept if kept.encode("utf-8") == old else text


def publish(
    layout: Layout, day: dt.date, cfg: Config, force: bool = False, *, lock_timeout: float = DEFAULT_TIMEOUT
) -> PublishResult:
    """Write the day's final post and data file atomically. PublishRefused (with the blockers) while papers
    are unreviewed, fail the checks or lack a summary (unless ``force``), or when every paper is rejected;
    ReviewError when the day has no run or a broken review file; WriteError when a file cannot be written."""
    from agent.fsutil import write_files
    from agent.render import render_post

    with date_lock(layout, day, lock_timeout):
        opened = open_day(layout, day)
        blockers = day_blockers(opened, cfg)
        if blockers and (not force or not all(b.forceable for b in blockers)):
            raise PublishRefused(day, blockers)
        final = opened.final()
        problems = next((b.problems for b in blockers if b.kind == "failed-checks"), {})
        if problems:
            items = tuple(
                without_problems(it, opened.vocab, cfg.llm) if it.paper.id in problems else it for it in final.items
            )
            final = replace(final, items=items)
        post, data = layout.post(day), layout.data_file(day)
        post_text, data_text = render_post(final, cfg.post, final=True), data_file_text(data, final, cfg)
        result = PublishResult(
            date=day,
            post=post,
            data_file=data,
            post_change=_change(post, post_text),
            data_change=_change(data, data_text),
            papers=len(final.items),
            forced=tuple(blockers),
            draft_removed=layout.blog and layout.draft(day).exists(),
        )
        # The post must show the review file as read: a hand save meanwhile stops the publish.
        write_files(
            [(post, post_text), (data, data_text)],
            expect={layout.review(day): opened.review_bytes},
            remove=[layout.draft(day)] if layout.blog else [],
        )
    return result
