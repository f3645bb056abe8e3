"""Publish a reviewed day: ``<out>/_posts/<date>-hf-daily-papers.md``, the final post without review markers.

Refuses while any paper is pending, flagged or needs-review (cleared only by ``review DATE --approve ID``),
or while a paper to be published has a summary that fails validation or tags outside the vocabulary (the
review file is hand-editable, so its text is checked again here, not trusted) -- unless forced; a forced
publish leaves such a summary or tag out. Rejected papers are left out, ranks renumbered, editor text used.
Idempotent: the same review state gives the same bytes, and an unchanged post is not rewritten.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

from agent.config import Config
from agent.errors import PublishRefused
from agent.fsutil import write_files
from agent.lock import DEFAULT_TIMEOUT, date_lock
from agent.review import open_day, publish_problems, without_problems
from agent.reviewfile import OPEN_STATUSES, post_path, review_path


def publish(
    out_dir: Path, day: dt.date, cfg: Config, force: bool = False, *, lock_timeout: float = DEFAULT_TIMEOUT
) -> Path:
    """Write the day's final post atomically and return its path. PublishRefused while papers are unreviewed
    or fail the checks (unless ``force``) or when every paper is rejected; ReviewError when the day has no run
    or a broken review file; DigestError when the post cannot be written."""
    from dataclasses import replace

    from agent.render import render_post

    with date_lock(out_dir, day, lock_timeout):
        opened = open_day(out_dir, day)
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
        text = render_post(final, cfg.post, final=True)
        path = post_path(out_dir, day)
        try:
            unchanged = path.read_text(encoding="utf-8") == text
        except (OSError, UnicodeDecodeError):
            unchanged = False
        if not unchanged:
            # The post must show the review file as read: a hand save meanwhile stops the publish.
            expect = {review_path(out_dir, day): opened.review_bytes}
            write_files([(path, text)], hint="check --out and publish again.", expect=expect)
    return path
