"""One nightly run: source → clean → rank → enrich → review state → render → files (+ report).
The CLI's `run` calls `run_digest`; `record_run` writes what a run leaves, under the date's lock."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import signal
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from agent.config import Config, PostConfig
from agent.errors import ConfigError, Interrupted, NoPapersError, ReportClashError, SourceDateError, UnwritableError
from agent.fsutil import sweep_temp_files, unwritable
from agent.layout import Layout, layout_for
from agent.llm import check_credentials, preload
from agent.lock import DEFAULT_TIMEOUT, date_lock
from agent.models import Digest, DigestItem, RunReport, Usage
from agent.state import ReviewState, basis_fingerprint, merge_review, overview_basis
from agent.store import Day, commit, load_review, read_review

log = logging.getLogger("paper-digest")


@dataclass(frozen=True, slots=True)
class RunOptions:
    date: dt.date | None  # None only with ``source``: the day the file lists
    source: str | None = None  # None → the HF API; else a JSON file in the API's shape
    force_date: bool = False  # date the post ``date`` though the source file lists another day
    no_llm: bool = False
    report: Path | None = None
    progress: bool = False  # a progress bar on a terminal


def today_in(tz: str) -> dt.date:
    from zoneinfo import ZoneInfo

    return dt.datetime.now(ZoneInfo(tz)).date()


def check_outputs(
    layout: Layout, day: dt.date, report: Path | None, cache_dir: Path | None = None, source: str | None = None
) -> None:
    """Fail before fetching (and before any LLM spend) when the report would overwrite one of the day's own
    files, the source file or anything in the LLM cache, when the draft, its state files or the report cannot
    be written, when the LLM cache would live inside the blog, or the review file is broken. Creates nothing."""
    if report is not None:
        for name, path in layout.files(day).items():
            if os.path.realpath(report) == os.path.realpath(path):
                raise ReportClashError(report, name, day, path)
        _check_report_apart(report, cache_dir, source)
    if layout.blog and cache_dir is not None:
        blog, cache = os.path.realpath(layout.root), os.path.realpath(cache_dir)
        if cache == blog or cache.startswith(blog + os.sep):
            raise ConfigError(
                f"the LLM cache {cache_dir} is inside the blog {layout.root}: a blog's files are published; "
                "keep the cache outside it (the default user cache dir needs no setting)."
            )
    targets: list[tuple[Path, Literal["output", "report"]]] = [
        (p, "output") for p in (layout.draft(day), layout.snapshot(day), layout.review(day))
    ]
    if report is not None:
        targets.append((report, "report"))
    for path, role in targets:
        problem = unwritable(path)
        if problem:
            raise UnwritableError(path, problem, role)
    load_review(layout, day)  # ReviewError naming the file and line; record_run checks again under the lock


def _check_report_apart(report: Path, cache_dir: Path | None, source: str | None) -> None:
    """The report may not replace the source file nor land in the LLM cache (its database would be lost)."""
    from agent.cache import default_cache_dir

    target = os.path.realpath(report)
    if source is not None and target == os.path.realpath(source):
        raise ConfigError(
            f"the report {report} would overwrite the source file {source}; write it elsewhere (nothing was written)."
        )
    cache = os.path.realpath(cache_dir or default_cache_dir())
    if target == cache or target.startswith(cache.rstrip(os.sep) + os.sep):
        raise ConfigError(
            f"the report {report} is inside the LLM cache {cache}; write it elsewhere (nothing was fetched or written)."
        )


def record_run(
    layout: Layout,
    digest: Digest,
    post: PostConfig,
    *,
    overview_ids: Sequence[str] | None = None,
    extra: Callable[[ReviewState, Path | None], Sequence[tuple[Path, str]]] | None = None,
    lock_timeout: float = DEFAULT_TIMEOUT,
) -> ReviewState:
    """What ``run`` writes, under the date's lock: the snapshot, the merged review state, the draft rendered
    from both, and ``extra(merged state, draft path)`` (the run's report), all or none. Returns the merged
    state. ``overview_ids``: the papers the digest's overview was written from (default: the summarized ones).
    In the blog layout, a day already published whose post this run leaves as it is gets no draft (the draft
    path given to ``extra`` is then None): publish took the draft out of ``_drafts/``, and putting it back
    would show the day as waiting for review. A broken review file raises ReviewError, and a failed write
    DigestError, with nothing changed."""
    from agent.vocab import load_vocabulary

    ids = overview_basis(digest) if overview_ids is None else tuple(overview_ids)
    with date_lock(layout, digest.date, lock_timeout):
        for tmp in sweep_temp_files(layout.files(digest.date).values()):  # a killed run's leftovers
            log.info("removed %s, left by an interrupted write", tmp)
        vocab = load_vocabulary()
        parsed, review_bytes = read_review(layout, digest.date, vocab)
        state = merge_review(parsed, digest)
        day = Day(
            digest=digest,
            state=state,
            vocab=vocab,
            overview_ids=ids,
            overview_fp=basis_fingerprint(digest, ids),
            review_bytes=review_bytes,
            as_read=parsed,
        )
        draft = None if layout.blog and published_as_is(layout, day, post) else layout.draft(digest.date)
        files = extra(state, draft) if extra is not None else ()
        leftover = [layout.draft(digest.date)] if draft is None else []  # a draft an older version put back
        commit(layout, day, post, snapshot=True, draft=draft is not None, extra=files, remove=leftover)
    return state


def published_as_is(layout: Layout, day: Day, post: PostConfig) -> bool:
    """Whether the day's published post is exactly what publishing ``day`` now would write."""
    from agent.render import render_post

    try:
        published = layout.post(day.date).read_bytes()
    except OSError:
        return False
    final = day.final()
    return bool(final.items) and render_post(final, post, final=True).encode("utf-8") == published


def run_digest(opts: RunOptions, cfg: Config) -> RunReport:
    """Write the day's draft and return the run's report. Raises DigestError; nothing is written on failure."""
    from agent.clean import normalize
    from agent.rank import rank_papers
    from agent.sources import source_for

    started = time.perf_counter()
    layout = layout_for(cfg)
    if not opts.no_llm:
        check_credentials()
    source = source_for(
        opts.source, cfg.hf_endpoint, cfg.hf_token, max_attempts=cfg.hf_max_attempts, backoff_s=cfg.hf_backoff_s
    )
    if opts.source is None:  # the API lists the day asked; check before spending a request
        assert opts.date is not None, "a run from the HF API needs a date"
        day = opts.date
        check_outputs(layout, day, opts.report, cfg.cache_dir, opts.source)
        if not opts.no_llm and not layout.snapshot(day).exists():
            # A day's first run: the SDK's ~1 s of imports overlaps the fetch's network wait. A re-run (the
            # day has a snapshot) is most likely answered from the cache and should import nothing.
            preload()
        raw = source.fetch(day)
    else:  # a file holds one day, whichever it is: read it, then check the day against it
        raw = source.fetch(opts.date or dt.date.min)
        day = source_day(raw, opts.date, where=source.describe(), force=opts.force_date)
        check_outputs(layout, day, opts.report, cfg.cache_dir, opts.source)
    report = RunReport(date=day.isoformat())
    fetched_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    papers, warnings = normalize(raw)
    for w in warnings:
        log.warning("%s", w)
    report.warnings.extend(warnings)
    if not papers and raw:  # items there, none usable: not a quiet day
        raise NoPapersError(
            f"no usable papers for {day.isoformat()} from {source.describe()}: all {len(raw)} items were "
            "malformed and skipped (see the warnings); nothing written."
        )
    if not papers:
        raise NoPapersError(
            f"no papers for {day.isoformat()} from {source.describe()} (a weekend or holiday?); nothing written."
        )
    ranked = rank_papers(papers, cfg.post.top_n)

    usage = Usage()
    overview: str | None = None
    if opts.no_llm:
        from agent.enrich import keyword_enrichment

        enrichments = keyword_enrichment(ranked)
    else:
        from agent.enrich import enrich_day

        try:
            enriched = enrich_day(
                ranked, day=day, cfg=cfg, usage=usage, progress=opts.progress, warnings=report.warnings
            )
        except KeyboardInterrupt as exc:  # Ctrl-C or SIGTERM: what was answered stays cached
            raise Interrupted(getattr(exc, "signum", signal.SIGINT), usage.answers_cached) from exc
        enrichments, overview = enriched.results, enriched.overview
        report.llm_endpoint_error = str(enriched.outage) if enriched.outage else None
        report.left_by_budget, report.unpriced_budget = enriched.left_by_budget, enriched.unpriced_budget
        report.budget_usd = cfg.llm.budget_usd

    digest = Digest(
        date=day,
        items=tuple(DigestItem(rank=i, paper=p, enrichment=enrichments[p.id]) for i, p in enumerate(ranked, 1)),
        total=len(papers),
        overview=overview,
        crawled_at=fetched_at,
    )
    report.usage = usage
    if layout.blog and layout.post(day).exists():
        report.published = str(layout.post(day))

    def report_file(state: ReviewState, draft: Path | None) -> list[tuple[Path, str]]:
        report.draft = None if draft is None else str(draft)
        # Flagged = what still needs the editor after merging with the review state: a paper already
        # rejected, approved or edited is not. needs-review (an approved/edited paper whose abstract
        # changed) blocks publish like flagged, so it counts too.
        report.flagged = sum(1 for e in state.entries.values() if e.status in ("flagged", "needs-review"))
        report.needs_review = sum(1 for e in state.entries.values() if e.status == "needs-review")
        # The draft's papers: a paper the editor rejected is not in it.
        shown = {pid for pid, e in state.entries.items() if e.status not in ("rejected", "vanished")}
        report.papers = len(shown)
        report.summarized = sum(
            1 for it in digest.items if it.paper.id in shown and it.enrichment.status == "summarized"
        )
        report.seconds = time.perf_counter() - started
        return [(opts.report, report_json(report))] if opts.report else []

    # Snapshot + merged review state + draft + report, under the date's lock and all or none: an editor's
    # work is never lost, and a failed write leaves the previous files as they were.
    record_run(layout, digest, cfg.post, overview_ids=overview_basis(digest), extra=report_file)
    return report


def source_day(raw: list[Any], asked: dt.date | None, *, where: str, force: bool = False) -> dt.date:
    """The day of a run from a source file: the day its items are listed for when none was asked; the day
    asked otherwise, which must agree with the listed one unless ``force`` (then a warning). SourceDateError
    when the file names no day and none was asked, or disagrees without ``force``."""
    from agent.clean import listed_day

    found = listed_day(raw)
    if asked is None:
        if found is None:
            raise SourceDateError(where)
        day, field = found
        if field != "submittedOnDailyAt":
            log.warning("%s has no submittedOnDailyAt; dated %s from the latest %s", where, day, field)
        return day
    # publishedAt is the arXiv date, days before the list: only the list's own date can disagree.
    if found is not None and found[1] == "submittedOnDailyAt" and found[0] != asked:
        if not force:
            raise SourceDateError(where, asked, found[0])
        log.warning("%s lists the papers of %s; dating the post %s as asked", where, found[0], asked)
    return asked


def report_json(report: RunReport) -> str:
    return json.dumps(report.to_json(), ensure_ascii=False, indent=2) + "\n"


def with_overrides(cfg: Config, **llm: object) -> Config:
    """Apply CLI flags (None = not given) on top of the loaded config."""
    changes = {k: v for k, v in llm.items() if v is not None}
    return replace(cfg, llm=replace(cfg.llm, **changes)) if changes else cfg  # type: ignore[arg-type]
