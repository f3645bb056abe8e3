"""The blog's data file (_data/papers/daily-<date>.json) and the Chirpy front matter, down to what a real
``jekyll build --safe`` makes of the README's Liquid example."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from agent.clean import normalize
from agent.config import PostConfig
from agent.models import Digest, DigestItem, Enrichment, Paper
from agent.render import render_data_file, render_post

DAY = dt.date(2026, 6, 12)
README = Path(__file__).resolve().parent.parent / "README.md"
SUMMARY = "에이전트의 메모리 진화를 추적하는 벤치마크다."
HOSTILE = "Hostile {{ site.title }} <script>alert(1)</script> title"


def digest() -> Digest:
    top = Paper(
        id="2606.13681",
        title="EvoArena: Tracking Memory Evolution",
        abstract="Agents assume static environments.",
        upvotes=118,
        authors=("Alice Kim", "Bob Lee"),
        organization="EvoLab",
        github_repo="https://github.com/evo/arena",
        project_page="https://evo.github.io/arena",
        published_at="2026-06-11T00:00:00.000Z",
        thumbnail="https://cdn-thumbnails.huggingface.co/social-thumbnails/papers/2606.13681.png",
        github_stars=9,
    )
    second = Paper(id="2606.08063", title=HOSTILE, abstract="MLLMs degrade.", upvotes=74, authors=("Chen Li",))
    good = Enrichment("summarized", "llm", SUMMARY, ("에이전트", "LLM"))
    bad = Enrichment("flagged", "llm", "검증에 실패한 답이다.", ("멀티모달",), flag_reason="x")
    items = (DigestItem(1, top, good), DigestItem(2, second, bad))
    overview = "에이전트 관련 논문이 많았습니다."
    return Digest(date=DAY, items=items, total=30, overview=overview, crawled_at="2026-06-12T00:15:03Z")


def test_data_file_keys_order_and_values() -> None:
    text = render_data_file(digest(), PostConfig())
    data = json.loads(text)
    assert list(data) == ["date", "crawled_at", "total_papers", "overview_ko", "papers"]
    assert (data["date"], data["crawled_at"], data["total_papers"]) == ("2026-06-12", "2026-06-12T00:15:03Z", 30)
    assert data["overview_ko"] == "에이전트 관련 논문이 많았습니다."
    first, second = data["papers"]
    assert list(first) == [
        *("title", "url", "published", "likes", "institution", "paper_link", "code_link", "abstract"),
        *("id", "rank", "summary_ko", "tags", "organization", "authors", "thumbnail", "github_stars", "project_page"),
    ]
    assert first["url"] == "https://huggingface.co/papers/2606.13681"
    assert first["paper_link"] == "https://arxiv.org/abs/2606.13681"
    assert (first["likes"], first["institution"], first["rank"], first["github_stars"]) == (118, "EvoLab", 1, 9)
    assert first["summary_ko"] == SUMMARY and first["tags"] == ["에이전트", "LLM"]
    # Optional keys are left out, not null; a summary that failed validation is never published.
    assert "code_link" not in second and "thumbnail" not in second and "github_stars" not in second
    assert second["summary_ko"] is None and second["organization"] is None and second["published"] is None
    assert second["institution"] == "Chen Li" and second["title"] == HOSTILE  # plain text, escaped by the page
    assert "에이전트" in text and "\\u" not in text  # UTF-8, not \u escapes
    assert render_data_file(digest(), PostConfig()) == text  # same input, same bytes


def test_data_file_without_a_recorded_crawl_time_uses_the_post_time() -> None:
    data = json.loads(render_data_file(dataclasses.replace(digest(), crawled_at=None), PostConfig()))
    assert data["crawled_at"] == "2026-06-12T09:15:00+09:00"


def test_clean_carries_thumbnail_and_github_stars() -> None:
    items = [
        {
            "paper": {"id": "2606.00001", "title": "A", "summary": "x", "githubStars": 251},
            "thumbnail": "https://t/1.png",
        },
        {"paper": {"id": "2606.00002", "title": "B", "summary": "x"}, "thumbnail": "javascript:alert(1)"},
    ]
    papers, _ = normalize(items)
    assert [(p.thumbnail, p.github_stars) for p in papers] == [("https://t/1.png", 251), (None, None)]


def front_matter(text: str) -> list[str]:
    return text.split("---\n")[1].splitlines()


def test_chirpy_front_matter_and_its_switch() -> None:
    lines = front_matter(render_post(digest(), PostConfig(), final=True))
    assert lines[-3:] == [
        'image: "https://cdn-thumbnails.huggingface.co/social-thumbnails/papers/2606.13681.png"',
        "pin: false",
        "slug: hf-daily-papers-2026-06-12",
    ]
    plain = front_matter(render_post(digest(), PostConfig(chirpy=()), final=True))
    assert [line.split(":")[0] for line in plain] == ["title", "date", "categories", "tags", "author", "description"]


@pytest.mark.parametrize("thumbnail", ["http://cdn/x.png", "javascript:alert(1)", 'https://x/"a"{{b}}<c>.png'])
def test_image_is_https_only_and_inert(thumbnail: str) -> None:
    d = digest()
    top = dataclasses.replace(d.items[0], paper=dataclasses.replace(d.items[0].paper, thumbnail=thumbnail))
    lines = front_matter(render_post(dataclasses.replace(d, items=(top, d.items[1])), PostConfig()))
    images = [line for line in lines if line.startswith("image:")]
    if thumbnail.startswith("https://"):
        assert images == ['image: "https://x/%22a%22%7B%7Bb%7D%7D%3Cc%3E.png"']
    else:
        assert images == []


def liquid_example() -> str:
    """The README's Liquid block, so the documented example is the one built here."""
    blocks = re.findall(r"```liquid\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)
    assert len(blocks) == 1, "README should show one Liquid example"
    return blocks[0]


def jekyll_build(src: Path, dest: Path) -> None:
    jekyll = shutil.which("jekyll")
    if jekyll is None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("jekyll is not on PATH, but CI must run the Jekyll build tests (apt-get install jekyll)")
        pytest.skip("jekyll is not on PATH (Debian: apt-get install jekyll); CI runs this test")
    env = {**os.environ, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
    result = subprocess.run(
        [jekyll, "build", "--safe", "--source", str(src), "--destination", str(dest)],
        capture_output=True, text=True, timeout=180, env=env, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.jekyll
def test_readme_liquid_example_renders_the_day_under_jekyll(tmp_path: Path) -> None:
    src, dest = tmp_path / "blog", tmp_path / "_site"
    (src / "_data" / "papers").mkdir(parents=True)
    (src / "_config.yml").write_text("title: SITE-TITLE-SECRET\n", encoding="utf-8")
    (src / "_data" / "papers" / "daily-2026-06-12.json").write_text(
        render_data_file(digest(), PostConfig()), encoding="utf-8"
    )
    (src / "papers.html").write_text("---\ntitle: papers\n---\n" + liquid_example(), encoding="utf-8")
    jekyll_build(src, dest)
    html = (dest / "papers.html").read_text(encoding="utf-8")
    assert "2026-06-12 · 2편" in html
    assert "<p>에이전트 관련 논문이 많았습니다.</p>" in html
    assert '<a href="https://huggingface.co/papers/2606.13681">EvoArena: Tracking Memory Evolution</a> 👍 118' in html
    assert "에이전트의 메모리 진화를 추적하는 벤치마크다. <code>에이전트</code> <code>LLM</code>" in html
    # A hostile title is shown as text: Liquid in data is never evaluated, HTML is escaped by the example.
    assert "Hostile {{ site.title }} &lt;script&gt;alert(1)&lt;/script&gt; title" in html
    assert "SITE-TITLE-SECRET" not in html and "<script>" not in html
