"""Enrichment: per paper, cache → prompt → LLM → validate → (one repair) → cache; then the day's overview.

Every answer is cached as soon as it is validated, so an interrupted run resumes where it stopped. The cache key
is computed without rendering prompts or importing the SDK: a fully cached run imports neither `openai` nor
`langchain_core` and sends no request. Transient failures (after the SDK's own retries) and the budget flag the
paper and are not cached; a rejected key or an unknown model aborts the run (LLMError), cancelling the
requests still in flight. A server that answers 429 to more concurrent requests than it serves (a proxy's
in-flight cap below ``--concurrency``) halves the run's concurrency and the paper is asked again under the lower
limit (HTTP retries stay the SDK's; this only changes how many papers are in flight).

Budget: before each request (repairs and the overview too) its cost is estimated from the prompt's token count
and ``summary_max_chars * 2`` completion tokens, and *reserved* while it is in flight, so concurrent requests
cannot overrun ``budget_usd`` together. Once a request does not fit, no new request is sent; the remaining papers
are flagged "budget" and not cached, so a later run with more budget asks for them.

``prompts_dir`` (default ``prompts/``) gives the prompt version, the tag vocabulary and the templates rendered.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import logging
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from agent.cache import AnswerCache, cache_key, default_cache_dir, prompt_version
from agent.clean import clean_text
from agent.config import Config, LLMConfig, Price
from agent.llm import (  # cheap: the SDK is imported only when a client is built
    ChatClient,
    ChatReply,
    EndpointDown,
    LLMUnavailable,
    display_endpoint,
    endpoint_host,
    is_local_endpoint,
    make_client,
    masked_key,
)
from agent.models import Enrichment, Paper, Usage
from agent.prompts import PROMPTS_DIR
from agent.tokens import cost_usd, count_tokens, format_usd, prices_for_endpoint
from agent.validate import (
    MAX_KEYWORD_CHARS,
    MAX_NEW_KEYWORDS,
    Verdict,
    parse_answer,
    validate_answer,
    validate_overview,
)
from agent.vocab import MAX_TAGS, Vocabulary, load_vocabulary

log = logging.getLogger("paper-digest")

MIN_ABSTRACT_WORDS = 12  # below this there is nothing checkable to summarise


def _rate_limited(exc: LLMUnavailable) -> bool:
    """Did the SDK give up on HTTP 429?"""
    return exc.status_code == 429


class _Gate:
    """At most ``limit`` papers in flight; the limit can be lowered while they are."""

    def __init__(self, limit: int, warn: Callable[[str], None]) -> None:
        self.limit = max(1, limit)
        self._warn = warn
        self._active = 0
        self._changed = asyncio.Condition()

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[int]:
        """Hold one slot; yields the limit in force when it was granted."""
        async with self._changed:
            await self._changed.wait_for(lambda: self._active < self.limit)
            self._active += 1
            granted = self.limit
        try:
            yield granted
        finally:
            self._active -= 1
            async with self._changed:
                self._changed.notify_all()

    def lower(self, granted: int) -> bool:
        """A request granted at limit ``granted`` was rate-limited: halve the limit (once per level; the other
        requests refused at the same level only wait for it). True when the paper should be asked again."""
        if self.limit < granted:
            return True
        if self.limit == 1:
            return False  # refused even one at a time: a real rate limit, flag the paper
        self.limit //= 2
        self._warn(f"the LLM endpoint refuses concurrent requests (HTTP 429); lowering concurrency to {self.limit}.")
        return True


def _declined(answer: dict[str, Any] | None) -> bool:
    """An answer that parses and leaves ``summary`` empty on purpose."""
    return answer is not None and isinstance(answer.get("summary"), str) and not answer["summary"].strip()


def _params(cfg: LLMConfig, endpoint: str) -> dict[str, Any]:
    """What changes an answer besides the prompt and the model; it goes into every cache key. ``endpoint``
    (the host of OPENAI_BASE_URL): two servers serving one model name do not share answers."""
    return {
        "temperature": cfg.temperature,
        "summary_min_chars": cfg.summary_min_chars,
        "summary_max_chars": cfg.summary_max_chars,
        "endpoint": endpoint,
    }


def summary_max_tokens(cfg: LLMConfig) -> int:
    """``max_tokens`` for a summary: room for the longest valid answer with a 2× margin — the summary at
    ~1.5 tokens a Hangul syllable, 3 tags, 5 keywords of 40 characters, the JSON around them."""
    return 2 * (cfg.summary_max_chars * 3 // 2 + 3 * 12 + MAX_NEW_KEYWORDS * MAX_KEYWORD_CHARS // 3 + 40)


VERIFY_MAX_TOKENS = 300  # {"verdict": …, "reason": one Korean sentence}
VERIFY_FLAG = "사실 확인 실패: "  # a --verify "no": the reason follows
OVERVIEW_MAX_TOKENS = 600  # two sentences of 합니다체 and the JSON around them, with a margin


def reply_char_limit(cfg: LLMConfig) -> int:
    """Longer replies are rejected before any check runs (the checks' cost grows with the square of the
    length): four times the longest valid answer leaves room for a fence and a sentence around it."""
    return 4 * (cfg.summary_max_chars + MAX_TAGS * 20 + MAX_NEW_KEYWORDS * MAX_KEYWORD_CHARS + 60)


_ENRICHMENT_FIELDS = {
    "status", "origin", "summary", "tags", "new_keywords", "flag_reason", "prompt_version", "repair_problems"
}  # fmt: skip
_STATUSES = {"summarized", "flagged"}


def cached_enrichment(row: Any, vocab: Vocabulary) -> Enrichment | None:
    """The Enrichment in a cache row, or None when the row is not one this version writes (a miss: the
    answer is asked again and the row overwritten). Every field is checked: a hand-edited or foreign row
    must not reach the draft or the review state."""
    if not isinstance(row, dict):
        return None
    e = row.get("enrichment")
    if not isinstance(e, dict) or not set(e) <= _ENRICHMENT_FIELDS:
        return None
    status, summary, reason = e.get("status"), e.get("summary"), e.get("flag_reason")
    tags, keywords = e.get("tags", []), e.get("new_keywords", [])
    if status not in _STATUSES or e.get("origin") != "llm":
        return None
    if not (summary is None or isinstance(summary, str)) or not (reason is None or isinstance(reason, str)):
        return None
    if not all(isinstance(v, list) and all(isinstance(t, str) for t in v) for v in (tags, keywords)):
        return None
    if len(tags) > MAX_TAGS or any(vocab.canonical(t) != t for t in tags):
        return None
    version, problems = e.get("prompt_version"), e.get("repair_problems", [])
    if not (version is None or isinstance(version, str)) or not (
        isinstance(problems, list) and all(isinstance(p, str) for p in problems)
    ):
        return None
    if status == "summarized" and (not summary or not summary.strip() or reason is not None):
        return None
    if status == "flagged" and not reason:
        return None
    return Enrichment.from_json(e)


@dataclass
class Enricher:
    cfg: LLMConfig
    vocab: Vocabulary
    cache: AnswerCache
    usage: Usage
    version: str
    prompts_dir: Path = PROMPTS_DIR
    client_factory: Callable[[LLMConfig], ChatClient] = make_client  # tests inject their own
    on_done: Callable[[], None] | None = None
    endpoint: str = field(default_factory=endpoint_host)  # the host of OPENAI_BASE_URL, for cache keys
    warnings: list[str] = field(default_factory=list)
    # The endpoint failed (unreachable, timing out, breaker open): the first such error, and how many papers
    # it left without an answer. agent.pipeline turns this into exit code 4.
    outage: LLMUnavailable | None = None
    left_by_outage: int = 0
    # Papers the budget left without an answer (flagged "budget", not cached): the CLI says how many.
    left_by_budget: int = 0
    # The budget cannot be enforced: the model has no price at this endpoint (the CLI warns).
    unpriced_budget: bool = False
    _client: ChatClient | None = None
    _budget_spent: bool = False
    _reserved_usd: float = 0.0  # estimated cost of the requests in flight
    _asked: int = 0  # chat requests started (for -v logging; HTTP retries are counted by the client)

    # -- the LLM client, created only on the first cache miss ---------------------------------------------
    def client(self) -> ChatClient:
        if self._client is None:
            self._client = self.client_factory(self.cfg)
        return self._client

    async def aclose(self) -> None:
        """Close the client and book the HTTP requests it sent (retries included) in the ledger."""
        if self._client is not None:
            client, self._client = self._client, None
            self.usage.llm_requests += client.requests_sent
            await client.aclose()

    # -- keys -----------------------------------------------------------------------------------------------
    def summary_key(self, paper: Paper, note: str | None = None) -> str:
        return cache_key(
            kind="regenerate" if note is not None else "summary",
            paper_id=paper.id,
            abstract=paper.abstract,
            prompt_version=self.version,
            model=self.cfg.model,
            params=_params(self.cfg, self.endpoint),
            extra=note or "",
        )

    # -- budget and ledger -------------------------------------------------------------------------------
    def _reserve(self, tokens: int) -> float | None:
        """Reserve the estimated cost of a request of ``tokens`` prompt tokens; None when it would overrun
        the budget (then no new request is sent for the rest of the run). Release the reservation with
        ``_release`` once it is booked."""
        if self.cfg.budget_usd <= 0:
            return 0.0
        if self._budget_spent:
            return None
        estimate = cost_usd(tokens, self.cfg.summary_max_chars * 2, self.cfg.model, self._prices())
        if estimate is None:
            if not self.unpriced_budget:  # the CLI warns (naming its option); the report keeps the note
                self.unpriced_budget = True
                self.warnings.append(
                    f"the budget cannot be enforced: no price for model {self.cfg.model!r}; add it to [llm.prices]."
                )
            return 0.0
        if (self.usage.cost_usd or 0.0) + self._reserved_usd + estimate > self.cfg.budget_usd:
            self._budget_spent = True
            log.info("budget of $%.4f reached; no new LLM requests", self.cfg.budget_usd)
            return None
        self._reserved_usd += estimate
        return estimate

    def _release(self, reserved: float) -> None:
        self._reserved_usd = max(0.0, self._reserved_usd - reserved)

    async def _ask(
        self, messages: list[dict[str, str]], schema: dict[str, Any], name: str, what: str, max_tokens: int
    ) -> ChatReply | None:
        """One chat request within the budget: the reply (booked in the ledger), or None when the budget
        does not allow it. Raises LLMUnavailable / LLMError from the client."""
        # Counted where something uses the count: the budget decision, and the -v line. Loading tiktoken's
        # o200k encoding costs ~0.5 s and ~80 MB RSS, which a plain nightly run does not need (the ledger is
        # the response's `usage`). Without the BPE file the count is an estimate ("~").
        counted = self.cfg.budget_usd > 0 or log.isEnabledFor(logging.DEBUG)
        tokens, exact = count_tokens(messages, self.cfg.model) if counted else (0, False)
        reserved = self._reserve(tokens)
        if reserved is None:
            return None
        try:
            self._asked += 1
            log.debug(
                "LLM request %d: %s, %s%d prompt tokens (model %s, endpoint %s, key %s)",
                self._asked,
                what,
                "" if exact else "~",
                tokens,
                self.cfg.model,
                display_endpoint(),
                masked_key(),
            )
            reply = await self.client().complete(
                messages,
                schema=schema,
                schema_name=name,
                max_tokens=max_tokens,
                # The system prompt and few-shot turns are the same for every paper: one key for them all.
                cache_key=f"paper-digest-{name}-{self.version}",
            )
            self._book(reply)
            return reply
        finally:
            self._release(reserved)

    def _budget_flag(self) -> str:
        return f"budget: {format_usd(self.cfg.budget_usd)} 예산 소진으로 미요청"

    def _prices(self) -> Mapping[str, Price]:
        return prices_for_endpoint(self.cfg.prices, local=is_local_endpoint())

    def _book(self, reply: ChatReply) -> None:
        u = reply.usage
        self.usage.prompt_tokens += u.prompt_tokens
        self.usage.completion_tokens += u.completion_tokens
        self.usage.cached_prompt_tokens += u.cached_prompt_tokens
        cost = cost_usd(u.prompt_tokens, u.completion_tokens, self.cfg.model, self._prices(), u.cached_prompt_tokens)
        if cost is None:
            where = f" at the local endpoint {display_endpoint()}" if is_local_endpoint() else ""
            note = (
                f"cost unknown: no price for model {self.cfg.model!r}{where}; add it to [llm.prices] "
                "(input, output, cached_input in USD per 1M tokens)."
            )
            if note not in self.warnings:  # a note in the report, not a warning on every local run
                self.warnings.append(note)
                log.info("%s", note)
            self.usage.cost_usd = None
        elif self.usage.cost_usd is not None:
            self.usage.cost_usd += cost

    # -- one paper --------------------------------------------------------------------------------------------
    async def summarize(self, paper: Paper, *, note: str | None = None, use_cache: bool = True) -> Enrichment:
        """The paper's summary and tags: cached, validated, or flagged with the reason. Raises EndpointDown
        when the endpoint cannot be reached (nothing to record: the paper keeps what it had), LLMError when no
        request can succeed (bad key, unknown model)."""
        try:
            return await self._summarize(paper, note=note, use_cache=use_cache)
        except LLMUnavailable as exc:
            if exc.endpoint_down:
                raise EndpointDown(
                    f"cannot reach the LLM endpoint at {self.endpoint}: {exc.reason}; {paper.id} was left as it was.",
                    host=self.endpoint,
                    reason=exc.reason,
                ) from None
            return self._unasked(paper, f"LLM 응답 없음: {exc}")

    async def _summarize(self, paper: Paper, *, note: str | None, use_cache: bool) -> Enrichment:
        """``summarize``, raising LLMUnavailable (after the SDK's retries) instead of flagging."""
        if len(paper.abstract.split()) < MIN_ABSTRACT_WORDS:
            return Enrichment(
                status="flagged",
                origin="llm",
                tags=self.vocab.match_keywords(paper.title, paper.abstract),
                flag_reason="초록이 비었거나 너무 짧아 요약하지 않음 (편집자 확인 필요)",
            )
        key = self.summary_key(paper, note)
        if use_cache:
            hit = cached_enrichment(self.cache.get(key), self.vocab)
            if hit is not None:
                self.usage.cache_hits += 1
                return await self._verified(paper, hit)

        from agent.prompts import describe_tags, repair_messages, summary_messages, summary_schema

        messages = summary_messages(
            title=paper.title.strip() or f"arXiv {paper.id}",
            abstract=paper.abstract,
            tag_names=self.vocab.names,
            note=note,
            tag_hints=describe_tags(self.vocab.tags),
            prompts_dir=self.prompts_dir,
        )
        schema = summary_schema(self.vocab.names)
        tokens = summary_max_tokens(self.cfg)
        reply = await self._ask(messages, schema, "paper_summary", f"summary of {paper.id}", tokens)
        if reply is None:
            self.left_by_budget += 1
            return self._unasked(paper, self._budget_flag())
        verdict, answer = self._check(reply, paper)
        first_problems: tuple[str, ...] = ()  # recorded for `paper-digest eval`
        if not verdict.ok and _declined(answer):
            # The prompt tells the model to leave the summary empty when the abstract says nothing checkable:
            # that is an answer for the editor, not a mistake to repair.
            verdict = replace(verdict, problems=("모델이 초록에서 요약할 내용을 찾지 못함 (편집자 확인 필요)",))
        elif not verdict.ok:
            log.info("%s: repairing answer (%s)", paper.id, "; ".join(verdict.problems))
            first_problems = verdict.problems
            quoted = reply.text[: reply_char_limit(self.cfg)]  # an over-long reply is not sent back whole
            fix = repair_messages(messages, quoted, verdict.problems, prompts_dir=self.prompts_dir)
            repaired = await self._ask(fix, schema, "paper_summary", f"repair of {paper.id}", tokens)
            if repaired is None:  # not cached: a run with budget left asks again
                self.left_by_budget += 1
                reason = f"{self._budget_flag()} (수정 요청 전 검증 실패: {'; '.join(verdict.problems)})"
                return self._unasked(paper, reason)
            verdict, answer = self._check(repaired, paper)

        if verdict.ok:
            result = Enrichment(
                status="summarized",
                origin="llm",
                summary=verdict.summary,
                tags=verdict.tags,
                new_keywords=verdict.new_keywords,
                prompt_version=self.version,
                repair_problems=first_problems,
            )
        else:
            # The model's text stays for the editor (draft and review table show it beside the reason);
            # a flagged summary is never published unless the editor edits it (agent.publish checks).
            result = Enrichment(
                status="flagged",
                origin="llm",
                summary=clean_text(verdict.summary) or None,
                tags=verdict.tags or self.vocab.match_keywords(paper.title, paper.abstract),
                new_keywords=verdict.new_keywords,
                flag_reason="검증 실패: " + "; ".join(verdict.problems),
                prompt_version=self.version,
                repair_problems=first_problems,
            )
        # Validated and validation-flagged answers are both final for this key: cache them.
        self.cache.set(key, {"enrichment": result.to_json(), "model": self.cfg.model})
        self.usage.answers_cached += 1
        return await self._verified(paper, result)

    async def _verified(self, paper: Paper, result: Enrichment) -> Enrichment:
        """With ``verify``: a validated line checked once more by the LLM against its abstract (a wrong quantity
        or another paper's content passes every rule). "no" flags the paper with the model's reason. The verdict
        is cached under its own key (the summary's cache entry stays the summary), so a run without ``verify``
        and one with it share answers."""
        if not self.cfg.verify or result.status != "summarized" or not result.summary:
            return result
        key = cache_key(
            kind="verify",
            paper_id=paper.id,
            abstract=paper.abstract,
            prompt_version=self.version,
            model=self.cfg.model,
            params=_params(self.cfg, self.endpoint),
            extra=result.summary,
        )
        hit = self.cache.get(key)
        verdict = hit.get("verify") if isinstance(hit, dict) else None
        if isinstance(verdict, dict) and verdict.get("verdict") in ("yes", "no"):
            self.usage.cache_hits += 1
        else:
            from agent.prompts import VERIFY_SCHEMA, verify_messages

            messages = verify_messages(
                title=paper.title.strip() or f"arXiv {paper.id}",
                abstract=paper.abstract,
                summary=result.summary,
                prompts_dir=self.prompts_dir,
            )
            reply = await self._ask(messages, VERIFY_SCHEMA, "faithfulness", f"check of {paper.id}", VERIFY_MAX_TOKENS)
            if reply is None:
                self._warn_once("faithfulness checks skipped once the budget was reached.")
                return result
            self.usage.verify_requests += 1
            u = reply.usage  # priced like _book prices it (booked there into cost_usd as well)
            model, cached = self.cfg.model, u.cached_prompt_tokens
            cost = cost_usd(u.prompt_tokens, u.completion_tokens, model, self._prices(), cached)
            self.usage.verify_cost_usd += cost or 0.0
            answer = parse_answer(reply.text)
            if not isinstance(answer, dict) or answer.get("verdict") not in ("yes", "no"):
                self._warn_once("a faithfulness check gave no yes/no verdict; its paper was left as validated.")
                return result
            reason = " ".join(str(answer.get("reason") or "").split())[:300] or "이유 없음"
            verdict = {"verdict": answer["verdict"], "reason": clean_text(reason)}
            self.cache.set(key, {"verify": verdict, "model": self.cfg.model})
        if verdict["verdict"] == "yes":
            return result
        self.usage.verify_flagged += 1
        return replace(result, status="flagged", flag_reason=f"{VERIFY_FLAG}{verdict['reason']}")

    def _unasked(self, paper: Paper, reason: str) -> Enrichment:
        """A paper left without an answer (budget, endpoint down): flagged, keyword tags, never cached."""
        return Enrichment(
            status="flagged",
            origin="llm",
            tags=self.vocab.match_keywords(paper.title, paper.abstract),
            flag_reason=reason,
        )

    def _check(self, reply: ChatReply, paper: Paper) -> tuple[Verdict, dict[str, Any] | None]:
        """The reply parsed (once) and validated. An over-long reply is rejected by its length alone: the
        checks' regexes are not run on it."""
        limit = reply_char_limit(self.cfg)
        if len(reply.text) > limit:
            problem = f"응답이 너무 김 ({len(reply.text)}자, 최대 {limit}자): JSON 객체 하나로만 짧게 답할 것"
            return Verdict(False, (problem,), "", (), ()), None
        answer = parse_answer(reply.text)
        verdict = validate_answer(
            answer,
            abstract=paper.title + "\n" + paper.abstract,
            vocab=self.vocab,
            min_chars=self.cfg.summary_min_chars,
            max_chars=self.cfg.summary_max_chars,
        )
        return verdict, answer

    # -- the day's overview ------------------------------------------------------------------------------
    async def overview(self, day: dt.date, results: Sequence[Enrichment]) -> str | None:

        # The papers it is written from; agent.state.overview_basis names the same ones.
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
            params=_params(self.cfg, self.endpoint),
        )
        hit = self.cache.get(key)
        if hit is not None and isinstance(hit.get("overview"), str) and hit["overview"].strip():
            self.usage.cache_hits += 1
            return str(hit["overview"])
        if hit is not None and isinstance(hit.get("rejected"), str):
            # Rejected before for exactly these summaries: asking again would cost a request for the same
            # answer. A changed summary, tag or prompt is another key.
            self.usage.cache_hits += 1
            self._warn(f"overview rejected ({hit['rejected']}); using the tag-based overview.")
            return None

        from agent.prompts import OVERVIEW_SCHEMA, overview_messages

        messages = overview_messages(date=day.isoformat(), items=items, prompts_dir=self.prompts_dir)
        try:
            reply = await self._ask(
                messages, OVERVIEW_SCHEMA, "overview", f"overview of {day.isoformat()}", OVERVIEW_MAX_TOKENS
            )
        except LLMUnavailable as exc:
            if exc.endpoint_down and self.outage is None:
                self.outage = exc
            self._warn(f"overview not generated ({exc}); using the tag-based overview.")
            return None
        if reply is None:
            self._warn("overview not generated (budget reached); using the tag-based overview.")
            return None
        if len(reply.text) > reply_char_limit(self.cfg):
            problems = [f"응답이 너무 김 ({len(reply.text)}자)"]
            text = None
        else:
            answer = parse_answer(reply.text)
            text = answer.get("overview") if answer is not None else None
            problems = validate_overview(text) if isinstance(text, str) else ["no overview in the answer"]
        if problems or not isinstance(text, str):
            reason = "; ".join(problems)
            self.cache.set(key, {"rejected": reason, "model": self.cfg.model})
            self._warn(f"overview rejected ({reason}); using the tag-based overview.")
            return None
        overview = " ".join(text.split())
        self.cache.set(key, {"overview": overview, "model": self.cfg.model})
        self.usage.answers_cached += 1
        return overview

    def _warn(self, message: str) -> None:
        self.warnings.append(message)
        log.warning("%s", message)

    def _warn_once(self, message: str) -> None:
        if message not in self.warnings:
            self._warn(message)

    # -- the whole day ----------------------------------------------------------------------------------
    async def run(self, papers: Sequence[Paper], day: dt.date) -> tuple[dict[str, Enrichment], str | None]:

        gate = _Gate(self.cfg.concurrency, self._warn)

        async def one(paper: Paper) -> Enrichment:
            result: Enrichment | None = None
            while result is None:
                async with gate.slot() as granted:
                    try:
                        result = await self._summarize(paper, note=None, use_cache=True)
                    except LLMUnavailable as exc:
                        if not (_rate_limited(exc) and gate.lower(granted)):
                            if exc.endpoint_down:
                                self.outage = self.outage or exc
                                self.left_by_outage += 1
                            result = self._unasked(paper, f"LLM 응답 없음: {exc}")
            if self.on_done:
                self.on_done()
            return result

        tasks = [asyncio.ensure_future(one(p)) for p in papers]
        try:
            try:
                results = await asyncio.gather(*tasks)
            except BaseException:
                # A fatal LLMError (bad key, unknown model) or an interrupt: stop the requests still in flight
                # instead of letting them run on against a closing client. Answers already validated are cached.
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                raise
            overview = await self.overview(day, results)
        finally:
            await self.aclose()
        return {p.id: r for p, r in zip(papers, results, strict=True)}, overview


def open_enricher(cfg: Config, usage: Usage, *, prompts_dir: Path | None = None, **kwargs: Any) -> Enricher:
    prompts_dir = prompts_dir or PROMPTS_DIR
    return Enricher(
        cfg=cfg.llm,
        vocab=load_vocabulary(prompts_dir / "tags.toml"),
        cache=AnswerCache(cfg.cache_dir or default_cache_dir()),
        usage=usage,
        version=prompt_version(prompts_dir),
        prompts_dir=prompts_dir,
        **kwargs,
    )


@dataclass(frozen=True, slots=True)
class EnrichedDay:
    results: dict[str, Enrichment]  # by paper id: every paper, valid or flagged, never dropped
    overview: str | None
    outage: EndpointDown | None = None  # the endpoint failed during the run (the CLI's exit code 4)
    left_by_budget: int = 0  # papers the budget left unasked (or unrepaired): flagged "budget"
    unpriced_budget: bool = False  # a budget was set, but the model has no price here: not enforced


def enrich_day(
    papers: Sequence[Paper],
    *,
    day: dt.date,
    cfg: Config,
    usage: Usage,
    progress: bool = False,
    warnings: list[str] | None = None,
    client_factory: Callable[[LLMConfig], ChatClient] | None = None,
    prompts_dir: Path | None = None,
) -> EnrichedDay:
    """Summaries and tags for every paper and the day's overview.

    Raises LLMError when the endpoint refuses the run itself (bad key, unknown model); answers validated
    before that stay cached. An endpoint that cannot be reached is not an error here: the papers it left are
    flagged with the reason, and ``outage`` says so."""
    extra = {"client_factory": client_factory} if client_factory is not None else {}
    enricher = open_enricher(cfg, usage, prompts_dir=prompts_dir, **extra)
    try:
        if progress:
            from rich.progress import Progress

            with Progress(transient=True) as bar:
                task = bar.add_task("요약 생성", total=len(papers))
                enricher.on_done = lambda: bar.advance(task)
                results, overview = asyncio.run(enricher.run(papers, day))
        else:
            results, overview = asyncio.run(enricher.run(papers, day))
    finally:
        enricher.cache.close()
        if warnings is not None:
            warnings.extend(enricher.warnings)
    outage = None
    if enricher.outage is not None:
        n = enricher.left_by_outage
        left = f"{n} paper{'s' if n != 1 else ''} left flagged" if n else "the overview fell back to tags"
        outage = EndpointDown(
            f"cannot reach the LLM endpoint at {enricher.endpoint}: {enricher.outage.reason}; {left}.",
            host=enricher.endpoint,
            reason=enricher.outage.reason,
        )
    if enricher.left_by_budget and warnings is not None:  # the report's note; the CLI words its own line
        n = enricher.left_by_budget
        warnings.append(
            f"the LLM budget of {format_usd(cfg.llm.budget_usd)} was reached: {n} paper{'s' if n != 1 else ''} "
            "left unasked and flagged; a run with more budget asks for them."
        )
    return EnrichedDay(results, overview, outage, enricher.left_by_budget, enricher.unpriced_budget)


def keyword_enrichment(papers: Sequence[Paper]) -> dict[str, Enrichment]:
    """--no-llm: no summaries; tags from the vocabulary's keyword rules."""
    vocab = load_vocabulary()
    return {
        p.id: Enrichment(status="awaiting", origin="keywords", tags=vocab.match_keywords(p.title, p.abstract))
        for p in papers
    }
