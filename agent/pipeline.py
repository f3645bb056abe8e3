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
from agent.fsutil import atomic_write_text
from agent.models import Digest, DigestItem, Enrichment, Paper, RunReport, Usage

log = logging.getLogger("paper-digest")


@dataclass(frozen=True, slots=True)
class RunOptions:
    date: dt.date
    source: str | None = None  # None → the HF API; else a JSON file in the API's shape
    no_llm: bool = False
    report: Path | None = None
    progress: bool = False  # a progress bar on a terminal


def draft_path(out_dir: Path, day: dt.date) -> Path:
    return out_dir / "drafts" / f"{day.isoformat()}-hf-daily-papers.md"


def post_path(out_dir: Path, day: dt.date) -> Path:
    return out_dir / "_posts" / f"{day.isoformat()}-hf-daily-papers.md"


def today_in(tz: str) -> dt.date:
    from zoneinfo import ZoneInfo

    return dt.datetime.now(ZoneInfo(tz)).date()


def check_llm_credentials(env: dict[str, str] | None = None) -> None:
    env = dict(os.environ) if env is None else env
    if not env.get("OPENAI_API_KEY") and not env.get("OPENAI_BASE_URL"):
        raise ConfigError(
            "no LLM credentials: set OPENAI_API_KEY (and OPENAI_BASE_URL for Ollama/vLLM), or pass --no-llm."
        )


def keyword_enrichment(papers: list[Paper]) -> dict[str, Enrichment]:
    """--no-llm: no summaries; tags from the vocabulary's keyword rules."""
    from agent.vocab import load_vocabulary

    vocab = load_vocabulary()
    return {
        p.id: Enrichment(status="awaiting", origin="keywords", tags=vocab.match_keywords(p.title, p.abstract))
        for p in papers
    }


def run_digest(opts: RunOptions, cfg: Config) -> RunReport:
    """Write the day's draft and return the run's report. Raises DigestError; nothing is written on failure."""
    from agent.clean import normalize
    from agent.render import rank_papers
    from agent.review import record_run
    from agent.sources import source_for

    started = time.perf_counter()
    report = RunReport(date=opts.date.isoformat())
    if not opts.no_llm:
        check_llm_credentials()

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
    # Snapshot + merged review state + draft, under the date's lock: an editor's work is never lost.
    target = record_run(cfg.out_dir, digest, cfg.post)

    report.papers = len(digest.items)
    report.summarized = sum(1 for it in digest.items if it.enrichment.status == "summarized")
    report.flagged = sum(1 for it in digest.items if it.enrichment.status == "flagged")
    report.llm_requests = usage.llm_requests
    report.cache_hits = usage.cache_hits
    report.prompt_tokens = usage.prompt_tokens
    report.completion_tokens = usage.completion_tokens
    report.cost_usd = usage.cost_usd
    report.draft = str(target)
    report.seconds = time.perf_counter() - started
    if opts.report:
        write_report(opts.report, report)
    return report


def write_report(path: Path, report: RunReport) -> None:
    try:
        atomic_write_text(path, json.dumps(report.to_json(), ensure_ascii=False, indent=2) + "\n")
    except OSError as exc:
        raise DigestError(f"cannot write report {path}: {exc.strerror or exc}; check --report.") from exc


def with_overrides(cfg: Config, **llm: object) -> Config:
    """Apply CLI flags (None = not given) on top of the loaded config."""
    changes = {k: v for k, v in llm.items() if v is not None}
    return replace(cfg, llm=replace(cfg.llm, **changes)) if changes else cfg  # type: ignore[arg-type]
