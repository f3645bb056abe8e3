"""How the model's answers fared, per prompt version, over drafted or published days (``paper-digest eval``).

From each day's snapshot (the run's answers, each with the prompt version it was written with and the problems
of its first answer when it was sent back for repair): how many passed the checks the first time, after the one
repair, or ended flagged, and the problems by class. From the day's review file — the gold signal — how often
and how much editors changed the model's lines: the share of reviewed lines whose text they changed, the
character edit distance of those changes, and how often they changed the tags.

``compare`` puts two prompt versions side by side over the same papers: the papers of the given days that have
an answer under both versions in the LLM cache (the cache keeps every version's answers; the snapshot only the
latest run's). Pure reading: nothing is written, nothing is asked of the LLM.

Answers written before versions were recorded count under ``UNRECORDED``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from agent.errors import ConfigError
from agent.layout import Layout
from agent.models import Enrichment, Paper
from agent.state import ReviewEntry
from agent.validate import problem_class

UNRECORDED = "unrecorded"
_VALIDATION_FLAGS = ("검증 실패: ", "모델이 초록에서")
_VERIFY_FLAG = "사실 확인 실패: "  # agent.enrich.VERIFY_FLAG (not imported: eval stays light)


@dataclass(slots=True)
class VersionStats:
    """One prompt version's answers (``papers``) and what editors did with them."""

    version: str
    papers: int = 0  # papers the LLM was asked about
    first_pass: int = 0  # passed the checks with the first answer
    after_repair: int = 0  # passed after the one repair request
    flagged: int = 0  # failed the checks after repair (or declined): on the editor's desk
    not_answered: int = 0  # budget, endpoint down or an unusable abstract: no answer to judge
    first_problems: Counter[str] = field(default_factory=Counter)  # classes of the first answers' problems
    final_problems: Counter[str] = field(default_factory=Counter)  # classes of the flagged answers' problems
    reviewed: int = 0  # lines an editor approved or edited
    edited: int = 0  # of those, lines whose text the editor changed
    rejected: int = 0  # papers the editor left out
    tags_changed: int = 0  # reviewed papers whose tags the editor changed
    distances: list[int] = field(default_factory=list)  # character edit distance of each changed line
    model_chars: int = 0  # characters of the model's changed lines (for the relative distance)

    @property
    def edit_rate(self) -> float | None:
        return self.edited / self.reviewed if self.reviewed else None

    @property
    def mean_distance(self) -> float | None:
        return sum(self.distances) / len(self.distances) if self.distances else None

    @property
    def relative_distance(self) -> float | None:
        """Characters changed per character of the model's line, over the changed lines."""
        return sum(self.distances) / self.model_chars if self.model_chars else None

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "papers": self.papers,
            "first_pass": self.first_pass,
            "after_repair": self.after_repair,
            "flagged": self.flagged,
            "not_answered": self.not_answered,
            "first_problems": dict(self.first_problems.most_common()),
            "final_problems": dict(self.final_problems.most_common()),
            "reviewed": self.reviewed,
            "edited": self.edited,
            "rejected": self.rejected,
            "tags_changed": self.tags_changed,
            "edit_rate": _round(self.edit_rate),
            "mean_edit_distance": _round(self.mean_distance),
            "relative_edit_distance": _round(self.relative_distance),
        }


@dataclass(slots=True)
class EvalReport:
    dates: tuple[dt.date, ...]
    versions: list[VersionStats]  # most papers first
    compared: list[VersionStats] | None = None  # two versions over the same papers (``compare``)
    compared_papers: int = 0
    differing_lines: int = 0  # of the compared papers, how many got a different line from the two versions

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "dates": [d.isoformat() for d in self.dates],
            "versions": [v.to_json() for v in self.versions],
        }
        if self.compared is not None:
            data["compare"] = {
                "papers": self.compared_papers,
                "differing_lines": self.differing_lines,
                "versions": [v.to_json() for v in self.compared],
            }
        return data


def evaluate(
    layout: Layout, days: Sequence[dt.date], *, compare: tuple[str, str] | None = None, cfg: Any = None
) -> EvalReport:
    """The answers of ``days`` by prompt version, with the editors' changes from the review files.

    ``compare`` names two prompt versions (a unique prefix of each, as the report prints them) to put side by
    side over the papers both answered, read from the LLM cache of ``cfg``. Raises NoRunError/BrokenFileError
    for a day without a readable snapshot, ConfigError for a version no answer of these days was written with.
    """
    from agent.store import open_day

    by_version: dict[str, VersionStats] = {}
    papers: list[Paper] = []
    seen_versions: list[str] = []
    for day in days:
        opened = open_day(layout, day)
        entries = opened.state.entries  # the review file merged with the snapshot (idempotent)
        for item in opened.digest.items:
            e = item.enrichment
            if e.origin != "llm":
                continue
            papers.append(item.paper)
            version = e.prompt_version or UNRECORDED
            if e.prompt_version and e.prompt_version not in seen_versions:
                seen_versions.append(e.prompt_version)
            stats = by_version.setdefault(version, VersionStats(version))
            _count_answer(stats, e)
            entry = entries.get(item.paper.id)
            if entry is not None:
                # An approval is of the text the editor saw; it is this version's only if the text is the same.
                judged = version if entry.model_summary == e.summary else UNRECORDED
                _count_review(by_version.setdefault(judged, VersionStats(judged)), entry)
    report = EvalReport(
        dates=tuple(days), versions=sorted(by_version.values(), key=lambda v: (-v.papers, v.version))
    )
    if compare is not None:
        _compare(report, papers, compare, seen_versions, cfg)
    return report


def _count_answer(stats: VersionStats, e: Enrichment) -> None:
    stats.papers += 1
    stats.first_problems.update(problem_class(p) for p in e.repair_problems)
    if e.status == "summarized":
        if e.repair_problems:
            stats.after_repair += 1
        else:
            stats.first_pass += 1
        return
    reason = e.flag_reason or ""
    if e.status == "flagged" and reason.startswith(_VERIFY_FLAG):  # passed the rules, not the LLM check
        stats.flagged += 1
        stats.final_problems["unfaithful"] += 1
    elif e.status == "flagged" and reason.startswith(_VALIDATION_FLAGS):
        stats.flagged += 1
        problems = reason.removeprefix("검증 실패: ").split("; ")
        stats.final_problems.update(problem_class(p) for p in problems)
        if not e.repair_problems:  # flagged without a repair (a declined answer): its problems are the first
            stats.first_problems.update(problem_class(p) for p in problems)
    else:
        stats.not_answered += 1


def _count_review(stats: VersionStats, entry: ReviewEntry) -> None:
    if entry.status == "rejected":
        stats.rejected += 1
        return
    if entry.status not in ("approved", "edited") or entry.model_summary is None:
        return
    stats.reviewed += 1
    final = entry.summary if entry.summary is not None else entry.model_summary
    if final != entry.model_summary:
        stats.edited += 1
        stats.distances.append(edit_distance(entry.model_summary, final))
        stats.model_chars += len(entry.model_summary)
    if entry.tags is not None and tuple(entry.tags) != tuple(entry.model_tags):
        stats.tags_changed += 1


def _compare(
    report: EvalReport, papers: Sequence[Paper], wanted: tuple[str, str], seen: Sequence[str], cfg: Any
) -> None:
    from agent.cache import prompt_version
    from agent.enrich import cached_enrichment, open_enricher
    from agent.models import Usage
    from agent.prompts import PROMPTS_DIR

    known = list(dict.fromkeys([*seen, prompt_version(PROMPTS_DIR)]))
    a, b = (_resolve(v, known) for v in wanted)
    enricher = open_enricher(cfg, Usage())
    try:
        one, two = VersionStats(a), VersionStats(b)
        for paper in dict((p.id, p) for p in papers).values():
            answers = []
            for version in (a, b):
                enricher.version = version  # the key of this version's answer (model, params: as configured)
                key = enricher.summary_key(paper)
                answers.append(cached_enrichment(enricher.cache.get(key), enricher.vocab))
            first, second = answers
            if first is None or second is None:
                continue
            report.compared_papers += 1
            _count_answer(one, first)
            _count_answer(two, second)
            report.differing_lines += first.summary != second.summary
        report.compared = [one, two]
    finally:
        enricher.cache.close()


def _resolve(prefix: str, known: Iterable[str]) -> str:
    """The one known version ``prefix`` starts; a whole version (16 hex digits) is taken as given, since an
    older version's answers may live only in the cache."""
    known = list(known)
    matches = [v for v in known if v.startswith(prefix.strip())] if prefix.strip() else []
    if not matches and re.fullmatch(r"[0-9a-f]{16}", prefix.strip()):
        return prefix.strip()
    if len(matches) != 1:
        listed = ", ".join(short(v) for v in known) or "none"
        what = "matches several" if matches else "matches none"
        raise ConfigError(f"prompt version {prefix!r} {what} of the versions of these days ({listed})")
    return matches[0]


def short(version: str) -> str:
    """A prompt version as the report prints it."""
    return version if version == UNRECORDED else version[:12]


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance in characters (insertions, deletions, substitutions)."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
