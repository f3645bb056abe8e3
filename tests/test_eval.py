"""paper-digest eval: the bundled day run against the fake LLM and reviewed, a hand-built reviewed fixture
day, and --compare over two prompt versions in the cache."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fake_openai import Answer, ChatRequest, FakeOpenAI, by_title, load_answers
from typer.testing import CliRunner, Result
from webday import DAY, IDS, make_day

from agent.cache import prompt_version
from agent.cli import app
from agent.config import Config
from agent.eval import UNRECORDED, edit_distance, evaluate
from agent.layout import Layout
from agent.models import Enrichment, Usage
from agent.prompts import PROMPTS_DIR
from agent.review import approve, edit, reject
from agent.validate import problem_class

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples" / "hf_daily_papers_2026-02-13.json"
DATE = "2026-02-13"
ANSWERS = load_answers()
OPD, LAW, MOLT, VOX = "2602.12125", "2602.12056", "2602.09877", "2602.11298"
EDITED = "Voxtral Realtime은 480ms 지연에서 오프라인 Whisper와 대등한 품질을 내는 스트리밍 음성 인식 모델이다."


def _title(pid: str) -> str:
    return " ".join(ANSWERS["paper"][pid]["title"].split())


def answers(req: ChatRequest) -> Answer:
    """OPD: English first, fixed on repair. LawThinker: English both times (flagged). The rest: good."""
    title = " ".join((req.paper_title or "").split())
    if not req.is_overview and (title == _title(LAW) or (title == _title(OPD) and not req.is_repair)):
        return ANSWERS["bad"]["english"]
    return by_title(ANSWERS)(req)


@pytest.fixture
def work(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    monkeypatch.chdir(tmp_path)
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "PAPER_DIGEST_MODEL", "PAPER_DIGEST_CACHE_DIR"):
        monkeypatch.delenv(name, raising=False)
    with FakeOpenAI(answers) as server:
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-dummy")
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        yield tmp_path


def cli(work: Path, *args: str) -> Result:
    return CliRunner().invoke(app, [*args, "--out", str(work / "out")], catch_exceptions=False)


def test_eval_of_the_bundled_day_after_a_review(work: Path) -> None:
    ran = cli(work, "run", "--date", DATE, "--source", str(SAMPLE), "--cache-dir", str(work / "cache"))
    assert ran.exit_code == 0, ran.output
    assert cli(work, "review", DATE, "--approve", MOLT).exit_code == 0
    assert cli(work, "review", DATE, "--edit", VOX, "--summary", EDITED, "--tags", "음성,LLM").exit_code == 0
    assert cli(work, "review", DATE, "--reject", LAW).exit_code == 0

    result = cli(work, "eval", DATE, "--json", "--cache-dir", str(work / "cache"))
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.output)
    assert data["dates"] == [DATE]
    (stats,) = data["versions"]
    assert stats["version"] == prompt_version(PROMPTS_DIR)
    assert (stats["papers"], stats["first_pass"], stats["after_repair"], stats["flagged"]) == (10, 8, 1, 1)
    assert stats["first_problems"]["not_korean"] == 2  # OPD's and LawThinker's first answers
    assert stats["final_problems"]["not_korean"] == 1  # LawThinker's, after its repair
    assert (stats["reviewed"], stats["edited"], stats["rejected"], stats["tags_changed"]) == (2, 1, 1, 1)
    assert stats["edit_rate"] == 0.5 and stats["mean_edit_distance"] > 0

    table = cli(work, "eval", DATE, "--cache-dir", str(work / "cache")).output
    for line in ("passed first time", "8 (80%)", "passed after repair", "problem: not_korean", "lines edited"):
        assert line in table, table
    assert prompt_version(PROMPTS_DIR)[:12] in table


def test_eval_of_a_reviewed_fixture_day(tmp_path: Path) -> None:
    cfg = make_day(tmp_path / "out")
    layout = Layout(cfg.out_dir)
    approve(layout, DAY, cfg, IDS[0])
    beta = "Beta는 경쟁 수학 벤치마크에서 언어 모델의 추론을 돕는 보상 재설계 방법이다."
    edit(layout, DAY, cfg, IDS[1], summary=beta)
    reject(layout, DAY, cfg, IDS[2])
    report = evaluate(layout, [DAY])
    (stats,) = report.versions
    assert stats.version == UNRECORDED  # answers written before versions were recorded
    assert (stats.papers, stats.first_pass, stats.flagged) == (4, 3, 1)
    assert stats.final_problems == {"number": 1}
    assert (stats.reviewed, stats.edited, stats.rejected, stats.tags_changed) == (2, 1, 1, 0)
    model = "Beta는 경쟁 벤치마크에서 언어 모델의 수학 추론을 개선하는 보상 재설계 방법이다."
    assert stats.distances == [edit_distance(model, beta)]


def test_compare_two_prompt_versions_over_the_same_papers(work: Path) -> None:
    assert cli(work, "run", "--date", DATE, "--source", str(SAMPLE), "--cache-dir", str(work / "cache")).exit_code == 0
    # An older prompt version's answers for three of the papers, as an earlier run would have cached them.
    from agent.enrich import open_enricher
    from agent.store import open_day

    cfg = Config(out_dir=work / "out", cache_dir=work / "cache")
    digest = open_day(Layout(work / "out"), dt.date.fromisoformat(DATE)).digest
    enricher = open_enricher(cfg, Usage())
    old = "0123456789abcdef"
    enricher.version = old
    for item in digest.items[:3]:
        first = ("초록에 없는 숫자: 7 (초록의 숫자만 그대로 쓸 것)",) if item is digest.items[0] else ()
        line = "옛 프롬프트의 한 줄 요약이다."
        e = Enrichment("summarized", "llm", summary=line, tags=("LLM",), repair_problems=first)
        enricher.cache.set(enricher.summary_key(item.paper), {"enrichment": e.to_json(), "model": cfg.llm.model})
    enricher.cache.close()

    new = prompt_version(PROMPTS_DIR)
    result = cli(work, "eval", DATE, "--json", "--cache-dir", str(work / "cache"), "--compare", old, new[:8])
    assert result.exit_code == 0, result.output
    compared = json.loads(result.output)["compare"]
    assert compared["papers"] == 3 and compared["differing_lines"] == 3
    one, two = compared["versions"]
    assert (one["version"], one["after_repair"], one["first_problems"]) == (old, 1, {"number": 1})
    assert two["version"] == new and two["papers"] == 3

    unknown = cli(work, "eval", DATE, "--cache-dir", str(work / "cache"), "--compare", "zz", new[:8])
    assert unknown.exit_code == 2 and "prompt version 'zz' matches none" in unknown.output


def test_eval_of_a_day_without_a_run_says_what_to_do(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["eval", "2026-01-01", "--out", str(tmp_path)], catch_exceptions=False)
    assert result.exit_code == 1 and "run" in result.output


def test_edit_distance_and_problem_classes() -> None:
    assert edit_distance("kitten", "sitting") == 3 and edit_distance("", "abc") == 3
    assert edit_distance("가나", "가나") == 0
    assert problem_class("숫자의 단위가 초록과 다름: 7.50%") == "unit"
    assert problem_class("초록이 주장하지 않는 '최초' 표현") == "first"
    assert problem_class("something new") == "other"


def test_eval_has_help() -> None:
    result = CliRunner().invoke(app, ["eval", "-h"], catch_exceptions=False)
    assert result.exit_code == 0 and "--compare" in result.output and "--json" in result.output
    assert "<bool>" not in result.output
