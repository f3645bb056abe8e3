"""Build hostile posts with the real ``jekyll build --safe`` and inspect the HTML a reader would get.

The renderer's unit tests check the Markdown text; this checks what Liquid and kramdown actually do
with it, under both of kramdown's input dialects (Jekyll's default GFM, and plain kramdown).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from agent.config import PostConfig
from agent.models import Digest, DigestItem, Enrichment, Paper
from agent.render import post_slug, render_post

pytestmark = pytest.mark.jekyll

SITE_TITLE = "SITE-TITLE-SECRET-7f3a"
LAYOUT = """\
<!DOCTYPE html>
<html><head><title>{{ page.title }}</title><meta name="description" content="{{ page.description }}"></head>
<body><div id="description">{{ page.description }}</div>
<main>{{ content }}</main></body></html>
"""

# Elements the layout and kramdown produce; anything else came from the payload.
EXPECTED_TAGS = {
    *("html", "head", "title", "meta", "body", "div", "main"),  # the layout
    *("h1", "h2", "p", "ol", "ul", "li", "strong", "em", "code", "a"),  # kramdown
}

HOSTILE_TITLES = [
    "Liquid {{ site.title }} output",
    "Liquid {% include x %} tag",
    "Raw {%raw%} and {% endraw %} blocks",
    "Script <script>alert(1)</script> tag",
    "Image <img src=x onerror=alert(1)> tag",
    "Link [x](javascript:alert(1)) and ![i](https://evil.example/x.png) here",
    "Pipes | in | a | title with `backticks` **stars** __under__ _em_ ~~strike~~",
    "Math $$x^2$$ and $y$",
    "NUL\x00 and bidi \u202eevil\u202c text",
    "A\n---\nfence",
    "1. Starts like a list",
    "# Starts like a heading",
]


def hostile_digest(day: dt.date) -> Digest:
    items = []
    for i, title in enumerate(HOSTILE_TITLES, 1):
        paper = Paper(
            id=f"2606.{i:05d}",
            title=title,
            abstract=f"초록 {i}: {HOSTILE_TITLES[-i]} <iframe src=javascript:alert(1)></iframe>",
            upvotes=100 - i,
            organization=f"기관 {i} <b onmouseover=alert(1)>{{{{ site.title }}}}</b>",
            github_repo="javascript:alert(1)" if i == 1 else f"https://github.com/o/r{i}",
            project_page=f"https://example.org/p {i} (x)",
        )
        enrichment = Enrichment(
            status="summarized" if i % 3 else "flagged",
            origin="llm",
            summary=f"한국어 요약 {i}은 {{% include x %}} 와 <script>x</script> 를 그대로 보여 준다.",
            tags=("LLM", "강화학습") if i % 2 else ("평가/벤치마크", "3D"),
            flag_reason="{{ site.title }} <script>alert(2)</script>",
        )
        items.append(DigestItem(rank=i, paper=paper, enrichment=enrichment))
    overview = (
        "LLM(6편) 관련 논문이 많았습니다. {{ site.title }} <script>alert(3)</script> "
        '" onmouseover="alert(4) \\ end'
    )
    return Digest(date=day, items=tuple(items), total=40, overview=overview)


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _jekyll() -> str:
    path = shutil.which("jekyll")
    if path is None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(
                "jekyll is not on PATH, but CI must run the Jekyll build test (apt-get install jekyll)"
            )
        pytest.skip("jekyll is not on PATH (Debian: apt-get install jekyll); CI runs this test")
    return path


@pytest.mark.parametrize("kramdown_input", ["GFM", "kramdown"])
def test_hostile_post_builds_inert(tmp_path: Path, kramdown_input: str) -> None:
    jekyll = _jekyll()
    src, dest = tmp_path / "site", tmp_path / "_site"
    (src / "_layouts").mkdir(parents=True)
    (src / "_posts").mkdir()
    (src / "_config.yml").write_text(
        f"title: {SITE_TITLE}\nmarkdown: kramdown\nkramdown:\n  input: {kramdown_input}\n"
        "future: true\npermalink: /:year/:month/:day/:title/\n"
        'defaults:\n  - scope: {path: ""}\n    values: {layout: post}\n',
        encoding="utf-8",
    )
    (src / "_layouts" / "post.html").write_text(LAYOUT, encoding="utf-8")
    final_day, draft_day = dt.date(2026, 6, 12), dt.date(2026, 6, 11)
    for day, final in ((final_day, True), (draft_day, False)):
        text = render_post(hostile_digest(day), PostConfig(), final=final)
        (src / "_posts" / f"{day.isoformat()}-hf-daily-papers.md").write_bytes(text.encode("utf-8"))

    env = {**os.environ, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
    result = subprocess.run(
        [jekyll, "build", "--safe", "--source", str(src), "--destination", str(dest)],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr

    for day in (final_day, draft_day):
        # The post's slug front matter gives each day its own :title (the file names share one).
        html = (dest / f"{day:%Y/%m/%d}" / post_slug(day) / "index.html").read_text(encoding="utf-8")
        page = _Page()
        page.feed(html)
        text = " ".join("".join(page.text).split())

        # Liquid from the payload stayed text: shown literally, never evaluated.
        assert SITE_TITLE not in html
        assert "Liquid {{ site.title }} output" in text
        assert "Liquid {% include x %} tag" in text
        assert "Raw {%raw%} and {% endraw %} blocks" in text
        # No element or attribute came from the payload: only the layout's and kramdown's markup.
        tag_names = {tag for tag, _ in page.tags}
        assert tag_names <= EXPECTED_TAGS, tag_names
        for tag, attrs in page.tags:
            for name, value in attrs:
                assert not name.startswith("on"), (tag, name)
                assert "javascript:" not in (value or "").lower(), (tag, name, value)
                if tag == "a" and name == "href":
                    assert value is not None and value.startswith("https://")
        # Hostile HTML, Markdown and math are visible as the characters the authors typed.
        assert "Script <script>alert(1)</script> tag" in text
        assert "Image <img src=x onerror=alert(1)> tag" in text
        assert "Link [x](javascript:alert(1)) and ![i](https://evil.example/x.png) here" in text
        assert "Pipes | in | a | title with `backticks` **stars** __under__ _em_ ~~strike~~" in text
        assert "Math $$x^2$$ and $y$" in text
        assert "1. Starts like a list" in text and "# Starts like a heading" in text
        assert "\x00" not in html and "\u202e" not in html
        # Korean intact, every paper present in rank order.
        assert "총 40개의 논문이 수집되었습니다." in text
        assert "LLM(6편) 관련 논문이 많았습니다." in text
        assert "한국어 요약 1은 {% include x %} 와 <script>x</script> 를 그대로 보여 준다." in text
        hf_links = [
            v
            for tag, attrs in page.tags
            if tag == "a"
            for k, v in attrs
            if k == "href" and v and v.startswith("https://huggingface.co/papers/")
        ]
        assert hf_links == [
            f"https://huggingface.co/papers/2606.{i:05d}" for i in range(1, len(HOSTILE_TITLES) + 1)
        ]
        assert len([tag for tag, _ in page.tags if tag == "li"]) >= len(HOSTILE_TITLES)
        # The description (front matter) reaches the theme without braces or markup.
        description = html.split('<div id="description">', 1)[1].split("</div>", 1)[0]
        assert description.startswith("LLM(6편) 관련 논문이 많았습니다.")
        assert "{" not in description and "<" not in description

    draft_text = " ".join("".join(_parsed(dest, draft_day).text).split())
    final_text = " ".join("".join(_parsed(dest, final_day).text).split())
    assert "검토 필요: {{ site.title }} <script>alert(2)</script>" in draft_text
    assert "검토 필요" not in final_text


def _parsed(dest: Path, day: dt.date) -> _Page:
    page = _Page()
    page.feed((dest / f"{day:%Y/%m/%d}" / post_slug(day) / "index.html").read_text(encoding="utf-8"))
    return page
