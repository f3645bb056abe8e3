"""Issue 12's hardening items that each failed before their fix: lock files that cannot be used, deeply
nested files, signals during a write, a report path that would destroy an input, the date of a source file,
Ctrl-C, and smaller wording fixes. Each asserts one line on stderr and a clean exit code, never a traceback."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from clirun import cli_env
from conftest import SAMPLE
from typer.testing import CliRunner

from agent.cli import app, describe
from agent.errors import LockedError
from agent.layout import Layout
from agent.lock import date_lock

DAY = "2026-02-13"  # the sample's day
DRAFT = f"drafts/{DAY}-hf-daily-papers.md"


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "PAPER_DIGEST_BLOG_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PAPER_DIGEST_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)  # no paper-digest.toml of the repository
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, list(args), catch_exceptions=False)

    return invoke


def one_error_line(result) -> str:
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    return lines[0]


def demo(out: Path, *extra: str, date: str | None = DAY) -> list[str]:
    return ["run", *(["--date", date] if date else []), "--source", str(SAMPLE), "--out", str(out), "--no-llm", *extra]


# -- 7: lock files that cannot be used ------------------------------------------------------------


def test_a_symlink_at_the_lock_path_is_one_line_naming_the_file(tmp_path: Path) -> None:
    layout = Layout(tmp_path / "out")
    day = dt.date(2026, 2, 13)
    lock = layout.lock(day)
    lock.parent.mkdir(parents=True)
    lock.symlink_to(tmp_path / "elsewhere")
    with pytest.raises(LockedError) as exc, date_lock(layout, day, timeout=0.1):
        pass
    message = describe(exc.value)  # the CLI's words
    assert str(lock) in message and "symbolic link" in message and "remove it" in message
    assert "\n" not in message


def test_a_lock_file_of_another_user_is_one_line_naming_the_file(
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The tests run as root, which no file mode stops: stand in for the EACCES a 0644 lock of another user gives.
    from filelock import FileLock

    def denied(self: FileLock, *args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied", str(self.lock_file))

    monkeypatch.setattr(FileLock, "acquire", denied)
    result = cli(*demo(tmp_path / "out"))
    assert result.exit_code == 1
    line = one_error_line(result)
    lock = tmp_path / "out" / "drafts" / f".{DAY}.lock"
    assert str(lock) in line and "another user" in line and "remove it" in line


# -- 8: deeply nested files ---------------------------------------------------------------------------

DEEP_JSON = "[" * 100_000 + "]" * 100_000
DEEP_TOML_VALUE = "[" * 5_000 + "]" * 5_000


def test_a_deeply_nested_snapshot_is_one_line(cli, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert cli(*demo(out)).exit_code == 0
    (out / "drafts" / f"{DAY}-snapshot.json").write_text(DEEP_JSON, encoding="utf-8")
    result = cli("review", DAY, "--out", str(out))
    assert result.exit_code == 1
    assert "snapshot.json" in one_error_line(result)


@pytest.mark.parametrize(
    "text",
    [f'["2602.00001"]\nsummary = {DEEP_TOML_VALUE}\n', '["2602.00001".' + ".".join(["a"] * 5_000) + "]\nx = 1\n"],
    ids=["deep-array", "deep-tables"],
)
def test_a_deeply_nested_review_file_is_one_line(cli, tmp_path: Path, text: str) -> None:
    out = tmp_path / "out"
    assert cli(*demo(out)).exit_code == 0
    (out / "drafts" / f"{DAY}-review.toml").write_text(text, encoding="utf-8")
    result = cli("review", DAY, "--out", str(out))
    assert result.exit_code == 1
    assert "review.toml" in one_error_line(result)


def test_a_deeply_nested_config_is_one_line(cli, tmp_path: Path) -> None:
    config = tmp_path / "deep.toml"
    config.write_text(f"[post]\nauthor = {DEEP_TOML_VALUE}\n", encoding="utf-8")
    result = cli(*demo(tmp_path / "out"), "--config", str(config))
    assert result.exit_code == 2
    assert "deep.toml" in one_error_line(result)


# -- 9: SIGTERM during the write; stale temporary files ------------------------------------------

_STALL_FIRST_REPLACE = textwrap.dedent(
    """
    import os, sys, time
    from pathlib import Path

    import agent.fsutil

    ready, real = Path(sys.argv[1]), os.replace

    def stalled(src, dst):  # every file of the change is staged; hold here until the test signals
        ready.touch()
        time.sleep(60)
        real(src, dst)

    os.replace = stalled
    sys.argv = ["paper-digest", *sys.argv[2:]]
    from agent.cli import main

    main()
    """
)


def test_sigterm_during_the_write_leaves_no_temporary_file_and_the_old_draft(tmp_path: Path) -> None:
    out, ready = tmp_path / "out", tmp_path / "ready"
    env = cli_env(PAPER_DIGEST_CACHE_DIR=str(tmp_path / "cache"))
    first = subprocess.run(
        [sys.executable, "-m", "agent", *demo(out)], cwd=tmp_path, env=env, capture_output=True
    )
    assert first.returncode == 0, first.stderr
    before = {p.name: p.read_bytes() for p in (out / "drafts").iterdir()}
    (out / "drafts" / f"{DAY}-review.toml").write_text("# the editor's note\n", encoding="utf-8")
    before[f"{DAY}-review.toml"] = b"# the editor's note\n"

    proc = subprocess.Popen(
        [sys.executable, "-c", _STALL_FIRST_REPLACE, str(ready), *demo(out)],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not ready.exists():
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the run never reached its write"
            time.sleep(0.01)
        staged = [p.name for p in (out / "drafts").glob(".*.tmp")]
        assert staged  # the files of the change are staged beside their targets
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 128 + signal.SIGTERM, stderr
    assert stderr.strip() == "terminated; nothing written"
    assert {p.name: p.read_bytes() for p in (out / "drafts").iterdir()} == before


def test_the_next_run_sweeps_temporary_files_a_killed_run_left_for_its_date(cli, tmp_path: Path) -> None:
    drafts = tmp_path / "out" / "drafts"
    drafts.mkdir(parents=True)
    stale = [drafts / f".{DAY}-hf-daily-papers.md.k1ll3d.tmp", drafts / f".{DAY}-snapshot.json.x9.tmp"]
    other = drafts / ".2026-02-12-hf-daily-papers.md.abc.tmp"  # another date's: its own run sweeps it
    for p in [*stale, other]:
        p.write_text("half", encoding="utf-8")
    assert cli(*demo(tmp_path / "out")).exit_code == 0
    assert not any(p.exists() for p in stale) and other.exists()


# -- 10: a report path that would destroy an input ---------------------------------------------------


def test_a_report_over_the_source_file_is_refused(cli, tmp_path: Path) -> None:
    source = tmp_path / "day.json"
    source.write_bytes(SAMPLE.read_bytes())
    result = cli("run", "--source", str(source), "--out", str(tmp_path / "out"), "--no-llm", "--report", str(source))
    assert result.exit_code == 2
    assert "source file" in one_error_line(result)
    assert source.read_bytes() == SAMPLE.read_bytes() and not (tmp_path / "out" / "drafts").exists()


@pytest.mark.parametrize("name", [".", "cache.db", "sub/report.json"])
def test_a_report_inside_the_cache_directory_is_refused(cli, tmp_path: Path, name: str) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "cache.db").write_bytes(b"SQLite format 3\x00")
    result = cli(*demo(tmp_path / "out"), "--cache-dir", str(cache), "--report", str(cache / name))
    assert result.exit_code == 2
    assert "LLM cache" in one_error_line(result)
    assert (cache / "cache.db").read_bytes() == b"SQLite format 3\x00"


# -- 14: the date of a source file ---------------------------------------------------------------------


def test_without_date_a_source_file_is_dated_by_its_items(cli, tmp_path: Path) -> None:
    result = cli(*demo(tmp_path / "out", date=None))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / DRAFT).exists()


def test_a_date_the_source_file_contradicts_is_refused_unless_forced(cli, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = cli(*demo(out, date="1999-01-01"))
    assert result.exit_code == 2
    line = one_error_line(result)
    assert "2026-02-13" in line and "1999-01-01" in line and "--force-date" in line
    assert not out.exists()

    forced = cli(*demo(out, "--force-date", date="1999-01-01"))
    assert forced.exit_code == 0, forced.output
    assert (out / "drafts" / "1999-01-01-hf-daily-papers.md").exists()


def test_a_source_file_without_dates_needs_date(cli, tmp_path: Path) -> None:
    items = json.loads(SAMPLE.read_text(encoding="utf-8"))
    for item in items:
        item.pop("publishedAt", None)
        for key in ("publishedAt", "submittedOnDailyAt"):
            item["paper"].pop(key, None)
    source = tmp_path / "undated.json"
    source.write_text(json.dumps(items), encoding="utf-8")
    result = cli("run", "--source", str(source), "--out", str(tmp_path / "out"), "--no-llm")
    assert result.exit_code == 2
    assert "--date" in one_error_line(result)
    assert cli("run", "--source", str(source), "--out", str(tmp_path / "out"), "--no-llm", "--date", DAY).exit_code == 0


def test_the_listed_day_is_the_daily_list_date_not_the_arxiv_date() -> None:
    from agent.clean import listed_day

    items = [
        {"publishedAt": "2026-06-09T10:00:00.000Z", "paper": {"submittedOnDailyAt": "2026-06-12T00:00:00.000Z"}},
        {"publishedAt": "2026-06-10T10:00:00.000Z", "paper": {"submittedOnDailyAt": "2026-06-12T00:00:00.000Z"}},
        {"paper": {"submittedOnDailyAt": "2026-06-11T00:00:00.000Z"}},
    ]
    assert listed_day(items) == (dt.date(2026, 6, 12), "submittedOnDailyAt")
    assert listed_day([{"publishedAt": "2024-05-02T1"}, {"paper": {"publishedAt": "2024-05-03"}}]) == (
        dt.date(2024, 5, 3),
        "publishedAt",
    )
    assert listed_day([{"paper": {"submittedOnDailyAt": None}}, "junk", {"publishedAt": "x"}]) is None


# -- 18: Ctrl-C --------------------------------------------------------------------------------------


@pytest.mark.parametrize("signum, word", [(signal.SIGINT, "interrupted"), (signal.SIGTERM, "terminated")])
def test_ctrl_c_or_sigterm_during_the_llm_requests_says_what_was_kept(
    tmp_path: Path, signum: signal.Signals, word: str
) -> None:
    from fake_openai import ChatRequest, FakeOpenAI, by_title, load_answers

    out = tmp_path / "out"
    asked = itertools.count(1)

    def hold_from_the_third(req: ChatRequest) -> float:
        # Two papers answered at once; the third (and any later one) is held until the fake closes, so the
        # signal always lands with exactly two answers cached and the third in flight, whatever the load.
        return 0.0 if req.is_overview or next(asked) <= 2 else 120.0

    with FakeOpenAI(by_title(load_answers()), latency=hold_from_the_third) as slow:
        env = cli_env(
            OPENAI_API_KEY="sk-test-dummy", OPENAI_BASE_URL=slow.base_url, PAPER_DIGEST_CACHE_DIR=str(tmp_path / "c")
        )
        proc = subprocess.Popen(
            [sys.executable, "-m", "agent", *[a for a in demo(out, "--concurrency", "1") if a != "--no-llm"]],
            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            # Python's own SIGINT handler even when the suite runs with SIGINT ignored (nohup, CI)
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while sum(1 for r in slow.requests if not r.is_overview) < 3:  # two answered, the third in flight
                assert proc.poll() is None, proc.communicate()
                assert time.monotonic() < deadline, "the run never sent its third request"
                time.sleep(0.01)
            proc.send_signal(signum)
            stdout, stderr = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 128 + signum, stderr  # 130 for Ctrl-C, 143 for SIGTERM
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith(f"{word}; ") and lines[0].endswith(" answers cached, nothing written")
    assert int(lines[0].split()[1]) == 2  # the third was still in flight
    assert stdout == "" and not (out / DRAFT).exists()


# -- 19: smaller ----------------------------------------------------------------------------------------


def test_every_item_malformed_is_not_called_a_weekend(cli, tmp_path: Path) -> None:
    source = tmp_path / "junk.json"
    source.write_text(json.dumps([{"paper": "nope"}, 3, {"title": "no paper"}]), encoding="utf-8")
    result = cli("run", "--date", DAY, "--source", str(source), "--out", str(tmp_path / "out"), "--no-llm")
    assert result.exit_code == 1
    last = result.output.strip().splitlines()[-1]  # the warnings about each item come first
    assert last.startswith("error: ") and "malformed" in last and "weekend" not in last


@pytest.mark.parametrize("command", ["stats", "clear"])
def test_cache_commands_on_a_missing_directory_create_nothing(cli, tmp_path: Path, command: str) -> None:
    missing = tmp_path / "nonexistent" / "cache"
    result = cli("cache", command, "--cache-dir", str(missing))
    assert result.exit_code == 0, result.output
    assert not missing.exists() and not missing.parent.exists()
    assert result.output.strip() in (f"{missing}: 0 entries, 0 bytes (no cache yet)", "removed 0 cached answers")
