"""The benchmark's day: N papers built from a real payload, and a fake model that answers every one validly."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
REAL_PAYLOAD = ROOT.parent / "shared" / "fixtures" / "hf_daily_papers_2026-06-12.json"
SAMPLE = ROOT / "samples" / "hf_daily_papers_2026-02-13.json"
SAMPLE_DATE = "2026-02-13"
REAL_DATE = "2026-06-12"

# No digits anywhere: a summary may only state numbers its abstract states, and this one states none.
OVERVIEW = "오늘은 언어 모델, 에이전트, 멀티모달 등 여러 분야의 논문을 소개합니다."


def base_payload() -> tuple[list[dict[str, Any]], str, str]:
    """(items, date, where): the real 30-paper response when ../shared has it, else the bundled sample."""
    path, day = (REAL_PAYLOAD, REAL_DATE) if REAL_PAYLOAD.exists() else (SAMPLE, SAMPLE_DATE)
    return json.loads(path.read_text(encoding="utf-8")), day, str(path)


def replicate(items: list[dict[str, Any]], n: int) -> list[dict[str, Any]]:
    """``n`` items: the originals, then copies with distinct ids ("<id>v2", "<id>v3", …) and titles."""
    out: list[dict[str, Any]] = []
    copy_no = 1
    while len(out) < n:
        for item in items:
            if len(out) == n:
                break
            if copy_no == 1:
                out.append(item)
                continue
            clone = copy.deepcopy(item)
            paper = clone["paper"]
            paper["id"] = f"{paper['id']}v{copy_no}"
            suffix = f" (replica {copy_no})"
            paper["title"] = paper["title"] + suffix
            if isinstance(clone.get("title"), str):
                clone["title"] = clone["title"] + suffix
            out.append(clone)
        copy_no += 1
    return out


def write_day(directory: Path, n: int) -> tuple[Path, str, str]:
    """Write the N-paper payload into ``directory``; returns (path, date, where the base came from)."""
    items, day, where = base_payload()
    path = directory / f"hf_daily_papers_{day}_n{n}.json"
    path.write_text(json.dumps(replicate(items, n), ensure_ascii=False), encoding="utf-8")
    return path, day, where


_NAME = re.compile(r"^[A-Z][A-Za-z-]{2,30}$")


def summary_for(title: str) -> str:
    """A one-sentence Korean summary that passes agent/validate.py for any title (no numbers at all)."""
    head = title.split(":", 1)[0].strip()
    subject = f"{head}는" if _NAME.match(head) and ":" in title else "제안된 방법은"
    return f"{subject} 주어진 과제의 핵심 문제를 새로운 방식으로 다루고 여러 실험에서 기존 접근보다 나은 결과를 보인다."


def answer_fn(vocab: Any) -> Any:
    """A FakeOpenAI answer function: the overview, or a valid summary + vocabulary tags for any paper."""
    from fake_openai import ChatRequest, Fault

    def answer(req: ChatRequest) -> Any:
        if req.is_overview:
            return {"overview": OVERVIEW}
        title = req.paper_title
        if title is None:
            return Fault.bad_request("bench fake: no <paper_title> in the request")
        tags = list(vocab.match_keywords(title, req.last_user))[:3] or ["LLM"]
        return {"summary": summary_for(title), "tags": tags, "new_keywords": []}

    return answer
