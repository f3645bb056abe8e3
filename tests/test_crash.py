"""Crash-resume: SIGKILL a run in the middle of its LLM requests, then run again.

The killed run must leave the draft as it was (the previous complete one, or none) — never half-written —
and every answer it had validated is in the cache: the re-run asks only for the papers that were not
answered, plus the day's overview.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import pytest
from clirun import cli_argv, cli_env
from fake_openai import FakeOpenAI, by_title, load_answers

from agent.cache import AnswerCache

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples" / "hf_daily_papers_2026-02-13.json"
DATE = "2026-02-13"
DRAFT = f"drafts/{DATE}-hf-daily-papers.md"
ANSWERS = load_answers()
ALL_TITLES = {" ".join(e["title"].split()) for e in ANSWERS["paper"].values()}


def files(directory: Path) -> dict[str, bytes]:
    if not directory.exists():
        return {}
    return {
        str(p.relative_to(directory)): p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file() and not p.name.endswith(".lock")
    }


def summary_titles(fake: FakeOpenAI, start: int = 0) -> list[str]:
    return [" ".join((r.paper_title or "").split()) for r in fake.requests[start:] if not r.is_overview]


@pytest.mark.parametrize("previous", [True, False], ids=["previous-draft", "no-draft"])
def test_sigkill_mid_run_keeps_the_draft_whole_and_the_rerun_sends_only_what_is_missing(
    tmp_path: Path, previous: bool
) -> None:
    out, cache = tmp_path / "out", tmp_path / "cache"
    base = ["run", "--date", DATE, "--source", str(SAMPLE), "--out", str(out), "--cache-dir", str(cache)]
    if previous:  # a complete draft of the day is already there (an earlier --no-llm run)
        done = subprocess.run(
            cli_argv([*base, "--no-llm"]), env=cli_env(), cwd=tmp_path, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
    before = files(out)
    assert (DRAFT in before) == previous

    with FakeOpenAI(by_title(ANSWERS), latency=0.3) as slow:
        env = cli_env(OPENAI_API_KEY="sk-test-dummy", OPENAI_BASE_URL=slow.base_url)
        proc = subprocess.Popen(
            cli_argv([*base, "--concurrency", "2"]),
            env=env,
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            # Concurrency 2: the 5th request leaves only after three answers came back and were cached.
            deadline = time.monotonic() + 30
            while len(slow.requests) < 5:
                assert proc.poll() is None, "the run ended before it could be killed"
                assert time.monotonic() < deadline, "the run never reached its 5th request"
                time.sleep(0.005)
            proc.send_signal(signal.SIGKILL)
            assert proc.wait(timeout=10) == -signal.SIGKILL
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        first_run_titles = summary_titles(slow)

    # The draft is exactly what was there before (or still absent), and no temp file was left behind.
    assert files(out) == before
    with AnswerCache(cache) as answers:
        cached = answers.stats()["entries"]
    assert 1 <= cached < 10, cached  # some answers survived the kill, not all
    assert not any(r.is_overview for r in slow.requests)

    with FakeOpenAI(by_title(ANSWERS)) as fake:
        env = cli_env(OPENAI_API_KEY="sk-test-dummy", OPENAI_BASE_URL=fake.base_url)
        report = tmp_path / "r.json"
        rerun = subprocess.run(
            cli_argv([*base, "--report", str(report)]),
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert rerun.returncode == 0, rerun.stderr
        rerun_titles = summary_titles(fake)
        overview_requests = sum(r.is_overview for r in fake.requests)
        sent = len(fake.requests)

    # Only the unanswered papers are asked again (each once), plus the overview.
    assert sent == (10 - cached) + 1
    assert overview_requests == 1
    assert len(set(rerun_titles)) == len(rerun_titles) == 10 - cached
    assert set(rerun_titles) <= ALL_TITLES
    assert ALL_TITLES - set(rerun_titles) <= set(first_run_titles)  # the cached ones were asked before
    result = json.loads(report.read_text(encoding="utf-8"))
    assert (result["papers"], result["summarized"], result["flagged"]) == (10, 10, 0)
    assert result["cache_hits"] == cached
    assert result["llm_requests"] == sent
    assert (out / DRAFT).read_text(encoding="utf-8").count("   - 한 줄 요약: ") == 10
