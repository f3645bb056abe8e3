"""Typed models passed between pipeline stages. Plain frozen dataclasses: cheap to import and build."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

# What became of a paper's enrichment.
#   summarized: a validated Korean one-liner (from the LLM or an editor)
#   awaiting:   no summary yet (--no-llm); tags come from the vocabulary's keyword rules
#   flagged:    the model's answer failed validation (its text, if any, is kept in `summary` for the
#               editor, never published as valid), the budget ran out, or the abstract is unusable
Status = Literal["summarized", "awaiting", "flagged"]
MAX_TAGS = 3  # tags per paper, at most: the model's, the keyword rules' and an editor's
Origin = Literal["llm", "keywords", "editor"]


@dataclass(frozen=True, slots=True)
class Paper:
    """One cleaned paper: every string is already safe *plain text* (control/bidi chars removed,
    LaTeX made readable, whitespace reflowed). Escaping for Markdown/Liquid happens in render."""

    id: str
    title: str
    abstract: str
    upvotes: int = 0
    authors: tuple[str, ...] = ()
    organization: str | None = None  # organization.fullname when the payload has one
    github_repo: str | None = None  # http(s) URL or None
    project_page: str | None = None  # http(s) URL or None
    published_at: str | None = None
    ai_keywords: tuple[str, ...] = ()
    thumbnail: str | None = None  # the HF social thumbnail, http(s) URL or None
    github_stars: int | None = None  # None when the payload has no count

    @property
    def hf_url(self) -> str:
        return f"https://huggingface.co/papers/{self.id}"

    @property
    def arxiv_url(self) -> str:
        return f"https://arxiv.org/abs/{self.id}"

    @property
    def affiliation(self) -> str:
        """Organisation full name, else "first author 외 N명", else ""."""
        if self.organization:
            return self.organization
        if not self.authors:
            return ""
        if len(self.authors) == 1:
            return self.authors[0]
        return f"{self.authors[0]} 외 {len(self.authors) - 1}명"


@dataclass(frozen=True, slots=True)
class Enrichment:
    status: Status
    origin: Origin
    summary: str | None = None
    tags: tuple[str, ...] = ()  # canonical vocabulary names, main field first
    new_keywords: tuple[str, ...] = ()  # model suggestions for the editor, never published as tags
    flag_reason: str | None = None
    # For `paper-digest eval`: the prompt version the answer was written with, and the problems of the model's
    # first answer when it was sent back for one repair (empty: it passed the first time, or was not checked).
    prompt_version: str | None = None
    repair_problems: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        # Every field is a plain value or a tuple of str: asdict's deep copy is not needed (a run's snapshot
        # converts one per paper).
        d = {name: getattr(self, name) for name in self.__slots__}
        d["tags"] = list(self.tags)
        d["new_keywords"] = list(self.new_keywords)
        d["repair_problems"] = list(self.repair_problems)
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Enrichment:
        return cls(
            status=d["status"],
            origin=d["origin"],
            summary=d.get("summary"),
            tags=tuple(d.get("tags") or ()),
            new_keywords=tuple(d.get("new_keywords") or ()),
            flag_reason=d.get("flag_reason"),
            prompt_version=d.get("prompt_version"),
            repair_problems=tuple(d.get("repair_problems") or ()),
        )


@dataclass(frozen=True, slots=True)
class DigestItem:
    rank: int
    paper: Paper
    enrichment: Enrichment


@dataclass(frozen=True, slots=True)
class Digest:
    date: dt.date
    items: tuple[DigestItem, ...]
    total: int  # papers collected that day (before top_n)
    overview: str | None = None  # Korean overview of the day (합니다체), None without the LLM
    crawled_at: str | None = None  # when the papers were fetched (ISO 8601), None when not recorded


@dataclass(slots=True)
class Usage:
    """Counters of one run; mutable, filled by the enrichment stage."""

    llm_requests: int = 0  # HTTP requests sent, retries included
    cache_hits: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_prompt_tokens: int = 0  # of prompt_tokens, read from the provider's prompt cache (cheaper)
    cost_usd: float | None = 0.0  # None: some request's model has no price here (the report says why)
    answers_cached: int = 0  # answers stored in the cache by this run (what an interrupted run keeps)
    verify_requests: int = 0  # faithfulness checks sent (--verify); their cost is part of cost_usd too
    verify_cost_usd: float = 0.0
    verify_flagged: int = 0  # papers the check said "no" to


@dataclass(slots=True)
class RunReport:
    """The JSON written by ``run --report FILE`` (its keys are a fixed contract; ``usage``'s fields are
    written at the top level). ``papers``: the papers in the draft (a rejected one is not); ``flagged``:
    the papers that still need the editor (flagged or needs-review), ``needs_review`` of them needs-review."""

    date: str
    papers: int = 0
    summarized: int = 0
    flagged: int = 0
    needs_review: int = 0
    usage: Usage = field(default_factory=Usage)
    seconds: float = 0.0
    draft: str | None = None  # None: no draft written (the day is published and this run leaves its post as is)
    published: str | None = None  # the day's post when it is already published (blog layout)
    warnings: list[str] = field(default_factory=list)
    # The LLM endpoint failed during the run (unreachable, or the circuit breaker opened): one line saying
    # where, why and how many papers it left flagged. The CLI exits 4.
    llm_endpoint_error: str | None = None
    left_by_budget: int = 0  # papers the budget left without an answer (flagged "budget")
    budget_usd: float = 0.0  # the run's budget (0: none)
    unpriced_budget: bool = False  # a budget was set but the model has no price here: not enforced

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "date": self.date,
            "papers": self.papers,
            "summarized": self.summarized,
            "flagged": self.flagged,
            "needs_review": self.needs_review,
        }
        d |= asdict(self.usage)
        d["cost_usd"] = None if self.usage.cost_usd is None else round(self.usage.cost_usd, 6)
        d["verify_cost_usd"] = round(self.usage.verify_cost_usd, 6)
        d |= {"seconds": round(self.seconds, 3), "draft": self.draft, "published": self.published}
        d["warnings"] = list(self.warnings)
        d["llm_endpoint_error"] = self.llm_endpoint_error
        d["left_by_budget"] = self.left_by_budget
        return d


# -- why publish would refuse (agent.publish decides; agent.errors.PublishRefused carries them) ------------

BlockerKind = Literal["unreviewed", "failed-checks", "missing-summaries", "nothing-to-publish"]


@dataclass(frozen=True, slots=True)
class Blocker:
    """One reason publish would refuse. ``forceable``: ``force`` publishes anyway (unreviewed papers as they
    are, failing text left out, papers without a summary without one); "nothing-to-publish" never is.

    - unreviewed: ``counts`` by open status (pending, flagged, needs-review), ``ids`` the papers, ``of``
      the papers of the day (vanished ones not counted);
    - failed-checks: ``problems`` per paper id (summary and tag checks), ``ids`` those papers;
    - missing-summaries: ``ids`` the papers the post would show without a summary, ``of`` the post's papers;
    - nothing-to-publish: every paper is rejected.
    """

    kind: BlockerKind
    ids: tuple[str, ...] = ()
    counts: Mapping[str, int] = field(default_factory=dict)
    problems: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    of: int = 0

    @property
    def forceable(self) -> bool:
        return self.kind != "nothing-to-publish"

    def describe(self) -> str:
        """A plain statement (no advice, no CLI flags): agent.cli words the advice."""
        if self.kind == "unreviewed":
            detail = ", ".join(f"{n} {status}" for status, n in self.counts.items())
            return f"{len(self.ids)} of {self.of} papers not reviewed yet ({detail})"
        if self.kind == "failed-checks":
            detail = "; ".join(f"{pid}: {', '.join(p)}" for pid, p in self.problems.items())
            return f"{len(self.ids)} paper(s) cannot be published as they are ({detail})"
        if self.kind == "missing-summaries":
            return f"{len(self.ids)} of {self.of} papers to publish have no summary ({', '.join(self.ids)})"
        return "every paper is rejected; nothing to publish"
