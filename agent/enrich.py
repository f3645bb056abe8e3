"""Enrichment: per paper, cache → prompt → LLM → validate → (one repair) → cache; then the day's overview.

Every answer is cached as soon as it is validated, so an interrupted run resumes where it stopped. The cache key
is computed without rendering prompts or importing the SDK: a fully cached run imports neither `openai` nor
`langchain_core` and sends no request. Transient failures (after the SDK's own retries) and the budget flag the
paper and are not cached; a rejected key or an unknown model aborts the run (LLMError).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from agent.cache import AnswerCache, cache_key, default_cache_dir, prompt_version
from agent.config import Config, LLMConfig
from agent.models import Enrichment, Paper, Usage
from agent.tokens import cost_usd, count_tokens
from agent.validate import validate_answer, validate_overview
from agent.vocab import PROMPTS_DIR, Vocabulary, load_vocabulary

log = logging.getLogger("paper-digest")

MIN_ABSTRACT_WORDS = 12  # below this there is nothing checkable to summarise


def _params(cfg: LLMConfig) -> dict[str, Any]:
    """Generation parameters that change an answer; they go into every cache key."""
    return {
        "temperature": cfg.temperature,
        "summary_min_chars": cfg.summary_min_chars,
        "summary_max_chars": cfg.summary_max_chars,
    }


@dataclass
class Enricher:
    cfg: LLMConfig
    vocab: Vocabulary
    cache: AnswerCache
    usage: Usage
    version: str
    client_factory: Callable[[], Any] | None = None  # tests inject; default builds agent.llm.LLMClient
    on_done: Callable[[], None] | None = None
    _client: Any = None
    _budget_spent: bool = False
    warnings: list[str] = field(default_factory=list)

    # -- the LLM client, created only on the first cache miss ---------------------------------------------
    def client(self) -> Any:
        if self._client is None:
            if self.client_factory is not None:
                self._client = self.client_factory()
            else:
                from agent.llm import LLMClient

                self._client = LLMClient(
                    model=self.cfg.model,
                    timeout=self.cfg.timeout_s,
                    max_retries=self.cfg.max_retries,
                    temperature=self.cfg.temperature,
                    on_request=self._count_request,
                )
        return self._client

    def _count_request(self) -> None:
        self.usage.llm_requests += 1

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    # -- keys -----------------------------------------------------------------------------------------------
    def summary_key(self, paper: Paper, note: str | None = None) -> str:
        return cache_key(
            kind="regenerate" if note is not None else "summary",
            paper_id=paper.id,
            abstract=paper.abstract,
            prompt_version=self.version,
            model=self.cfg.model,
            params=_params(self.cfg),
            extra=note or "",
        )

    # -- budget and ledger -------------------------------------------------------------------------------
    def _over_budget(self, messages: list[dict[str, str]]) -> bool:
        if self.cfg.budget_usd <= 0:
            return False
        if self._budget_spent:
            return True
        tokens, _ = count_tokens(messages, self.cfg.model)
        estimate = cost_usd(tokens, self.cfg.summary_max_chars * 2, self.cfg.model, self.cfg.prices) or 0.0
        if self.usage.cost_usd + estimate > self.cfg.budget_usd:
            self._budget_spent = True
        return self._budget_spent

    def _book(self, completion: Any) -> None:
        self.usage.prompt_tokens += completion.prompt_tokens
        self.usage.completion_tokens += completion.completion_tokens
        cost = cost_usd(completion.prompt_tokens, completion.completion_tokens, self.cfg.model, self.cfg.prices)
        if cost is None:
            warning = f"no price for model {self.cfg.model!r}; add it to [llm.prices] for cost figures."
            if warning not in self.warnings:
                self.warnings.append(warning)
                log.warning("%s", warning)
        else:
            self.usage.cost_usd += cost

    # -- one paper --------------------------------------------------------------------------------------------
    async def summarize(self, paper: Paper, *, note: str | None = None, use_cache: bool = True) -> Enrichment:
        from agent.llm import LLMUnavailable  # cheap module; the SDK is imported only by LLMClient()

        if len(paper.abstract.split()) < MIN_ABSTRACT_WORDS:
            return Enrichment(
                status="flagged",
                origin="llm",
                tags=self.vocab.match_keywords(paper.title, paper.abstract),
                flag_reason="초록이 비었거나 너무 짧아 요약하지 않음 (편집자 확인 필요)",
            )
        key = self.summary_key(paper, note)
        if use_cache:
            hit = self.cache.get(key)
            if hit is not None and isinstance(hit.get("enrichment"), dict):
                self.usage.cache_hits += 1
                return Enrichment.from_json(hit["enrichment"])

        from agent.prompts import repair_messages, summary_messages, summary_schema

        messages = summary_messages(
            title=paper.title, abstract=paper.abstract, tag_names=self.vocab.names, note=note
        )
        schema = summary_schema(self.vocab.names)
        if self._over_budget(messages):
            return Enrichment(
                status="flagged", origin="llm", flag_reason=f"budget: ${self.cfg.budget_usd:.2f} 예산 소진으로 미요청"
            )
        try:
            completion = await self.client().complete_json(messages, schema=schema, schema_name="paper_summary")
            self._book(completion)
            verdict = self._validate(completion, paper)
            if not verdict.ok:
                log.info("%s: repairing answer (%s)", paper.id, "; ".join(verdict.problems))
                fix = repair_messages(messages, completion.text, verdict.problems)
                completion = await self.client().complete_json(fix, schema=schema, schema_name="paper_summary")
                self._book(completion)
                verdict = self._validate(completion, paper)
        except LLMUnavailable as exc:
            return Enrichment(status="flagged", origin="llm", flag_reason=f"LLM 응답 없음: {exc}")

        if verdict.ok:
            result = Enrichment(
                status="summarized",
                origin="llm",
                summary=verdict.summary,
                tags=verdict.tags,
                new_keywords=verdict.new_keywords,
            )
        else:
            result = Enrichment(
                status="flagged",
                origin="llm",
                tags=verdict.tags or self.vocab.match_keywords(paper.title, paper.abstract),
                new_keywords=verdict.new_keywords,
                flag_reason="검증 실패: " + "; ".join(verdict.problems),
            )
        # Validated and validation-flagged answers are both final for this key: cache them.
        self.cache.set(key, {"enrichment": result.to_json(), "model": self.cfg.model})
        return result

    def _validate(self, completion: Any, paper: Paper) -> Any:
        return validate_answer(
            completion.data if completion.data is not None else completion.text,
            abstract=paper.title + "\n" + paper.abstract,
            vocab=self.vocab,
            min_chars=self.cfg.summary_min_chars,
            max_chars=self.cfg.summary_max_chars,
        )

    # -- the day's overview ------------------------------------------------------------------------------
    async def overview(self, day: dt.date, results: Sequence[Enrichment]) -> str | None:
        from agent.llm import LLMUnavailable

        items = [(e.summary, list(e.tags)) for e in results if e.status == "summarized" and e.summary]
        if not items:
            return None
        digest = hashlib.sha256(repr(items).encode("utf-8")).hexdigest()
        key = cache_key(
            kind="overview",
            paper_id=day.isoformat(),
            abstract=digest,
            prompt_version=self.version,
            model=self.cfg.model,
            params=_params(self.cfg),
        )
        hit = self.cache.get(key)
        if hit is not None and isinstance(hit.get("overview"), str):
            self.usage.cache_hits += 1
            return hit["overview"]

        from agent.prompts import OVERVIEW_SCHEMA, overview_messages

        messages = overview_messages(date=day.isoformat(), items=items)
        if self._over_budget(messages):
            return None
        try:
            completion = await self.client().complete_json(messages, schema=OVERVIEW_SCHEMA, schema_name="overview")
        except LLMUnavailable as exc:
            self._warn(f"overview not generated ({exc}); using the tag-based overview.")
            return None
        self._book(completion)
        text = completion.data.get("overview") if isinstance(completion.data, dict) else None
        problems = validate_overview(text) if isinstance(text, str) else ["no overview in the answer"]
        if problems:
            self._warn(f"overview rejected ({'; '.join(problems)}); using the tag-based overview.")
            return None
        overview = " ".join(str(text).split())
        self.cache.set(key, {"overview": overview, "model": self.cfg.model})
        return overview

    def _warn(self, message: str) -> None:
        self.warnings.append(message)
        log.warning("%s", message)

    # -- the whole day ----------------------------------------------------------------------------------
    async def run(self, papers: Sequence[Paper], day: dt.date) -> tuple[dict[str, Enrichment], str | None]:
        gate = asyncio.Semaphore(self.cfg.concurrency)

        async def one(paper: Paper) -> Enrichment:
            async with gate:
                result = await self.summarize(paper)
            if self.on_done:
                self.on_done()
            return result

        try:
            results = await asyncio.gather(*(one(p) for p in papers))
            overview = await self.overview(day, results)
        finally:
            await self.aclose()
        return {p.id: r for p, r in zip(papers, results, strict=True)}, overview


def open_enricher(cfg: Config, usage: Usage, **kwargs: Any) -> Enricher:
    return Enricher(
        cfg=cfg.llm,
        vocab=load_vocabulary(),
        cache=AnswerCache(cfg.cache_dir or default_cache_dir()),
        usage=usage,
        version=prompt_version(PROMPTS_DIR),
        **kwargs,
    )


def enrich_day(
    papers: Sequence[Paper],
    *,
    day: dt.date,
    cfg: Config,
    usage: Usage,
    progress: bool = False,
    warnings: list[str] | None = None,
    client_factory: Callable[[], Any] | None = None,
) -> tuple[dict[str, Enrichment], str | None]:
    """Summaries and tags for every paper (valid or flagged, never dropped) and the day's overview."""
    enricher = open_enricher(cfg, usage, client_factory=client_factory)
    try:
        if progress:
            from rich.progress import Progress

            with Progress(transient=True) as bar:
                task = bar.add_task("요약 생성", total=len(papers))
                enricher.on_done = lambda: bar.advance(task)
                result = asyncio.run(enricher.run(papers, day))
        else:
            result = asyncio.run(enricher.run(papers, day))
    finally:
        enricher.cache.close()
        if warnings is not None:
            warnings.extend(enricher.warnings)
    return result
