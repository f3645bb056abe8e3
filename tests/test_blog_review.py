"""`review DATE --format markdown|json` (the pull request's table) and `review DATE --check` (the hand-edited
review file, as GitHub annotations under Actions)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from agent.cli import app

DAY = "2026-06-12"
HOSTILE = "A | B <script>alert(1)</script> [x](javascript:alert(1)) ![i](https://evil/x.png) {{ site.title }}"


def cli(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(app, list(args), env=env, catch_exceptions=False)


@pytest.fixture
def blog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "blog"
    root.mkdir()
    monkeypatch.chdir(root)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    source = tmp_path / "day.json"
    papers = [
        {"paper": {"id": "2606.00001", "title": HOSTILE + "\n  wrapped", "summary": "An LLM agent benchmark.",
                   "upvotes": 9}},
        {"paper": {"id": "2606.00002", "title": "A plain title", "summary": "Diffusion models.", "upvotes": 3}},
    ]  # fmt: skip
    source.write_text(json.dumps(papers), encoding="utf-8")
    (root / "_config.yml").write_text("title: b\n", encoding="utf-8")
    cache = str(tmp_path / "cache")
    result = cli("run", "--date", DAY, "--source", str(source), "--no-llm", "--blog", ".", "--cache-dir", cache)
    assert result.exit_code == 0, result.output
    return root


def test_markdown_table_escapes_payload_text_as_the_post_does(blog: Path) -> None:
    result = cli("review", DAY, "--blog", ".", "--format", "markdown")
    assert result.exit_code == 0, result.output
    rows = [line for line in result.output.splitlines() if line.startswith("| ")]
    assert rows[0] == "| # | 논문 | 상태 | 한 줄 요약 | 태그 | 사유 |"
    assert len(rows) == 4  # header, rule, two papers: nothing in a title adds a row or a cell
    for row in rows:
        assert len(re.findall(r"(?<!\\)\|", row)) == 7, row
    assert "<script" not in result.output
    # Markdown syntax from the payload is backslash-escaped: no link, no image.
    assert not re.search(r"(?<!\\)\]\(javascript", result.output) and not re.search(r"(?<!\\)!\[", result.output)
    assert "{{" not in result.output and "&lt;script&gt;" in result.output and "&#123;&#123;" in result.output
    assert "[A \\| B &lt;script&gt;" in rows[2] and "(https://huggingface.co/papers/2606.00001)" in rows[2]
    assert "⏳ pending" in rows[2] and "Not publishable yet" in result.output


def test_json_rows_are_plain_text(blog: Path) -> None:
    data = json.loads(cli("review", DAY, "--blog", ".", "--format", "json").output)
    first = data["papers"][0]
    assert data["date"] == DAY and first["id"] == "2606.00001" and first["status"] == "pending"
    assert first["title"].startswith(HOSTILE) and first["url"] == "https://huggingface.co/papers/2606.00001"


def test_check_reports_each_problem_at_its_line_as_an_annotation_under_actions(blog: Path) -> None:
    review = Path(".paper-digest") / f"{DAY}-review.toml"
    lines = review.read_text(encoding="utf-8").splitlines()
    status_line = next(n for n, line in enumerate(lines, 1) if line.startswith("status = "))

    plain = cli("review", DAY, "--blog", ".", "--check")
    assert plain.exit_code == 1
    assert f"{review}:{status_line}: 2606.00001: pending, not reviewed yet" in plain.output

    actions = cli("review", DAY, "--blog", ".", "--check", env={"GITHUB_ACTIONS": "true"})
    assert actions.exit_code == 1
    assert f"::error file={review},line={status_line}::2606.00001: pending, not reviewed yet" in actions.output

    # A hand edit that breaks the file: the annotation points at the broken line, nothing is rewritten.
    lines[status_line - 1] = 'status = "aproved"'
    broken = "\n".join(lines) + "\n"
    review.write_text(broken, encoding="utf-8")
    bad = cli("review", DAY, "--blog", ".", "--check", env={"GITHUB_ACTIONS": "true"})
    assert bad.exit_code == 1 and f"::error file={review},line={status_line}::" in bad.output, bad.output
    assert review.read_text(encoding="utf-8") == broken

    # Every paper approved: the check passes.
    review.write_text(broken.replace('status = "aproved"', 'status = "pending"'), encoding="utf-8")
    assert cli("review", DAY, "--blog", ".", "--reject", "2606.00002").exit_code == 0
    assert cli("review", DAY, "--blog", ".", "--edit", "2606.00001", "--summary",
               "LLM 에이전트의 성능을 여러 환경에서 평가하는 새로운 벤치마크를 제안한다.").exit_code == 0  # fmt: skip
    ok = cli("review", DAY, "--blog", ".", "--check", env={"GITHUB_ACTIONS": "true"})
    assert ok.exit_code == 0, ok.output


def test_format_and_check_only_read(blog: Path) -> None:
    assert cli("review", DAY, "--blog", ".", "--format", "html").exit_code == 2
    assert cli("review", DAY, "--blog", ".", "--format", "json", "--approve", "all").exit_code == 2
    assert cli("review", DAY, "--blog", ".", "--check", "--format", "json").exit_code == 2


def test_check_points_at_the_line_of_a_toml_syntax_error_and_of_a_failing_summary(blog: Path) -> None:
    review = Path(".paper-digest") / f"{DAY}-review.toml"
    text = review.read_text(encoding="utf-8")
    lines = text.splitlines()
    title_line = next(n for n, line in enumerate(lines, 1) if line.startswith("title = "))

    lines[title_line - 1] = "title = unquoted words"
    review.write_text("\n".join(lines) + "\n", encoding="utf-8")
    plain = cli("review", DAY, "--blog", ".", "--check")
    assert plain.exit_code == 1 and f"{review}:{title_line}: invalid TOML" in plain.output, plain.output
    actions = cli("review", DAY, "--blog", ".", "--check", env={"GITHUB_ACTIONS": "true"})
    assert f"::error file={review},line={title_line}::invalid TOML" in actions.output, actions.output

    # A hand-edited summary that fails the checks: reported at its `summary =` line, not the table header.
    edited = text.replace('status = "pending"', 'status = "approved"').replace(
        "model_tags = []", 'summary = "요약에 없는 숫자 99를 담은 짧은 문장."\nmodel_tags = []', 1
    )
    review.write_text(edited, encoding="utf-8")
    summary_line = next(n for n, line in enumerate(edited.splitlines(), 1) if line.startswith("summary = "))
    bad = cli("review", DAY, "--blog", ".", "--check")
    assert bad.exit_code == 1
    found = [line for line in bad.output.splitlines() if "2606.00001: summary:" in line]
    assert found and all(line.startswith(f"{review}:{summary_line}: ") for line in found), bad.output


def test_markdown_table_keeps_a_long_summary_on_one_line(blog: Path) -> None:
    long = (
        "LLM 에이전트의 성능을 웹 탐색과 코드 작성 등 여러 환경에서 함께 평가하는 새로운 벤치마크를 제안하고 "
        "약점을 분석한다."
    )
    assert len(long) > 60
    edit = cli("review", DAY, "--blog", ".", "--edit", "2606.00001", "--summary", long)
    assert edit.exit_code == 0, edit.output
    table = cli("review", DAY, "--blog", ".", "--format", "markdown").output
    assert f"| {long} |" in table  # GitHub wraps the cell to the page; no <br> mid-phrase


def _publish_day(blog: Path) -> None:
    assert cli("review", DAY, "--blog", ".", "--reject", "2606.00002").exit_code == 0
    assert cli("review", DAY, "--blog", ".", "--edit", "2606.00001", "--summary",
               "LLM 에이전트의 성능을 여러 환경에서 평가하는 새로운 벤치마크를 제안한다.").exit_code == 0  # fmt: skip
    first = cli("publish", DAY, "--blog", ".")
    assert first.exit_code == 0 and first.output.splitlines() == [
        f"_posts/{DAY}-hf-daily-papers.md (created)",
        f"_data/papers/daily-{DAY}.json (created)",
    ], first.output


def test_publish_after_a_new_fetch_leaves_the_data_file_and_says_so_per_file(blog: Path) -> None:
    _publish_day(blog)
    data_file = Path("_data/papers") / f"daily-{DAY}.json"
    data = json.loads(data_file.read_text(encoding="utf-8"))
    data["crawled_at"] = "2026-06-12T00:00:00Z"  # published from an earlier fetch than the snapshot's now
    data_file.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    before = data_file.read_bytes()

    again = cli("publish", DAY, "--blog", ".")
    assert again.exit_code == 0
    assert again.output.splitlines() == [
        f"_posts/{DAY}-hf-daily-papers.md (unchanged: already published from this review)",
        f"_data/papers/daily-{DAY}.json (unchanged)",
    ]
    assert data_file.read_bytes() == before


def test_a_rerun_of_a_published_day_writes_no_draft_unless_the_post_would_change(
    blog: Path, tmp_path: Path
) -> None:
    _publish_day(blog)
    source, cache = str(tmp_path / "day.json"), str(tmp_path / "cache")
    rerun = cli("run", "--date", DAY, "--source", source, "--no-llm", "--blog", ".", "--cache-dir", cache)
    assert rerun.exit_code == 0
    assert rerun.output.startswith(f"_posts/{DAY}-hf-daily-papers.md (already published; this run leaves it as it")
    assert not (blog / "_drafts" / f"{DAY}-hf-daily-papers.md").exists()

    papers = json.loads((tmp_path / "day.json").read_text(encoding="utf-8"))
    papers.append({"paper": {"id": "2606.00003", "title": "Late", "summary": "Robots.", "upvotes": 1}})
    (tmp_path / "day.json").write_text(json.dumps(papers), encoding="utf-8")
    changed = cli("run", "--date", DAY, "--source", source, "--no-llm", "--blog", ".", "--cache-dir", cache)
    assert changed.exit_code == 0 and (blog / "_drafts" / f"{DAY}-hf-daily-papers.md").exists()
    assert f"note: {DAY} is already published" in changed.output
