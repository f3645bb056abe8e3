"""The CLI contract: commands and help, exit codes, one-line errors, report keys, nothing overwritten on failure."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import SAMPLE
from typer.testing import CliRunner

from agent.cli import app

REPORT_KEYS = {
    "date", "papers", "summarized", "flagged", "llm_requests", "cache_hits",
    "prompt_tokens", "completion_tokens", "cost_usd", "seconds", "draft",
}  # fmt: skip


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.setenv("PAPER_DIGEST_CACHE_DIR", str(tmp_path / "cache"))
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, list(args), catch_exceptions=False)

    return invoke


def demo_args(out: Path, *extra: str) -> list[str]:
    return ["run", "--date", "2026-02-13", "--source", str(SAMPLE), "--out", str(out), "--no-llm", *extra]


@pytest.mark.parametrize(
    "command", [[], ["run"], ["review"], ["publish"], ["cache"], ["cache", "stats"], ["cache", "clear"]]
)
def test_every_command_has_help(cli, command: list[str]) -> None:
    result = cli(*command, "--help")
    assert result.exit_code == 0
    assert "Usage:" in result.output
    doc = result.output.split("Usage:", 1)[1]
    assert len(doc.strip().splitlines()) > 2


@pytest.mark.parametrize("command", [[], ["run"], ["review"], ["publish"], ["cache", "stats"]])
def test_help_answers_to_dash_h_and_shows_no_type_beside_a_flag(cli, command: list[str]) -> None:
    result = cli(*command, "-h")
    assert result.exit_code == 0 and "Usage:" in result.output
    assert "<bool>" not in result.output  # a flag takes no value


def test_version(cli) -> None:
    from agent import __version__

    result = cli("--version")
    assert result.exit_code == 0 and result.output == f"paper-digest {__version__}\n"


def test_demo_run_writes_the_draft_and_report(cli, tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    result = cli(*demo_args(tmp_path / "out", "--report", str(report)))
    assert result.exit_code == 0, result.output
    draft = tmp_path / "out" / "drafts" / "2026-02-13-hf-daily-papers.md"
    text = draft.read_text(encoding="utf-8")
    assert text.startswith('---\ntitle: "Hugging Face Daily Papers - 2026-02-13"\n')
    assert "총 **10개**의 논문이 수집되었습니다." in text
    assert [int(n) for n in re.findall(r"^(\d+)\. \*\*", text, re.M)] == list(range(1, 11))
    data = json.loads(report.read_text(encoding="utf-8"))
    assert set(data) >= REPORT_KEYS
    assert data["papers"] == 10 and data["summarized"] == 0 and data["flagged"] == 0
    assert data["llm_requests"] == 0 and data["draft"] == str(draft)


def test_same_input_gives_a_byte_identical_draft(cli, tmp_path: Path) -> None:
    cli(*demo_args(tmp_path / "a"))
    cli(*demo_args(tmp_path / "b"))
    a = (tmp_path / "a" / "drafts" / "2026-02-13-hf-daily-papers.md").read_bytes()
    b = (tmp_path / "b" / "drafts" / "2026-02-13-hf-daily-papers.md").read_bytes()
    assert a == b
    assert not a.startswith(b"\xef\xbb\xbf")


def test_no_credentials_without_no_llm_is_a_config_error(cli, tmp_path: Path) -> None:
    result = cli("run", "--date", "2026-02-13", "--source", str(SAMPLE), "--out", str(tmp_path))
    assert result.exit_code == 2
    assert result.output.strip() == (
        "error: no LLM credentials: set OPENAI_API_KEY (and OPENAI_BASE_URL for Ollama/vLLM), or pass --no-llm."
    )
    assert not (tmp_path / "drafts").exists()


def test_malformed_date_is_a_usage_error(cli, tmp_path: Path) -> None:
    result = cli("run", "--date", "2026-13-45", "--out", str(tmp_path), "--no-llm")
    assert result.exit_code == 2
    assert result.output.strip() == "error: --date '2026-13-45' is not a date; use YYYY-MM-DD."


def test_a_day_without_papers_says_so_and_writes_nothing(cli, tmp_path: Path) -> None:
    empty = tmp_path / "empty.json"
    empty.write_text("[]", encoding="utf-8")
    result = cli("run", "--date", "2026-02-14", "--source", str(empty), "--out", str(tmp_path / "out"), "--no-llm")
    assert result.exit_code == 1
    assert result.output.startswith("error: no papers for 2026-02-14 from ")
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "out" / "drafts" / "2026-02-14-hf-daily-papers.md").exists()


@pytest.mark.parametrize(
    "body, fragment",
    [(b"{not json", "JSON"), (b'{"papers": []}', "array"), (b"\xff\xfe garbage", "UTF-8")],
)
def test_a_broken_source_fails_and_leaves_the_previous_draft_untouched(
    cli, tmp_path: Path, body: bytes, fragment: str
) -> None:
    out = tmp_path / "out"
    assert cli(*demo_args(out)).exit_code == 0
    draft = out / "drafts" / "2026-02-13-hf-daily-papers.md"
    before = draft.read_bytes()
    broken = tmp_path / "broken.json"
    broken.write_bytes(body)
    result = cli("run", "--date", "2026-02-13", "--source", str(broken), "--out", str(out), "--no-llm")
    assert result.exit_code == 1
    assert result.output.startswith("error: ") and fragment in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert draft.read_bytes() == before


def test_missing_source_file(cli, tmp_path: Path) -> None:
    result = cli(
        "run", "--date", "2026-02-13", "--source", str(tmp_path / "nope.json"), "--out", str(tmp_path), "--no-llm"
    )
    assert result.exit_code == 1
    assert "nope.json" in result.output


def test_bad_config_file_is_a_config_error(cli, tmp_path: Path) -> None:
    cfg = tmp_path / "pd.toml"
    cfg.write_text("[post]\nauthr = 'x'\n", encoding="utf-8")
    result = cli(*demo_args(tmp_path), "--config", str(cfg))
    assert result.exit_code == 2
    assert "unknown key(s) authr" in result.output


def test_real_payload_renders_thirty_ranked_papers(cli, tmp_path: Path, real_payload_path: Path) -> None:
    out = tmp_path / "out"
    result = cli("run", "--date", "2026-06-12", "--source", str(real_payload_path), "--out", str(out), "--no-llm")
    assert result.exit_code == 0, result.output
    text = (out / "drafts" / "2026-06-12-hf-daily-papers.md").read_text(encoding="utf-8")
    payload = json.loads(real_payload_path.read_text(encoding="utf-8"))
    upvotes = [int(n) for n in re.findall(r"^\d+\. \*\*.*\*\* - 👍 (\d+)$", text, re.M)]
    assert len(upvotes) == 30 and upvotes == sorted(upvotes, reverse=True)
    assert upvotes[0] == max(item["paper"]["upvotes"] for item in payload)
    orgs = {item["paper"]["organization"]["fullname"] for item in payload if item["paper"].get("organization")}
    for org in orgs:
        assert f"   - 기관: {org}" in text or "&" in org or "_" in org
    for marker in ("Ã", "Â", "Ï", "Ê", "‚Ä", "\ufffd"):
        assert marker not in text


def test_cache_stats_and_clear(cli, tmp_path: Path) -> None:
    result = cli("cache", "stats", "--cache-dir", str(tmp_path / "c"))
    assert result.exit_code == 0 and "0 entries" in result.output
    result = cli("cache", "clear", "--cache-dir", str(tmp_path / "c"))
    assert result.exit_code == 0 and "removed 0" in result.output


def test_needs_review_counts_as_flagged_and_blocks_strict(cli, tmp_path: Path) -> None:
    """A paper approved before its abstract changed upstream is back on the editor's desk (needs-review):
    the report's `flagged` and --strict count it, like a flagged answer, because it blocks publish too."""
    out, report = tmp_path / "out", tmp_path / "report.json"
    payload = json.loads(SAMPLE.read_text(encoding="utf-8"))
    pid = payload[0]["paper"]["id"]
    assert cli(*demo_args(out)).exit_code == 0
    assert cli("review", "2026-02-13", "--out", str(out), "--approve", pid).exit_code == 0

    payload[0]["paper"]["summary"] += " We also release the code."
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(payload), encoding="utf-8")
    args = ["run", "--date", "2026-02-13", "--source", str(changed), "--out", str(out), "--no-llm"]
    result = cli(*args, "--report", str(report), "--strict")
    assert result.exit_code == 3
    # Said apart from "flagged", and the hint repeats --out (issue 12 items 19 and 15).
    assert (
        "error: 1 paper(s) need the editor (1 needs-review (approved or edited, but the abstract changed)); "
        f"review them with `paper-digest review 2026-02-13 --out {out}`." in result.output
    )
    assert "flagged;" not in result.output
    assert json.loads(report.read_text(encoding="utf-8"))["flagged"] == 1
    assert json.loads(report.read_text(encoding="utf-8"))["needs_review"] == 1

    assert cli("review", "2026-02-13", "--out", str(out), "--approve", pid).exit_code == 0
    result = cli(*args, "--report", str(report), "--strict")
    assert result.exit_code == 0, result.output
    assert json.loads(report.read_text(encoding="utf-8"))["flagged"] == 0
