"""A fixture day for the review desk's tests: four papers (one hostile, one flagged), recorded as ``run`` would."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from agent.config import Config
from agent.layout import Layout
from agent.models import Digest, DigestItem, Enrichment, Paper
from agent.pipeline import record_run

DAY = dt.date(2026, 6, 12)
HOSTILE_TITLE = '<script>alert("title")</script> {{ site.title }} [x](javascript:alert(1))'
HOSTILE_ABSTRACT = (
    "We study prompt injection <img src=x onerror=alert(1)> and Liquid {% include evil.html %} payloads "
    "against agent frameworks, reducing attack success by 41% on 12 benchmarks."
)
ALPHA_ABSTRACT = (
    "We propose Alpha, a reinforcement learning method built on Qwen2.5-7B that reshapes rewards for "
    "mathematical reasoning and improves accuracy by 24% on 3 competition benchmarks."
)
ALPHA = "Alpha는 Qwen2.5-7B에서 보상 구조를 바꿔 수학 추론 정확도를 24% 높이는 강화학습 방법이다."
BETA = "Beta는 경쟁 벤치마크에서 언어 모델의 수학 추론을 개선하는 보상 재설계 방법이다."
GAMMA = "Gamma는 에이전트 프레임워크를 겨냥한 프롬프트 주입 공격의 성공률을 41% 낮춘다."
FLAG = "검증 실패: 초록에 없는 숫자 7"

IDS = ("2606.00001", "2606.00002", "2606.00003", "2606.00004")


def _paper(pid: str, upvotes: int, title: str, abstract: str) -> Paper:
    keywords = ("reinforcement learning", "<i>hf</i>") if pid == IDS[0] else ()
    return Paper(id=pid, title=title, abstract=abstract, upvotes=upvotes, authors=("Kim", "Lee"), ai_keywords=keywords)


def make_digest() -> Digest:
    generic = "We propose {n}, a method that reshapes rewards for mathematical reasoning in language models."
    rows = [
        (IDS[0], 90, "Alpha: Reward Reshaping", ALPHA_ABSTRACT, ALPHA, ("강화학습", "수학"), ("reward shaping",)),
        (IDS[1], 70, "Beta: Competition Math", generic.format(n="Beta"), BETA, ("수학",), ()),
        (IDS[2], 50, HOSTILE_TITLE, HOSTILE_ABSTRACT, GAMMA, ("안전성", "에이전트"), ("<b>bold</b>",)),
        (IDS[3], 30, "Delta: Reward Tricks", generic.format(n="Delta"), None, ("LLM",), ()),
    ]
    items = []
    for rank, (pid, up, title, abstract, summary, tags, kws) in enumerate(rows, 1):
        if summary is None:
            bad = "Delta는 7가지 기법을 쓴다."
            e = Enrichment(status="flagged", origin="llm", summary=bad, tags=tags, flag_reason=FLAG)
        else:
            e = Enrichment(status="summarized", origin="llm", summary=summary, tags=tags, new_keywords=kws)
        items.append(DigestItem(rank=rank, paper=_paper(pid, up, title, abstract), enrichment=e))
    return Digest(date=DAY, items=tuple(items), total=len(items), overview=None)


def make_day(out: Path) -> Config:
    """Record the fixture day under ``out`` (the outputs layout) and return a Config pointing at it."""
    cfg = Config(out_dir=out)
    record_run(Layout(out), make_digest(), cfg.post)
    return cfg
