"""Bad nights, through the real CLI (a subprocess, as cron runs it) against local servers.

- An LLM server answering 429 (with Retry-After), 500, cut JSON, English, over-long text and timeouts,
  scripted per paper and per attempt (deterministic whatever the scheduling): every paper ends
  summarized with a valid Korean one-liner or flagged for the editor; none is lost; no English or
  over-long text is shown as a valid summary.
- A server capping requests in flight at 4 while the run asks for 8 → every paper completes.
- An HF outage: 503 twice, then the payload → success; a persistent 503 → exit 1, the previous draft
  byte-identical, a one-line error.
"""

from __future__ import annotations

import json
import re
import threading
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from clirun import cli_env, run_cli
from fake_openai import Answer, ChatRequest, FakeOpenAI, Fault, by_title, cut_json, load_answers, paper_answer
from servers import LocalServer, Request, Response

from agent.validate import validate_summary

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples" / "hf_daily_papers_2026-02-13.json"
DATE = "2026-02-13"
DRAFT = f"drafts/{DATE}-hf-daily-papers.md"
ANSWERS = load_answers()
PAPERS = {pid: entry for pid, entry in ANSWERS["paper"].items()}
TITLES = {pid: " ".join(entry["title"].split()) for pid, entry in PAPERS.items()}


# -- helpers ---------------------------------------------------------------------------------------------


def draft_items(text: str) -> list[dict[str, Any]]:
    """The ranked items of a draft: title, summary line (if any), whether it is marked for review."""
    items: list[dict[str, Any]] = []
    for line in text.splitlines():
        head = re.match(r"^(\d+)\. \*\*(.*)\*\* - 👍", line)
        if head:
            items.append({"rank": int(head.group(1)), "title": head.group(2), "summary": None, "review": False})
        elif items and line.startswith("   - ⚠️ **검토 필요**"):
            items[-1]["review"] = True
        elif items and line.startswith("   - 한 줄 요약: "):
            items[-1]["summary"] = line.removeprefix("   - 한 줄 요약: ")
    return items


def write_config(path: Path, **llm: Any) -> Path:
    lines = ["[llm]"] + [f"{k} = {json.dumps(v)}" for k, v in llm.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


class PerPaperScript:
    """Answers by paper and attempt: ``script[pid]`` is the list of answers for that paper's 1st, 2nd, …
    request (retries and repair turns included); its last answer repeats. Thread-safe."""

    def __init__(self, script: dict[str, list[Answer]]) -> None:
        self.by_title = {TITLES[pid]: answers for pid, answers in script.items()}
        self.attempts: dict[str, int] = defaultdict(int)
        self.fallback = by_title(ANSWERS)
        self._lock = threading.Lock()

    def __call__(self, req: ChatRequest) -> Answer:
        title = " ".join((req.paper_title or "").split())
        if req.is_overview or title not in self.by_title:
            return self.fallback(req)
        with self._lock:
            n = self.attempts[title]
            self.attempts[title] += 1
        answers = self.by_title[title]
        return answers[min(n, len(answers) - 1)]


def good(pid: str) -> dict[str, Any]:
    return paper_answer(PAPERS[pid])


# -- the LLM misbehaving -----------------------------------------------------------------------------------

IDS = sorted(PAPERS)
ENGLISH = ANSWERS["bad"]["english"]
OVER_LONG = ANSWERS["bad"]["over_long"]
# Expected to end summarized (a retry or the repair turn fixes them) or flagged (nothing can).
SCRIPT: dict[str, list[Answer]] = {
    IDS[0]: [Fault.rate_limited(), good(IDS[0])],  # 429 + Retry-After → SDK retry
    IDS[1]: [Fault.server_error(), Fault.server_error(502), good(IDS[1])],  # two 5xx → SDK retries
    IDS[2]: [cut_json(good(IDS[2])), good(IDS[2])],  # cut at max_tokens → repair turn
    IDS[3]: [ENGLISH],  # English, again after the repair → flagged
    IDS[4]: [OVER_LONG, good(IDS[4])],  # over-long → repair turn
    IDS[5]: [Fault.timeout(1.5), good(IDS[5])],  # no answer within timeout_s → SDK retry
    IDS[6]: [Fault.server_error()],  # 500 forever → flagged after the retries
    IDS[7]: [OVER_LONG],  # over-long, again after the repair → flagged
    IDS[8]: [good(IDS[8])],
    IDS[9]: [Fault.rate_limited()],  # rate-limited forever → flagged after the retries
}
EXPECT_FLAGGED = {IDS[3], IDS[6], IDS[7], IDS[9]}


def test_faulty_llm_every_paper_is_summarized_or_flagged_none_lost(tmp_path: Path) -> None:
    script = PerPaperScript(SCRIPT)
    config = write_config(tmp_path / "faults.toml", max_retries=2, timeout_s=0.4, concurrency=4)
    with FakeOpenAI(script, retry_after=0.01) as fake:
        env = cli_env(OPENAI_API_KEY="sk-test-dummy", OPENAI_BASE_URL=fake.base_url)
        args = ["run", "--date", DATE, "--source", str(SAMPLE), "--out", str(tmp_path / "out")]
        args += ["--cache-dir", str(tmp_path / "cache"), "--report", str(tmp_path / "r.json")]
        args += ["--config", str(config), "--strict"]
        proc = run_cli(args, env, tmp_path)
        sent = len(fake.requests)

    # --strict: a draft was written, and the flagged papers make it exit 3 for cron to alert.
    assert proc.returncode == 3, proc.stderr
    assert "Traceback" not in proc.stderr
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert report["papers"] == 10
    assert report["summarized"] + report["flagged"] == 10
    assert report["flagged"] == len(EXPECT_FLAGGED)
    assert report["llm_requests"] == sent  # retries and repairs included
    # every scripted fault was actually served (nothing slipped through on a fallback path)
    for pid, answers in SCRIPT.items():
        assert script.attempts[TITLES[pid]] >= len(answers), pid

    items = draft_items((tmp_path / "out" / DRAFT).read_text(encoding="utf-8"))
    assert [it["rank"] for it in items] == list(range(1, 11))  # none lost, none doubled
    by_title_ = {" ".join(it["title"].replace("\\", "").split()): it for it in items}
    for pid, title in TITLES.items():
        item = by_title_[title]
        if pid in EXPECT_FLAGGED:
            assert item["review"], f"{pid} must be marked for review"
            continue
        assert not item["review"], f"{pid} should have been summarized"
        abstract = next(p["paper"] for p in json.loads(SAMPLE.read_text(encoding="utf-8")) if p["paper"]["id"] == pid)
        summary = item["summary"].replace("\\", "")  # Markdown escapes
        assert summary == PAPERS[pid]["summary"].replace("\\", "")
        assert validate_summary(summary, abstract=abstract["title"] + "\n" + abstract["summary"]) == []
    # Nothing English or over-long is shown as a valid summary.
    bad_texts = [json.loads(ENGLISH)["summary"], json.loads(OVER_LONG)["summary"]]
    for item in items:
        if not item["review"] and item["summary"]:
            assert item["summary"].replace("\\", "") not in bad_texts


def test_in_flight_cap_of_4_at_concurrency_8_completes_every_paper(tmp_path: Path) -> None:
    config = write_config(tmp_path / "cap.toml", max_retries=8, timeout_s=10)
    with FakeOpenAI(by_title(ANSWERS), latency=0.03, max_in_flight=4, retry_after=0.02) as fake:
        env = cli_env(OPENAI_API_KEY="sk-test-dummy", OPENAI_BASE_URL=fake.base_url)
        args = ["run", "--date", DATE, "--source", str(SAMPLE), "--out", str(tmp_path / "out")]
        args += ["--cache-dir", str(tmp_path / "cache"), "--report", str(tmp_path / "r.json")]
        args += ["--config", str(config), "--concurrency", "8"]
        proc = run_cli(args, env, tmp_path)
        sent, peak = len(fake.requests), fake.peak_in_flight

    assert proc.returncode == 0, proc.stderr
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert (report["papers"], report["summarized"], report["flagged"]) == (10, 10, 0)
    assert peak <= 4
    assert sent > 11  # some requests were turned away with 429 and retried
    assert report["llm_requests"] == sent
    assert len(draft_items((tmp_path / "out" / DRAFT).read_text(encoding="utf-8"))) == 10


# -- the HF API down ---------------------------------------------------------------------------------------


class FlakyHF:
    """/api/daily_papers: ``failures`` × 503 (``None`` = forever), then the sample day (page 0) and []."""

    def __init__(self, failures: int | None) -> None:
        self.failures = failures
        self.statuses: list[int] = []
        self.payload = SAMPLE.read_bytes()

    def __call__(self, req: Request) -> Response:
        if req.path != "/api/daily_papers":
            return self._log(Response(404, {"error": "not found"}))
        if self.failures is None or self.statuses.count(503) < self.failures:
            # Retry-After: 0 keeps the CLI's backoff out of the test (it would wait 1 s, 2 s, 4 s, … without).
            return self._log(Response(503, "Service Unavailable", {"Retry-After": "0"}))
        page = req.query.get("p", ["0"])[0]
        body = self.payload if page == "0" else b"[]"
        return self._log(Response(200, body, {"Content-Type": "application/json"}))

    def _log(self, resp: Response) -> Response:
        self.statuses.append(resp.status)
        return resp


def files(directory: Path) -> dict[str, bytes]:
    """Every file under ``directory`` (lock files aside) and its bytes."""
    return {
        str(p.relative_to(directory)): p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file() and not p.name.endswith(".lock")
    }


@pytest.fixture
def previous_run(tmp_path: Path) -> dict[str, bytes]:
    """A complete run of the day already on disk (the bundled sample, --no-llm): its draft and state."""
    args = ["run", "--date", DATE, "--source", str(SAMPLE), "--out", str(tmp_path / "out"), "--no-llm"]
    proc = run_cli([*args, "--cache-dir", str(tmp_path / "cache")], cli_env(), tmp_path)
    assert proc.returncode == 0, proc.stderr
    before = files(tmp_path / "out")
    assert DRAFT in before
    return before


def test_hf_503_twice_then_success(tmp_path: Path) -> None:
    hf = FlakyHF(failures=2)
    with LocalServer(hf) as srv:
        args = ["run", "--date", DATE, "--out", str(tmp_path / "out"), "--no-llm"]
        proc = run_cli([*args, "--cache-dir", str(tmp_path / "cache")], cli_env(HF_ENDPOINT=srv.url), tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert hf.statuses == [503, 503, 200, 200]  # two retries, then page 0 and the empty page 1
    assert len(draft_items((tmp_path / "out" / DRAFT).read_text(encoding="utf-8"))) == 10


def test_hf_persistent_503_exits_1_and_keeps_the_previous_draft(tmp_path: Path, previous_run: dict[str, bytes]) -> None:
    hf = FlakyHF(failures=None)
    with LocalServer(hf) as srv:
        args = ["run", "--date", DATE, "--out", str(tmp_path / "out"), "--no-llm"]
        proc = run_cli([*args, "--cache-dir", str(tmp_path / "cache")], cli_env(HF_ENDPOINT=srv.url), tmp_path)
    assert proc.returncode == 1
    assert set(hf.statuses) == {503} and len(hf.statuses) >= 2  # it did retry
    # The previous draft (and everything else the last run left) is byte-identical; no temp file is left.
    assert files(tmp_path / "out") == previous_run
    assert "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "503" in errors[0], proc.stderr
    assert proc.stderr.rstrip("\n").splitlines()[-1] == errors[0]
    assert proc.stdout == ""
