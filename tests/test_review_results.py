"""Results and errors with fields (the CLI words them), stale forms, publish blockers, and the editor's
day from issue 12 (items 13, 15, 16, 19): each test here failed before its fix."""

from __future__ import annotations

import signal
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import SAMPLE
from test_review import DAY, EDIT, draft, make_cfg, make_digest, said
from typer.testing import CliRunner

from agent.cli import app, describe
from agent.errors import BrokenFileError, Interrupted, PublishRefused, StaleError
from agent.layout import Layout
from agent.lock import date_lock
from agent.pipeline import record_run
from agent.publish import publish, publish_blockers
from agent.review import approve, edit, open_day, reject
from agent.store import load_review

DELTA = "Delta는 보상을 재설계해 대규모 언어 모델의 수학 추론 정확도를 높이는 방법이다."


@pytest.fixture
def out(tmp_path: Path) -> Path:
    record_run(Layout(tmp_path), make_digest(), make_cfg(tmp_path).post)
    return tmp_path


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "PAPER_DIGEST_BLOG_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PAPER_DIGEST_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args), catch_exceptions=False)


def _demo(cli, out: Path) -> None:
    result = cli("run", "--date", "2026-02-13", "--source", str(SAMPLE), "--no-llm", "--out", str(out))
    assert result.exit_code == 0, result.output


# -- versions and stale forms ---------------------------------------------------------------------------


def test_a_command_on_a_stale_version_writes_nothing(out: Path) -> None:
    cfg, lay = make_cfg(out), Layout(out)
    seen = open_day(lay, DAY).version
    result = approve(lay, DAY, cfg, "2606.00001", expect_version=seen)
    assert result.changed == ("2606.00001",) and result.version == open_day(lay, DAY).version != seen
    before = lay.review(DAY).read_bytes()
    with pytest.raises(StaleError) as exc:
        reject(lay, DAY, cfg, "2606.00002", expect_version=seen)  # a form built before the approval
    assert (exc.value.expected, exc.value.actual) == (seen, result.version)
    assert lay.review(DAY).read_bytes() == before


def test_publish_blockers_say_why_and_clear_when_publishable(out: Path) -> None:
    cfg, lay = make_cfg(out), Layout(out)
    (blocker,) = publish_blockers(lay, DAY, cfg)
    assert blocker.kind == "unreviewed" and dict(blocker.counts) == {"pending": 3, "flagged": 1}
    approve(lay, DAY, cfg, "all")
    result = edit(lay, DAY, cfg, "2606.00004", summary=DELTA)
    assert result.publishable and publish_blockers(lay, DAY, cfg) == []


# -- issue 12 item 13: a hand-typed unknown tag is reported on its entry ----------------------------------


def test_a_hand_typed_unknown_tag_blocks_only_publish_and_force_drops_it(out: Path) -> None:
    cfg, lay = make_cfg(out), Layout(out)
    approve(lay, DAY, cfg, "all")
    edit(lay, DAY, cfg, "2606.00004", summary=DELTA)
    path = lay.review(DAY)
    text = path.read_text(encoding="utf-8")
    head, sep, rest = text.partition('["2606.00002"]\n')
    path.write_text(head + sep + 'tags = ["quantum", "RL"]\n' + rest, encoding="utf-8")

    record_run(lay, make_digest(), cfg.post)  # the nightly run still works
    (blocker,) = publish_blockers(lay, DAY, cfg)
    assert blocker.kind == "failed-checks" and blocker.ids == ("2606.00002",)
    with pytest.raises(PublishRefused, match=r"2606\.00002: tags: tag\(s\) not in the vocabulary: quantum"):
        publish(lay, DAY, cfg)
    post = publish(lay, DAY, cfg, force=True).post.read_text(encoding="utf-8")
    beta = post.split("**Beta", 1)[1].split("\n\n", 1)[0]
    assert "quantum" not in post and "`강화학습`" in beta  # the unknown tag left out, the alias kept

    edit(lay, DAY, cfg, "2606.00002", tags="RL")  # and the --edit --tags fix works
    assert publish_blockers(lay, DAY, cfg) == []


# -- issue 12 item 16: papers without a summary ----------------------------------------------------------


def test_publishing_papers_without_a_summary_needs_force(out: Path) -> None:
    cfg, lay = make_cfg(out), Layout(out)
    approve(lay, DAY, cfg, "all")
    approve(lay, DAY, cfg, "2606.00004")  # flagged without a usable answer: approved as it is
    with pytest.raises(PublishRefused) as exc:
        publish(lay, DAY, cfg)
    assert describe(exc.value) == (
        "2026-06-12: 1 of 4 papers to publish have no summary (2606.00004); write them with "
        "`paper-digest review 2026-06-12 --edit ID --summary TEXT`, reject them, or pass --force to publish "
        "them without."
    )
    assert not lay.post(DAY).exists()
    assert publish(lay, DAY, cfg, force=True).post_change == "created"


def test_a_no_llm_day_approved_wholesale_is_refused_saying_how_many(cli, tmp_path: Path) -> None:
    out = tmp_path / "o"
    _demo(cli, out)
    assert cli("review", "2026-02-13", "--out", str(out), "--approve", "all").exit_code == 0
    result = cli("publish", "2026-02-13", "--out", str(out))
    assert result.exit_code == 1
    assert "10 of 10 papers to publish have no summary" in result.output
    assert cli("publish", "2026-02-13", "--out", str(out), "--force").exit_code == 0


# -- issue 12 item 15: hints repeat the options given ----------------------------------------------------


def test_hints_repeat_out_and_config(cli, tmp_path: Path) -> None:
    out, conf = tmp_path / "my out", tmp_path / "pd.toml"
    conf.write_text("[post]\nauthor = \"me\"\n", encoding="utf-8")
    _demo(cli, out)
    result = cli("review", "2026-02-13", "--out", str(out), "--config", str(conf), "--reject", "2602.12345")
    assert result.exit_code == 1  # no such paper
    result = cli("publish", "2026-02-13", "--out", str(out), "--config", str(conf))
    assert result.exit_code == 1
    assert f"run `paper-digest review 2026-02-13 --out '{out}' --config {conf}` or pass --force." in result.output
    result = cli("review", "2026-02-14", "--out", str(out))
    assert f"run `paper-digest run --date 2026-02-14 --out '{out}'` first." in result.output


def test_approve_all_says_how_to_publish_with_the_blog_given(cli, tmp_path: Path) -> None:
    blog = tmp_path / "blog"
    blog.mkdir()
    (blog / "_config.yml").write_text("title: a blog\n", encoding="utf-8")
    result = cli("run", "--date", "2026-02-13", "--source", str(SAMPLE), "--no-llm", "--blog", str(blog))
    assert result.exit_code == 0
    result = cli("review", "2026-02-13", "--blog", str(blog), "--approve", "all")
    assert f"`paper-digest publish 2026-02-13 --force --blog {blog}`" in result.output


# -- issue 12 item 19 --------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["flagged", "vanished"])
def test_a_hand_set_machine_status_is_reported_on_its_line(out: Path, status: str) -> None:
    path = Layout(out).review(DAY)
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('["2606.00002"]\nstatus = "pending"', f'["2606.00002"]\nstatus = "{status}"'))
    with pytest.raises(BrokenFileError) as exc:
        load_review(Layout(out), DAY)
    assert exc.value.paper == "2606.00002" and exc.value.line is not None
    assert f'status "{status}" is set by paper-digest' in describe(exc.value)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["review", "2026-02-13", "--edit", "x"], "--edit needs --summary TEXT and/or --tags a,b."),
        (["review", "2026/02/13"], "DATE '2026/02/13' is not a date; use YYYY-MM-DD."),
        (["publish", "20260213"], "DATE '20260213' is not a date; use YYYY-MM-DD."),
        (["run", "--date", "20260213", "--no-llm"], "--date '20260213' is not a date; use YYYY-MM-DD."),
    ],
)
def test_usage_errors_exit_2_naming_the_right_argument(cli, args: list[str], message: str) -> None:
    result = cli(*args)
    assert result.exit_code == 2
    assert f"error: {message}" in result.output


def test_typer_keeps_the_review_actions_exclusive(cli) -> None:
    result = cli("review", "2026-02-13", "--approve", "all", "--reject", "x")
    assert result.exit_code == 2
    said = " ".join(result.output.replace("│", " ").split())
    assert "give one of --approve, --reject, --edit, --regenerate at a time" in said


def test_the_run_line_leaves_a_rejected_paper_out(cli, tmp_path: Path) -> None:
    out = tmp_path / "o"
    _demo(cli, out)
    pid = open_day(Layout(out), DAY.replace(month=2, day=13)).digest.items[0].paper.id
    assert cli("review", "2026-02-13", "--out", str(out), "--reject", pid).exit_code == 0
    result = cli("run", "--date", "2026-02-13", "--source", str(SAMPLE), "--no-llm", "--out", str(out))
    assert ": 9 papers, 0 summarized" in result.output


def test_the_table_re_renders_the_draft_after_a_hand_edit(out: Path) -> None:
    path = Layout(out).review(DAY)
    text = path.read_text(encoding="utf-8")
    pending = '["2606.00001"]\nstatus = "pending"'
    edited = text.replace(pending, f'["2606.00001"]\nstatus = "approved"\nsummary = "{EDIT}"')
    path.write_text(edited, encoding="utf-8")
    assert EDIT not in draft(out).read_text(encoding="utf-8")
    result = CliRunner().invoke(app, ["review", str(DAY), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert EDIT in draft(out).read_text(encoding="utf-8")
    assert path.read_text(encoding="utf-8").count(EDIT) == 1  # the review file itself is left as saved


def test_publish_says_replaced_or_unchanged(cli, out: Path) -> None:
    cfg, lay = make_cfg(out), Layout(out)
    approve(lay, DAY, cfg, "all")
    assert said(edit(lay, DAY, cfg, "2606.00004", summary=DELTA)).endswith(
        "publish with `paper-digest publish 2026-06-12`."
    )
    args = ["publish", str(DAY), "--out", str(out)]
    assert cli(*args).output == f"{lay.post(DAY)} (created)\n{lay.data_file(DAY)} (created)\n"
    assert "(unchanged" in cli(*args).output
    lay.post(DAY).write_text("hand edit\n", encoding="utf-8")
    assert "(replaced" in cli(*args).output


def test_regenerate_without_credentials_does_not_suggest_no_llm(cli, tmp_path: Path) -> None:
    out = tmp_path / "o"
    _demo(cli, out)
    pid = open_day(Layout(out), DAY.replace(month=2, day=13)).digest.items[0].paper.id
    result = cli("review", "2026-02-13", "--out", str(out), "--regenerate", pid)
    assert result.exit_code == 2
    assert "error: no LLM credentials: set OPENAI_API_KEY (and OPENAI_BASE_URL for Ollama/vLLM)." in result.output
    assert "--no-llm" not in result.output


@pytest.mark.parametrize("signum, word", [(signal.SIGINT, "interrupted"), (signal.SIGTERM, "terminated")])
def test_an_interrupted_regenerate_says_nothing_was_written(
    cli, out: Path, monkeypatch: pytest.MonkeyPatch, signum: int, word: str
) -> None:
    def stopped(*args: object, **kwargs: object) -> None:  # Ctrl-C (or SIGTERM) while the LLM is asked
        raise KeyboardInterrupt if signum == signal.SIGINT else Interrupted(signum)

    monkeypatch.setattr("agent.review.regenerate", stopped)
    before = Layout(out).review(DAY).read_bytes()
    result = cli("review", str(DAY), "--out", str(out), "--regenerate", "2606.00001")
    assert result.exit_code == 128 + signum
    assert result.output == f"{word}; nothing written\n"
    assert Layout(out).review(DAY).read_bytes() == before


def test_the_table_shows_while_another_process_holds_the_lock(out: Path) -> None:
    with date_lock(Layout(out), DAY):  # a nightly run writing this day
        result = CliRunner().invoke(app, ["review", str(DAY), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "2606.00001" in result.output


def test_the_table_shows_the_hf_keywords_a_paper_came_with(tmp_path: Path) -> None:
    digest = make_digest()
    first = digest.items[0]
    paper = replace(first.paper, ai_keywords=("reward shaping", "math reasoning"))
    digest = replace(digest, items=(replace(first, paper=paper), *digest.items[1:]))
    record_run(Layout(tmp_path), digest, make_cfg(tmp_path).post)
    result = CliRunner().invoke(app, ["review", str(DAY), "--out", str(tmp_path)])
    assert "     HF keywords: reward shaping, math reasoning" in result.output.splitlines()
