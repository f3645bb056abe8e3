"""One nightly run: source → normalize → enrich → render → draft (+ report). The CLI's `run` calls `run_digest`."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import time
from dataclasses import dataclass, replace
from pathlib import Path

from agent.config import Config
from agent.errors import ConfigError, DigestError, NoPapersError
from agent.fsutil import unwritable
from agent.llm import check_credentials
from agent.models import Digest, DigestItem, Enrichment, Paper, RunReport, Usage
from agent.reviewfile import (
    ReviewState,
    draft_path,
    load_review,
    overview_basis,
    post_path,
    review_path,
    snapshot_path,
)

log = logging.getLogger("paper-digest")


@dataclass(frozen=True, slots=True)
class RunOptions:
    date: dt.date
    source: str | None = None  # None → the HF API; else a JSON file in the API's shape
    no_llm: bool = False
    report: Path | None = None
    progress: bool = False  # a progress bar on a terminal


def today_in(tz: str) -> dt.date:
    from zoneinfo import ZoneInfo

    return dt.datetime.now(ZoneInfo(tz)).date()


def keyword_enrichment(papers: list[Paper]) -> dict[str, Enrichment]:
    """--no-llm: no summaries; tags from the vocabulary's keyword rules."""
    from agent.vocab import load_vocabulary

    vocab = load_vocabulary()
    return {
        p.id: Enrichment(status="awaiting", origin="keywords", tags=vocab.match_keywords(p.title, p.abstract))
        for p in papers
    }


def check_outputs(out_dir: Path, day: dt.date, report: Path | None) -> None:
    """Fail before fetching (and before any LLM spend) when the report would overwrite one of the day's own
    files, when the draft, its state files or the report cannot be written, or the review file is broken.
    Creates nothing."""
    from agent.lock import lock_path

    if report is not None:
        own = {
            "draft": draft_path(out_dir, day),
            "snapshot": snapshot_path(out_dir, day),
            "review file": review_path(out_dir, day),
            "post": post_path(out_dir, day),
            "lock file": lock_path(out_dir, day),
        }
        for name, path in own.items():
            if os.path.realpath(report) == os.path.realpath(path):
                raise ConfigError(
                    f"--report {report} would overwrite the {name} of {day} ({path}); "
                    "give another path (nothing was fetched or written)."
                )
    targets = [(p(out_dir, day), "--out") for p in (draft_path, snapshot_path, review_path)]
    for path, flag in [*targets, *([(report, "--report")] if report else [])]:
        problem = unwritable(path)
        if problem:
            raise DigestError(f"cannot write {path}: {problem}; check {flag} (nothing was fetched or written).")
    load_review(out_dir, day)  # ReviewError naming the file and line; record_run checks again under the lock


def run_digest(opts: RunOptions, cfg: Config) -> RunReport:
    """Write the day's draft and return the run's report. Raises DigestError; nothing is written on failure."""
    from agent.clean import normalize
    from agent.render import rank_papers
    from agent.review import record_run
    from agent.sources import source_for

    started = time.perf_counter()
    report = RunReport(date=opts.date.isoformat())
    if not opts.no_llm:
        check_credentials()
    check_outputs(cfg.out_dir, opts.date, opts.report)

    source = source_for(
        opts.source, cfg.hf_endpoint, cfg.hf_token, max_attempts=cfg.hf_max_attempts, backoff_s=cfg.hf_backoff_s
    )
    raw = source.fetch(opts.date)
    papers, warnings = normalize(raw)
    for w in warnings:
        log.warning("%s", w)
    report.warnings.extend(warnings)
    if not papers:
        raise NoPapersError(
            f"no papers for {opts.date.isoformat()} from {source.describe()} (a weekend or holiday?); nothing written."
        )
    ranked = rank_papers(papers, cfg.post.top_n)

    usage = Usage()
    overview: str | None = None
    if opts.no_llm:
        enrichments = keyword_enrichment(ranked)
    else:
        from agent.enrich import enrich_day

        enrichments, overview = enrich_day(
            ranked, day=opts.date, cfg=cfg, usage=usage, progress=opts.progress, warnings=report.warnings
        )

    digest = Digest(
        date=opts.date,
        items=tuple(DigestItem(rank=i, paper=p, enrichment=enrichments[p.id]) for i, p in enumerate(ranked, 1)),
        total=len(papers),
        overview=overview,
    )
    report.papers = len(digest.items)
    report.summarized = sum(1 for it in digest.items if it.enrichment.status == "summarized")
    report.llm_requests = usage.llm_requests
    report.cache_hits = usage.cache_hits
    report.prompt_tokens = usage.prompt_tokens
    report.completion_tokens = usage.completion_tokens
    report.cost_usd = usage.cost_usd
    report.draft = str(draft_path(cfg.out_dir, opts.date))

    def report_file(state: ReviewState) -> list[tuple[Path, str]]:
        # Flagged = what still needs the editor after merging with the review state: a paper already
        # rejected, approved or edited is not. needs-review (an approved/edited paper whose abstract
        # changed) blocks publish like flagged, so it counts too.
        report.flagged = sum(1 for e in state.entries.values() if e.status in ("flagged", "needs-review"))
        report.seconds = time.perf_counter() - started
        return [(opts.report, report_json(report))] if opts.report else []

    # Snapshot + merged review state + draft + report, under the date's lock and all or none: an editor's
    # work is never lost, and a failed write leaves the previous files as they were.
    record_run(cfg.out_dir, digest, cfg.post, overview_ids=overview_basis(digest), extra=report_file)
    return report


def report_json(report: RunReport) -> str:
    return json.dumps(report.to_json(), ensure_ascii=False, indent=2) + "\n"


def with_overrides(cfg: Config, **llm: object) -> Config:
    """Apply CLI flags (None = not given) on top of the loaded config."""
    changes = {k: v for k, v in llm.items() if v is not None}
    return replace(cfg, llm=replace(cfg.llm, **changes)) if changes else cfg  # type: ignore[arg-type]
