"""`paper-digest run` end to end against tests/fake_openai.py on 127.0.0.1: exit codes, the report contract,
the draft, the key never shown, and a fully cached run that neither sends a request nor imports the SDK.

Most runs go through typer's CliRunner on ``agent.cli.app`` (in-process, fast); the import check runs the CLI in
a fresh interpreter, where ``sys.modules`` tells the truth.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fake_openai import Answer, ChatRequest, FakeOpenAI, Fault, by_title, load_answers
from typer.testing import CliRunner, Result

from agent.cli import app

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples" / "hf_daily_papers_2026-02-13.json"
DATE = "2026-02-13"
KEY = "sk-test-dummy"
ANSWERS = load_answers()
OPD = "2602.12125"  # the paper the `bad` answers are written for
OPD_TITLE = " ".join(ANSWERS["paper"][OPD]["title"].split())
ENGLISH = json.loads(ANSWERS["bad"]["english"])["summary"]
REPORT_KEYS = {
    "date", "papers", "summarized", "flagged", "llm_requests", "cache_hits",
    "prompt_tokens", "completion_tokens", "cost_usd", "seconds", "draft",
}  # fmt: skip


@pytest.fixture
def work(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A clean environment: no config file, no credentials, a private cache directory."""
    monkeypatch.chdir(tmp_path)
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "PAPER_DIGEST_MODEL", "PAPER_DIGEST_CACHE_DIR"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


@pytest.fixture
def fake(work: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenAI]:
    # OpenAI's list prices do not apply to a server on 127.0.0.1: price the fake's model like a user would.
    (work / "paper-digest.toml").write_text('[llm.prices]\n"gpt-4.1-mini" = { input = 0.5, output = 2.0 }\n')
    with FakeOpenAI() as server:
        monkeypatch.setenv("OPENAI_API_KEY", KEY)
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        yield server


def run(work: Path, *extra: str) -> Result:
    args = ["run", "--date", DATE, "--source", str(SAMPLE), "--out", str(work / "out")]
    args += ["--cache-dir", str(work / "cache"), "--report", str(work / "report.json"), *extra]
    return CliRunner().invoke(app, args, catch_exceptions=False)


def review(work: Path, *args: str) -> Result:
    return CliRunner().invoke(app, ["review", DATE, "--out", str(work / "out"), *args], catch_exceptions=False)


def publish(work: Path, *args: str) -> Result:
    return CliRunner().invoke(app, ["publish", DATE, "--out", str(work / "out"), *args], catch_exceptions=False)


def draft(work: Path) -> Path:
    return work / "out" / "drafts" / f"{DATE}-hf-daily-papers.md"


def report(work: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((work / "report.json").read_text(encoding="utf-8"))
    return data


def english_for_opd(req: ChatRequest) -> Answer:
    if " ".join((req.paper_title or "").split()) == OPD_TITLE and not req.is_overview:
        return ANSWERS["bad"]["english"]
    return by_title(ANSWERS)(req)


# -- the happy path and the report contract -----------------------------------------------------------


def test_a_run_writes_the_draft_and_the_report_and_the_rerun_sends_nothing(fake: FakeOpenAI, work: Path) -> None:
    first = run(work)
    assert first.exit_code == 0, first.output
    data = report(work)
    assert set(data) >= REPORT_KEYS
    assert data["date"] == DATE and data["papers"] == 10 and data["summarized"] == 10 and data["flagged"] == 0
    assert data["llm_requests"] == len(fake.requests) == 11 and data["cache_hits"] == 0
    assert data["prompt_tokens"] > 0 and data["completion_tokens"] > 0 and data["cost_usd"] > 0
    assert data["seconds"] >= 0 and data["draft"] == str(draft(work))
    assert first.stdout.strip() == (
        f"{draft(work)}: 10 papers, 10 summarized, 0 flagged, 11 LLM requests, 0 cache hits, ${data['cost_usd']:.4f}"
    )
    text = draft(work).read_text(encoding="utf-8")
    for entry in ANSWERS["paper"].values():
        summary = entry["summary"].replace("*", r"\*")  # Markdown-escaped by render ("GigaBrain-0.5M\*")
        assert f"   - 한 줄 요약: {summary}\n" in text
    overview = ANSWERS["overview"]["text"]
    assert f'description: "{overview}"' in text and f"\n{overview}\n" in text
    assert "검토 필요" not in text

    second = run(work)
    assert second.exit_code == 0, second.output
    again = report(work)
    assert again["llm_requests"] == 0 and again["cache_hits"] == 11 and again["cost_usd"] == 0
    assert again["summarized"] == 10 and len(fake.requests) == 11
    assert draft(work).read_text(encoding="utf-8") == text


def test_llm_requests_in_the_report_include_the_sdk_retries(fake: FakeOpenAI, work: Path) -> None:
    fake.queue(Fault.rate_limited(retry_after=0.01), Fault.server_error())
    result = run(work)
    assert result.exit_code == 0, result.output
    data = report(work)
    assert data["summarized"] == 10
    assert data["llm_requests"] == len(fake.requests) == 13


def test_concurrency_flag_caps_requests_in_flight(fake: FakeOpenAI, work: Path) -> None:
    fake.latency = 0.05
    result = run(work, "--concurrency", "2")
    assert result.exit_code == 0, result.output
    assert fake.peak_in_flight == 2 and report(work)["summarized"] == 10


# -- flagged papers -----------------------------------------------------------------------------------


def test_strict_with_a_flagged_paper_exits_3_after_writing_the_draft_with_the_marker(
    fake: FakeOpenAI, work: Path
) -> None:
    fake.answer = english_for_opd
    result = run(work, "--strict")
    assert result.exit_code == 3
    assert "1 paper(s) flagged" in result.stderr and f"paper-digest review {DATE}" in result.stderr
    data = report(work)
    assert data["flagged"] == 1 and data["summarized"] == 9
    text = draft(work).read_text(encoding="utf-8")
    item = text.split(f"**{OPD_TITLE}**")[1].split("\n\n")[0]
    assert "⚠️ **검토 필요**: 검증 실패: 한국어 문장이 아님" in item
    # The model's text is shown to the editor beside the reason (the post never prints a flagged one).
    assert f"   - 모델 답 (검증 실패, 게시 안 됨): {ENGLISH}\n" in item
    assert text.count("This paper proposes") == 1

    # Without --strict the same (cached) day is a normal run.
    assert run(work).exit_code == 0


def test_strict_and_flagged_count_the_review_state_after_the_merge(fake: FakeOpenAI, work: Path) -> None:
    fake.answer = english_for_opd
    assert run(work, "--strict").exit_code == 3
    rejected = review(work, "--reject", OPD)
    assert rejected.exit_code == 0, rejected.output

    again = run(work, "--strict")  # the cached answer is still flagged, but the editor has dealt with it
    assert again.exit_code == 0, again.output
    assert report(work)["flagged"] == 0 and ", 0 flagged," in again.stdout


def test_a_flagged_answer_approved_as_it_is_is_refused_at_publish_until_edited(fake: FakeOpenAI, work: Path) -> None:
    fake.answer = english_for_opd
    assert run(work).exit_code == 0
    assert review(work, "--approve", "all").exit_code == 0
    approved = review(work, "--approve", OPD)  # the flagged English answer, approved by id
    assert approved.exit_code == 0 and f"left to fix before publishing (--edit): {OPD}." in approved.stdout
    table = review(work).stdout
    assert f"     요약: {ENGLISH}" in table
    assert f"     ⚠ 게시 불가 (--edit {OPD}): summary: 한국어 문장이 아님" in table

    refused = publish(work)
    assert refused.exit_code == 1 and len(refused.stderr.strip().splitlines()) == 1
    assert refused.stderr.startswith(f"error: {DATE}: 1 paper(s) cannot be published as they are ({OPD}: summary: ")
    assert "한국어 문장이 아님" in refused.stderr and "--edit ID" in refused.stderr
    post = work / "out" / "_posts" / f"{DATE}-hf-daily-papers.md"
    assert not post.exists()

    korean = ANSWERS["paper"][OPD]["summary"]
    assert review(work, "--edit", OPD, "--summary", korean).exit_code == 0
    published = publish(work)
    assert published.exit_code == 0, published.output
    text = post.read_text(encoding="utf-8")
    assert "This paper proposes" not in text and f"   - 한 줄 요약: {korean}\n" in text
    # The LLM overview was written from the nine papers summarized at run time; the post lists ten.
    overview = ANSWERS["overview"]["text"]
    assert overview not in text and "총 **10개**" in text


def test_a_rejection_drops_the_paper_from_the_count_and_the_stale_overview(fake: FakeOpenAI, work: Path) -> None:
    assert run(work).exit_code == 0
    overview = ANSWERS["overview"]["text"]
    assert f'description: "{overview}"' in draft(work).read_text(encoding="utf-8")
    assert review(work, "--reject", OPD).exit_code == 0
    text = draft(work).read_text(encoding="utf-8")
    assert overview not in text and "총 **9개**" in text
    assert review(work, "--approve", "all").exit_code == 0
    assert publish(work).exit_code == 0
    post = (work / "out" / "_posts" / f"{DATE}-hf-daily-papers.md").read_text(encoding="utf-8")
    assert overview not in post and "총 **9개**의 논문이 수집되었습니다." in post
    assert len(re.findall(r"^\d+\. \*\*", post, re.M)) == 9


def test_a_budget_flags_the_rest_and_keeps_the_cost_within_one_request(fake: FakeOpenAI, work: Path) -> None:
    budget = 0.004
    result = run(work, "--budget-usd", str(budget))
    assert result.exit_code == 0, result.output
    data = report(work)
    assert 1 <= data["summarized"] < 10 and data["summarized"] + data["flagged"] == 10
    one_request = data["cost_usd"] / data["llm_requests"]
    assert data["cost_usd"] <= budget + one_request
    assert data["llm_requests"] == len(fake.requests)
    assert draft(work).read_text(encoding="utf-8").count("**검토 필요**: budget") == data["flagged"]


def test_a_budget_too_small_for_one_request_says_so_on_stderr_and_in_the_report(
    fake: FakeOpenAI, work: Path
) -> None:
    result = run(work, "--budget-usd", "0.001")
    assert result.exit_code == 0, result.output
    assert result.stdout.count("10 papers, 0 summarized, 10 flagged, 0 LLM requests") == 1
    assert result.stderr == (
        "warning: the LLM budget of $0.001 (--budget-usd) stopped requests: 10 papers left unasked and flagged; "
        "raise it and run again to ask for them.\n"
    )
    data = report(work)
    assert data["left_by_budget"] == 10 and fake.requests == []
    assert data["warnings"] == [
        "the LLM budget of $0.001 was reached: 10 papers left unasked and flagged; "
        "a run with more budget asks for them."
    ]
    flag = r"budget: \$0.001 예산 소진으로 미요청"  # as the draft escapes it
    assert draft(work).read_text(encoding="utf-8").count(flag) == 10


def test_a_budget_the_model_has_no_price_for_is_not_enforced_and_the_cli_says_so(
    work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeOpenAI() as server:  # on 127.0.0.1, without [llm.prices]: OpenAI's list prices do not apply
        monkeypatch.setenv("OPENAI_API_KEY", KEY)
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        result = run(work, "--budget-usd", "0.001")
    assert result.exit_code == 0, result.output
    warning = "warning: --budget-usd cannot be enforced: no price for model 'gpt-4.1-mini'; add it to [llm.prices].\n"
    assert result.stderr == warning
    data = report(work)
    note = "the budget cannot be enforced: no price for model 'gpt-4.1-mini'; add it to [llm.prices]."
    assert note in data["warnings"]
    assert data["summarized"] == 10 and data["left_by_budget"] == 0


# -- credentials --------------------------------------------------------------------------------------


def test_a_rejected_key_exits_1_with_one_line_and_writes_nothing(work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "sk-proj-THISISTHESECRETVALUE0123456789"
    old = draft(work)
    old.parent.mkdir(parents=True)
    old.write_text("yesterday's draft\n", encoding="utf-8")
    with FakeOpenAI(api_key="sk-the-right-one") as server:
        monkeypatch.setenv("OPENAI_API_KEY", secret)
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        result = run(work, "-v")

    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == ["error: the LLM endpoint rejected the API key (HTTP 401); check OPENAI_API_KEY."]
    assert secret not in result.output and secret[8:] not in result.output  # not even with -v
    assert "sk-…6789" in result.stderr  # -v shows the key masked
    assert old.read_text(encoding="utf-8") == "yesterday's draft\n"  # nothing overwritten
    assert not (work / "report.json").exists()
    assert 1 <= len(server.requests) < 10


# -- outputs that cannot be written --------------------------------------------------------------------


def test_a_draft_path_that_is_a_directory_fails_before_fetching_or_asking(fake: FakeOpenAI, work: Path) -> None:
    draft(work).mkdir(parents=True)
    result = run(work)
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: cannot write {draft(work)}: it is a directory; check --out (nothing was fetched or written).\n"
    )
    assert fake.requests == [] and not (work / "report.json").exists()
    assert sorted(p.name for p in draft(work).parent.iterdir()) == [draft(work).name]


def test_a_report_under_a_regular_file_fails_before_fetching_or_asking(fake: FakeOpenAI, work: Path) -> None:
    (work / "notes.txt").write_text("not a directory\n", encoding="utf-8")
    bad = work / "notes.txt" / "report.json"
    result = run(work, "--report", str(bad))
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: cannot write {bad}: {work / 'notes.txt'} is not a directory; check --report "
        "(nothing was fetched or written).\n"
    )
    assert fake.requests == [] and not draft(work).exists()


@pytest.mark.parametrize(
    ("target", "name"),
    [
        ("{work}/out/drafts/2026-02-13-hf-daily-papers.md", "draft"),
        ("out/drafts/2026-02-13-snapshot.json", "snapshot"),  # relative to the working directory
        ("out/_posts/../drafts/2026-02-13-review.toml", "review file"),
        ("{work}/out/_posts/2026-02-13-hf-daily-papers.md", "post"),
        ("out/drafts/.2026-02-13.lock", "lock file"),
    ],
)
def test_a_report_at_one_of_the_days_own_files_is_refused_before_fetching(
    fake: FakeOpenAI, work: Path, target: str, name: str
) -> None:
    report_path = target.format(work=work)
    result = run(work, "--report", report_path)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: --report {report_path} would overwrite the {name} of {DATE} (")
    assert result.stderr.endswith("); give another path (nothing was fetched or written).\n")
    assert len(result.stderr.splitlines()) == 1
    assert fake.requests == [] and not (work / "out").exists()


def test_a_broken_review_file_fails_before_asking(fake: FakeOpenAI, work: Path) -> None:
    state = work / "out" / "drafts" / f"{DATE}-review.toml"
    state.parent.mkdir(parents=True)
    state.write_text('["2602.12125"]\nstatus = "maybe"\n', encoding="utf-8")
    result = run(work)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {state} line 2: paper 2602.12125: unknown status 'maybe' ")
    assert fake.requests == [] and not draft(work).exists()


def test_a_report_that_fails_at_the_end_takes_the_draft_back(
    fake: FakeOpenAI, work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The report is written with the draft as one change: a report that cannot be written (here: its path
    became a directory during the run) leaves the previous draft, snapshot and review state in place."""
    assert run(work).exit_code == 0
    drafts = draft(work).parent
    before = {p.name: p.read_bytes() for p in drafts.iterdir() if p.is_file()}
    monkeypatch.setattr("agent.pipeline.check_outputs", lambda *args: None)
    (work / "late.json").mkdir()
    shutil.rmtree(work / "cache")
    fake.answer = english_for_opd  # a different answer would change the draft ...
    result = run(work, "--report", str(work / "late.json"))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: cannot write {work / 'late.json'}: ")
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.output
    assert {p.name: p.read_bytes() for p in drafts.iterdir() if p.is_file()} == before  # ... but nothing changed


def test_no_credentials_and_no_no_llm_exits_2_saying_what_to_set(work: Path) -> None:
    result = run(work)
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "error: no LLM credentials: set OPENAI_API_KEY (and OPENAI_BASE_URL for Ollama/vLLM), or pass --no-llm."
    )
    assert not draft(work).exists()


def test_verbose_logs_each_request_with_the_key_masked(fake: FakeOpenAI, work: Path) -> None:
    result = run(work, "-v")
    assert result.exit_code == 0, result.output
    requests = [line for line in result.stderr.splitlines() if "LLM request" in line]
    assert len(requests) == len(fake.requests) == 11
    assert all(line.endswith(f"(model gpt-4.1-mini, endpoint {fake.base_url}, key ***)") for line in requests)
    assert sum("summary of 2602." in line for line in requests) == 10 and "overview of 2026-02-13" in requests[-1]
    # With -v, prompt tokens are counted before every request and shown in its line.
    counted = [int(m.group(1)) for line in requests if (m := re.search(r", (\d+) prompt tokens \(model ", line))]
    assert len(counted) == 11 and all(n > 100 for n in counted)
    assert KEY not in result.output


# -- a fully cached run -------------------------------------------------------------------------------

_CACHED_RUN = """
import json, sys
from agent.cli import app
try:
    app(sys.argv[1:], standalone_mode=False)
finally:
    print(json.dumps({m: m in sys.modules for m in ("openai", "langchain_core", "httpx2", "tiktoken", "httpx")}))
"""


def modules_after_run(work: Path, *extra: str) -> dict[str, bool]:
    """Run the CLI on the sample day in a fresh interpreter; which heavy modules did it import?"""
    args = ["run", "--date", DATE, "--source", str(SAMPLE), "--out", str(work / "out")]
    args += ["--cache-dir", str(work / "cache"), *extra]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run(
        [sys.executable, "-c", _CACHED_RUN, *args], cwd=work, env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_a_fully_cached_run_sends_nothing_and_imports_neither_openai_nor_langchain(
    fake: FakeOpenAI, work: Path
) -> None:
    assert run(work).exit_code == 0
    sent = len(fake.requests)
    modules = modules_after_run(work, "--report", str(work / "cached.json"))
    assert modules == {"openai": False, "langchain_core": False, "httpx2": False, "tiktoken": False, "httpx": False}
    data = json.loads((work / "cached.json").read_text(encoding="utf-8"))
    assert data["llm_requests"] == 0 and data["cache_hits"] == 11 and data["summarized"] == 10
    assert len(fake.requests) == sent


def test_an_uncached_run_without_budget_or_verbose_does_not_load_tiktoken(fake: FakeOpenAI, work: Path) -> None:
    """Loading o200k costs ~0.5 s and ~80 MB; nothing uses the count without a budget or -v."""
    modules = modules_after_run(work)
    assert modules == {"openai": True, "langchain_core": True, "httpx2": True, "tiktoken": False, "httpx": False}
    assert len(fake.requests) == 11


def test_an_interrupted_cli_run_resumes(fake: FakeOpenAI, work: Path) -> None:
    """The fake stops answering after 4 papers (the run flags the rest); the next run asks only for those."""
    served = 0
    lock = threading.Lock()
    normal = by_title(ANSWERS)

    def flaky(req: ChatRequest) -> Answer:
        nonlocal served
        with lock:
            served += 1
            if served > 4:
                return Fault.bad_request("fake: the server went away")  # not retried by the SDK
        return normal(req)

    fake.answer = flaky
    assert run(work, "--concurrency", "1").exit_code == 0
    assert report(work)["summarized"] == 4 and report(work)["flagged"] == 6
    assert len(fake.requests) == 11  # 4 answers, 6 refusals, and the overview's refusal

    fake.answer = normal
    assert run(work, "--concurrency", "1").exit_code == 0
    data = report(work)
    assert data["summarized"] == 10 and data["cache_hits"] == 4
    assert data["llm_requests"] == len(fake.requests) - 11 == 6 + 1


def test_the_sdk_is_preloaded_for_a_days_first_api_run_only(
    fake: FakeOpenAI, work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The background import overlaps the HF fetch of a day's first run; a re-run (answered from the cache)
    must not load the SDK it will not use."""
    from servers import LocalServer, Request, Response

    items = json.loads(SAMPLE.read_text(encoding="utf-8"))

    def hf(req: Request) -> Response:
        return Response(body=items if req.query.get("p", ["0"]) == ["0"] else [])

    calls: list[int] = []
    monkeypatch.setattr("agent.pipeline.preload", lambda: calls.append(1))
    args = ["run", "--date", DATE, "--out", str(work / "out"), "--cache-dir", str(work / "cache")]
    with LocalServer(hf) as srv:
        monkeypatch.setenv("HF_ENDPOINT", srv.url)
        first = CliRunner().invoke(app, args, catch_exceptions=False)
        assert first.exit_code == 0, first.output
        assert calls == [1]
        again = CliRunner().invoke(app, args, catch_exceptions=False)
    assert again.exit_code == 0, again.output
    assert "0 LLM requests" in again.output
    assert calls == [1]  # not preloaded for the re-run
