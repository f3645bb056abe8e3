"""Issue 12: a nightly run must end, and say so when the LLM endpoint failed; malformed input flags, never
crashes. In-process runs of the CLI (typer's CliRunner) against tests/fake_openai.py or a closed port, with
deadlines of 0.3 s so every test ends in a few seconds; counts, not stopwatches, carry the assertions.
"""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fake_openai import FakeOpenAI, Fault, by_title, load_answers
from typer.testing import CliRunner, Result

from agent.cli import app
from agent.llm import BREAKER_AFTER

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples" / "hf_daily_papers_2026-02-13.json"
DATE = "2026-02-13"
KEY = "sk-test-dummy"
ANSWERS = load_answers()
OPD = "2602.12125"
OPD_TITLE = " ".join(ANSWERS["paper"][OPD]["title"].split())
CONCURRENCY = 4  # fast.toml's
# Counts, whatever the timing: the breaker opens on the BREAKER_AFTER-th attempt in a row without an answer
# and nothing is sent after that; when it opens, at most the other CONCURRENCY - 1 papers have an attempt in
# flight (each already counted). How many retries slip out before that depends on the scheduler, not on this.
MOST_REQUESTS_BEFORE_THE_BREAKER_OPENS = BREAKER_AFTER + CONCURRENCY - 1


@pytest.fixture
def work(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "PAPER_DIGEST_MODEL", "PAPER_DIGEST_CACHE_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    (tmp_path / "fast.toml").write_text(
        f"[llm]\ntimeout_s = 0.3\nmax_retries = 3\nconcurrency = {CONCURRENCY}\n", "utf-8"
    )
    return tmp_path


@pytest.fixture(autouse=True)
def _quick_sdk_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """The SDK waits 0.5 s, 1 s, 2 s … between retries without a Retry-After; the counts are what matter here."""
    monkeypatch.setattr("openai._base_client.INITIAL_RETRY_DELAY", 0.01)


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run(work: Path, *extra: str) -> Result:
    args = ["run", "--date", DATE, "--source", str(SAMPLE), "--out", str(work / "out"), "--config"]
    args += [str(work / "fast.toml"), "--cache-dir", str(work / "cache"), "--report", str(work / "report.json")]
    return CliRunner().invoke(app, [*args, *extra], catch_exceptions=False)


def report(work: Path) -> dict[str, Any]:
    # json.loads refuses nothing Python wrote, so parse strictly: Infinity/NaN are not JSON.
    def refuse(token: str) -> Any:
        raise ValueError(f"not JSON: {token}")

    data: dict[str, Any] = json.loads((work / "report.json").read_text("utf-8"), parse_constant=refuse)
    return data


def draft(work: Path) -> Path:
    return work / "out" / "drafts" / f"{DATE}-hf-daily-papers.md"


@pytest.fixture
def fake(work: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        yield server


# -- items 2 and 3: an endpoint that is down ends the run quickly, with exit 4 and one line --------------


def test_an_unreachable_endpoint_exits_4_with_one_line_and_the_draft_written(
    work: Path, closed_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{closed_port}/v1")
    result = run(work)
    assert result.exit_code == 4, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1
    assert errors[0].startswith("error: cannot reach the LLM endpoint at 127.0.0.1: ")
    assert errors[0].endswith("; 10 papers left flagged.")
    data = report(work)
    assert (data["papers"], data["summarized"], data["flagged"]) == (10, 0, 10)
    # The breaker opened after 4 refused connections: not 10 papers × 4 attempts.
    assert BREAKER_AFTER <= data["llm_requests"] <= MOST_REQUESTS_BEFORE_THE_BREAKER_OPENS
    assert data["llm_endpoint_error"] == errors[0].removeprefix("error: ")
    assert draft(work).exists()


def test_a_server_that_never_answers_trips_the_breaker(work: Path, fake: FakeOpenAI) -> None:
    fake.answer = lambda req: Fault.timeout(120)
    result = run(work, "--strict")
    assert result.exit_code == 4, result.output  # 4 takes precedence over --strict's 3
    assert "error: cannot reach the LLM endpoint at 127.0.0.1: stopped asking after no answer within 0.3s" in (
        result.stderr
    )
    data = report(work)
    assert data["flagged"] == 10 and data["summarized"] == 0
    # One wave of 4 papers in flight timed out; then nothing more was sent: not 10 papers × 4 attempts.
    assert BREAKER_AFTER <= data["llm_requests"] <= MOST_REQUESTS_BEFORE_THE_BREAKER_OPENS
    # The fake saw no request the report did not count (it may not have read one the client gave up on).
    assert len(fake.requests) <= data["llm_requests"]


def test_answers_that_arrived_stay_cached_when_the_endpoint_then_fails(work: Path, fake: FakeOpenAI) -> None:
    answer = by_title(ANSWERS)
    fake.answer = lambda req: Fault.disconnect() if req.paper_title == OPD_TITLE else answer(req)
    (work / "fast.toml").write_text("[llm]\ntimeout_s = 0.3\nmax_retries = 1\nconcurrency = 1\n", "utf-8")
    result = run(work)
    assert result.exit_code == 4, result.output
    assert result.stderr.strip().endswith("; 1 paper left flagged.")
    assert report(work)["summarized"] == 9

    fake.answer = answer
    again = run(work)
    assert again.exit_code == 0, again.output
    assert report(work)["cache_hits"] == 9 and report(work)["summarized"] == 10


def test_regenerate_during_an_outage_exits_4_and_changes_nothing(
    work: Path, fake: FakeOpenAI, closed_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run(work).exit_code == 0
    review_file = next((work / "out").rglob("*-review.toml"))
    before = review_file.read_bytes()
    monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{closed_port}/v1")
    args = ["review", DATE, "--out", str(work / "out"), "--config", str(work / "fast.toml")]
    result = CliRunner().invoke(app, [*args, "--cache-dir", str(work / "cache"), "--regenerate", OPD])
    assert result.exit_code == 4, result.output
    assert result.stderr.startswith("error: cannot reach the LLM endpoint at 127.0.0.1: ")
    assert f"{OPD} was left as it was" in result.stderr and result.stderr.count("\n") == 1
    assert review_file.read_bytes() == before


# -- item 5: malformed 200 bodies flag the paper; the report stays valid JSON ------------------------------


@pytest.mark.parametrize(
    "body",
    [None, [], "x", {"choices": [{"message": {"content": [{"type": "text", "text": "{}"}]}}]},
     {"choices": [{"message": {"content": 7}}]},
     {"choices": [{"message": {"content": "{}"}}], "usage": {"prompt_tokens": 1e308, "completion_tokens": 1}},
     {"choices": [{"message": {"content": "{}"}}], "usage": "lots"}],
    ids=["null", "array", "string", "content-list", "content-number", "usage-1e308", "usage-string"],
)  # fmt: skip
def test_a_malformed_answer_flags_that_paper_and_the_report_is_json(work: Path, fake: FakeOpenAI, body: Any) -> None:
    answer = by_title(ANSWERS)
    fake.answer = lambda req: Fault.body(body) if req.paper_title == OPD_TITLE else answer(req)
    result = run(work)
    assert result.exit_code == 0, result.output  # a malformed answer is this paper's problem, not an outage
    assert "Traceback" not in result.output
    data = report(work)  # strict JSON: no Infinity
    assert (data["summarized"], data["flagged"]) == (9, 1)
    assert data["cost_usd"] is None or data["cost_usd"] < 1
    text = draft(work).read_text("utf-8")
    assert "malformed answer" in text


# -- item 11: -v never logs credentials in OPENAI_BASE_URL ----------------------------------------------------


def test_verbose_never_logs_credentials_of_the_base_url(
    work: Path, fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    host_port = fake.base_url.removeprefix("http://").removesuffix("/v1")
    monkeypatch.setenv("OPENAI_BASE_URL", f"http://user:PASSWORD@{host_port}/v1?api-key=QUERYSECRET")
    result = run(work, "-v")
    # The query goes to the server (the SDK's business); the log must not show it or the password.
    assert "PASSWORD" not in result.stderr and "QUERYSECRET" not in result.stderr
    assert f"endpoint http://{host_port}/v1, key ***" in result.stderr
    logging.getLogger("paper-digest").handlers.clear()


# -- item 12: a rejected overview is cached; a warm re-run sends nothing ----------------------------------


def test_a_rejected_overview_is_cached_like_a_flagged_paper(work: Path, fake: FakeOpenAI) -> None:
    answer = by_title(ANSWERS)
    fake.answer = lambda req: {"overview": "English overview."} if req.is_overview else answer(req)
    first = run(work)
    assert first.exit_code == 0, first.output
    assert report(work)["llm_requests"] == 11
    assert any("overview rejected" in w for w in report(work)["warnings"])

    sent = len(fake.requests)
    again = run(work)
    assert again.exit_code == 0, again.output
    assert len(fake.requests) == sent and report(work)["llm_requests"] == 0
    assert report(work)["cache_hits"] == 11


