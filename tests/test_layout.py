"""Where a date's files live: the outputs layout (--out) and the blog layout (--blog), chosen in one place."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from conftest import SAMPLE
from typer.testing import CliRunner

from agent.cli import app
from agent.config import Config, load_config
from agent.layout import Layout, layout_for

DAY = dt.date(2026, 2, 13)


def test_outputs_layout_keeps_its_paths() -> None:
    lay = Layout(Path("o"))
    assert lay.draft(DAY) == Path("o/drafts/2026-02-13-hf-daily-papers.md")
    assert lay.snapshot(DAY) == Path("o/drafts/2026-02-13-snapshot.json")
    assert lay.review(DAY) == Path("o/drafts/2026-02-13-review.toml")
    assert lay.lock(DAY) == Path("o/drafts/.2026-02-13.lock")
    assert lay.post(DAY) == Path("o/_posts/2026-02-13-hf-daily-papers.md")
    assert lay.data_file(DAY) == Path("o/_data/papers/daily-2026-02-13.json")
    assert lay.gitignore() is None


def test_blog_layout_paths() -> None:
    lay = Layout(Path("b"), blog=True)
    assert lay.draft(DAY) == Path("b/_drafts/2026-02-13-hf-daily-papers.md")
    assert lay.snapshot(DAY) == Path("b/.paper-digest/2026-02-13-snapshot.json")
    assert lay.review(DAY) == Path("b/.paper-digest/2026-02-13-review.toml")
    assert lay.lock(DAY) == Path("b/.paper-digest/.2026-02-13.lock")
    assert lay.post(DAY) == Path("b/_posts/2026-02-13-hf-daily-papers.md")
    assert lay.data_file(DAY) == Path("b/_data/papers/daily-2026-02-13.json")


def test_blog_dir_from_file_env_and_flags(tmp_path: Path) -> None:
    conf = tmp_path / "paper-digest.toml"
    conf.write_text('[blog]\ndir = "site"\n', encoding="utf-8")
    assert layout_for(load_config(conf, env={})) == Layout(Path("site"), blog=True)
    env = {"PAPER_DIGEST_BLOG_DIR": str(tmp_path / "env-site")}
    assert layout_for(load_config(conf, env=env)) == Layout(tmp_path / "env-site", blog=True)
    assert layout_for(Config(out_dir=Path("o"))) == Layout(Path("o"))


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "PAPER_DIGEST_BLOG_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PAPER_DIGEST_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)  # no paper-digest.toml here
    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args), catch_exceptions=False)


def jekyll_site(blog: Path) -> Path:
    blog.mkdir(parents=True)
    (blog / "_config.yml").write_text("title: a blog\n", encoding="utf-8")
    return blog


def test_run_review_publish_in_a_blog(cli, tmp_path: Path) -> None:
    blog = jekyll_site(tmp_path / "blog")
    run = ["run", "--date", str(DAY), "--source", str(SAMPLE), "--no-llm", "--blog", str(blog)]
    result = cli(*run)
    assert result.exit_code == 0, result.output
    lay = Layout(blog, blog=True)
    assert lay.draft(DAY).is_file() and lay.snapshot(DAY).is_file() and lay.review(DAY).is_file()
    assert (blog / ".paper-digest" / ".gitignore").read_text(encoding="utf-8").count(".*.lock") == 1
    assert sorted(p.name for p in blog.iterdir()) == [".paper-digest", "_config.yml", "_drafts"]  # nothing else

    result = cli("review", str(DAY), "--blog", str(blog), "--approve", "all")
    assert result.exit_code == 0, result.output
    result = cli("publish", str(DAY), "--blog", str(blog), "--force")
    assert result.exit_code == 0, result.output
    assert "warning: published with --force: 10 of 10 papers to publish have no summary" in result.output
    assert lay.post(DAY).is_file() and not lay.draft(DAY).exists()  # the draft left _drafts/
    assert cli("review", str(DAY), "--blog", str(blog)).exit_code == 0
    assert not lay.draft(DAY).exists()  # a look at the table does not put it back
    data = json.loads(lay.data_file(DAY).read_text(encoding="utf-8"))
    assert list(data) == ["date", "crawled_at", "total_papers", "overview_ko", "papers"]
    assert data["date"] == str(DAY) and len(data["papers"]) == data["total_papers"] == 10
    assert [p["rank"] for p in data["papers"]] == list(range(1, 11))
    assert list(data["papers"][0])[:6] == ["title", "url", "published", "likes", "institution", "paper_link"]


def test_out_and_blog_together_is_a_usage_error(cli, tmp_path: Path) -> None:
    result = cli("review", str(DAY), "--out", str(tmp_path / "o"), "--blog", str(tmp_path / "b"))
    assert result.exit_code == 2
    assert "give --out or --blog, not both" in result.output


def test_the_llm_cache_never_lives_in_the_blog(cli, tmp_path: Path) -> None:
    blog = jekyll_site(tmp_path / "blog")
    run = ["run", "--date", str(DAY), "--source", str(SAMPLE), "--no-llm", "--blog", str(blog)]
    result = cli(*run, "--cache-dir", str(blog / "cache"))
    assert result.exit_code == 2
    assert "inside the blog" in result.output
    assert [p.name for p in blog.iterdir()] == ["_config.yml"]


@pytest.mark.parametrize("command", ["run", "review", "publish"])
def test_a_blog_folder_without_jekyll_config_is_refused_and_left_alone(cli, tmp_path: Path, command: str) -> None:
    typo = tmp_path / "blgo"
    args = {
        "run": ["run", "--date", str(DAY), "--source", str(SAMPLE), "--no-llm"],
        "review": ["review", str(DAY)],
        "publish": ["publish", str(DAY)],
    }[command]
    result = cli(*args, "--blog", str(typo))
    assert result.exit_code == 2, result.output
    assert result.output == f"error: {typo} is not a Jekyll site (no _config.yml); check --blog.\n"
    assert not typo.exists()
