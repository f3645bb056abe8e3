"""The post renderer: the fixed post format, ranking, draft markers, and escaping of hostile payload text."""

from __future__ import annotations

import datetime as dt
import re

import jinja2
import pytest

from agent.config import PostConfig
from agent.models import Digest, DigestItem, Enrichment, Paper
from agent.rank import rank_papers
from agent.render import (
    Escaped,
    _environment,
    escape_markdown,
    fallback_overview,
    post_tags,
    render_post,
    safe_url,
)

DAY = dt.date(2026, 6, 12)


def summarized(summary: str, *tags: str) -> Enrichment:
    return Enrichment(status="summarized", origin="llm", summary=summary, tags=tags)


def digest_of(
    *pairs: tuple[Paper, Enrichment], total: int | None = None, overview: str | None = None
) -> Digest:
    items = tuple(DigestItem(rank=i, paper=p, enrichment=e) for i, (p, e) in enumerate(pairs, 1))
    return Digest(date=DAY, items=items, total=len(items) if total is None else total, overview=overview)


def small_digest() -> Digest:
    return digest_of(
        (
            Paper(
                id="2606.13681",
                title="EvoArena: Tracking Memory Evolution for Robust LLM Agents",
                abstract="Large language model (LLM) agents\n  assume *static* environments.",
                upvotes=118,
                authors=("Alice Kim", "Bob Lee", "Chris Park"),
                github_repo="https://github.com/evo/arena",
                project_page="https://evo.github.io/arena page",
            ),
            summarized(
                "EvoArena는 변화하는 환경에서 LLM 에이전트의 메모리 진화를 추적하는 벤치마크다.",
                "에이전트",
                "LLM",
                "메모리",
            ),
        ),
        (
            Paper(
                id="2606.13392",
                title="MiniMax Sparse Attention",
                abstract="Ultra-long context for frontier LLMs.",
                upvotes=103,
                organization="MiniMax",
            ),
            Enrichment(status="awaiting", origin="keywords", tags=("효율화", "LLM")),
        ),
        (
            Paper(
                id="2606.08063",
                title="Robust-U1: Can MLLMs Self-Recover?",
                abstract="MLLMs degrade under corruptions.",
                upvotes=74,
            ),
            Enrichment(
                status="flagged",
                origin="llm",
                summary="Robust-U1은 손상된 시각 입력을 스스로 복원한다.",
                tags=("멀티모달",),
                flag_reason="숫자 24%가 초록에 없음",
            ),
        ),
        total=30,
        overview="에이전트(1편) 관련 논문이 많았습니다.",
    )


EXPECTED_DRAFT = """\
---
title: "Hugging Face Daily Papers - 2026-06-12"
date: 2026-06-12 09:15:00 +0900
categories: [Daily Papers, 일간]
tags: [huggingface, papers, daily, ai, LLM, 에이전트, 메모리, 효율화, 멀티모달]
author: lim4349
description: "에이전트(1편) 관련 논문이 많았습니다."
pin: false
slug: hf-daily-papers-2026-06-12
---

# Hugging Face Daily Papers - 2026-06-12

총 **30개**의 논문이 수집되었습니다.

에이전트(1편) 관련 논문이 많았습니다.

## 📊 좋아요 순위

1. **EvoArena: Tracking Memory Evolution for Robust LLM Agents** - 👍 118
   - 한 줄 요약: EvoArena는 변화하는 환경에서 LLM 에이전트의 메모리 진화를 추적하는 벤치마크다.
   - 태그: `에이전트`, `LLM`, `메모리`
   - 기관: Alice Kim 외 2명
   - [HF 페이지](https://huggingface.co/papers/2606.13681) · [논문 링크](https://arxiv.org/abs/2606.13681) · \
[코드](https://github.com/evo/arena) · [프로젝트](https://evo.github.io/arena%20page)
   - Abstract: Large language model (LLM) agents assume \\*static\\* environments.

2. **MiniMax Sparse Attention** - 👍 103
   - 한 줄 요약: *(요약 대기 중 — 편집자 검토 필요)*
   - 태그: `효율화`, `LLM`
   - 기관: MiniMax
   - [HF 페이지](https://huggingface.co/papers/2606.13392) · [논문 링크](https://arxiv.org/abs/2606.13392)
   - Abstract: Ultra-long context for frontier LLMs.

3. **Robust-U1: Can MLLMs Self-Recover?** - 👍 74
   - ⚠️ **검토 필요**: 숫자 24%가 초록에 없음
   - 모델 답 (검증 실패, 게시 안 됨): Robust-U1은 손상된 시각 입력을 스스로 복원한다.
   - 태그: `멀티모달`
   - [HF 페이지](https://huggingface.co/papers/2606.08063) · [논문 링크](https://arxiv.org/abs/2606.08063)
   - Abstract: MLLMs degrade under corruptions.
"""


def test_draft_snapshot() -> None:
    assert render_post(small_digest(), PostConfig()) == EXPECTED_DRAFT


def test_final_has_no_markers_and_only_validated_summaries() -> None:
    final = render_post(small_digest(), PostConfig(), final=True)
    assert "요약 대기 중" not in final and "검토 필요" not in final and "⚠️" not in final
    assert "EvoArena는 변화하는 환경에서" in final
    # The flagged paper's unvalidated summary is not published; the paper itself is.
    assert "Robust-U1은" not in final
    assert "3. **Robust-U1: Can MLLMs Self-Recover?** - 👍 74\n   - 태그: `멀티모달`\n" in final
    assert "2. **MiniMax Sparse Attention** - 👍 103\n   - 태그: `효율화`, `LLM`\n" in final


def test_output_is_deterministic_utf8_with_one_trailing_newline() -> None:
    first = render_post(small_digest(), PostConfig())
    assert first == render_post(small_digest(), PostConfig())
    assert not first.startswith("\ufeff") and "\r" not in first
    assert first.endswith("\n") and not first.endswith("\n\n")


def test_flagged_without_reason_or_summary() -> None:
    paper = Paper(id="1", title="T", abstract="A")
    draft = render_post(digest_of((paper, Enrichment(status="flagged", origin="llm"))), PostConfig())
    assert "   - ⚠️ **검토 필요**: 사유가 기록되지 않았습니다\n" in draft
    assert "한 줄 요약" not in draft


def test_empty_optional_lines_are_omitted() -> None:
    paper = Paper(
        id="2606.00001", title="Only a title", abstract=" \x00\u202e ", upvotes=1, organization="\x00"
    )
    post = render_post(
        digest_of((paper, Enrichment(status="awaiting", origin="keywords"))), PostConfig(), final=True
    )
    item = post.split("## 📊 좋아요 순위\n\n", 1)[1]
    assert item == (
        "1. **Only a title** - 👍 1\n"
        "   - [HF 페이지](https://huggingface.co/papers/2606.00001) · [논문 링크](https://arxiv.org/abs/2606.00001)\n"
    )


# --- front matter ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("timezone", "post_time", "expected"),
    [
        ("Asia/Seoul", "09:15:00", "date: 2026-06-12 09:15:00 +0900"),
        ("UTC", "07:00", "date: 2026-06-12 07:00:00 +0000"),
        ("America/New_York", "09:15:00", "date: 2026-06-12 09:15:00 -0400"),  # DST in June
    ],
)
def test_front_matter_date_uses_the_zone_offset(timezone: str, post_time: str, expected: str) -> None:
    post = render_post(small_digest(), PostConfig(timezone=timezone, post_time=post_time))
    assert expected in post.splitlines()


def test_post_tags_base_then_by_frequency_ties_by_first_appearance() -> None:
    p = [Paper(id=str(i), title="t", abstract="a") for i in range(4)]
    d = digest_of(
        (p[0], summarized("s", "에이전트", "LLM")),
        (p[1], summarized("s", "강화학습", "LLM")),
        (p[2], summarized("s", "강화학습", "AI")),
        (p[3], summarized("s", "3D")),
    )
    assert post_tags(d, ["huggingface", "ai", "huggingface"]) == [
        "huggingface",
        "ai",
        "LLM",
        "강화학습",
        "에이전트",
        "3D",
    ]
    assert 'tags: [huggingface, papers, daily, ai, LLM, 강화학습, 에이전트, "3D"]' in render_post(
        d, PostConfig()
    )


def test_fallback_overview() -> None:
    p = [Paper(id=str(i), title="t", abstract="a") for i in range(4)]
    d = digest_of(
        (p[0], summarized("s", "에이전트", "LLM")),
        (p[1], summarized("s", "강화학습", "LLM")),
        (p[2], summarized("s", "강화학습", "LLM")),
        (p[3], summarized("s", "3D")),
    )
    assert fallback_overview(d) == "LLM(3편), 강화학습(2편), 에이전트(1편) 관련 논문이 많았습니다."
    assert fallback_overview(digest_of()) == "다양한 주제의 논문이 수집되었습니다."
    post = render_post(d, PostConfig())
    assert 'description: "LLM(3편), 강화학습(2편), 에이전트(1편) 관련 논문이 많았습니다."' in post
    assert "\n\nLLM(3편), 강화학습(2편), 에이전트(1편) 관련 논문이 많았습니다.\n\n" in post


# --- ranking ----------------------------------------------------------------------------------------


def test_rank_by_upvotes_then_id_and_top_n() -> None:
    papers = [
        Paper(id="2606.3", title="c", abstract="", upvotes=5),
        Paper(id="2606.1", title="a", abstract="", upvotes=5),
        Paper(id="2606.9", title="z", abstract="", upvotes=118),
        Paper(id="2606.2", title="b", abstract="", upvotes=0),
    ]
    assert [p.id for p in rank_papers(papers)] == ["2606.9", "2606.1", "2606.3", "2606.2"]
    assert [p.id for p in rank_papers(papers, top_n=2)] == ["2606.9", "2606.1"]
    assert [p.id for p in rank_papers(papers, top_n=10)] == ["2606.9", "2606.1", "2606.3", "2606.2"]
    assert rank_papers([]) == []


def test_render_rejects_inconsistent_ranks_or_duplicate_ids() -> None:
    paper = Paper(id="1", title="t", abstract="a")
    e = summarized("s")
    with pytest.raises(ValueError, match="one item per paper id"):
        render_post(Digest(DAY, (DigestItem(1, paper, e), DigestItem(2, paper, e)), total=2), PostConfig())
    with pytest.raises(ValueError, match="ranks"):
        render_post(Digest(DAY, (DigestItem(2, paper, e),), total=1), PostConfig())


def test_items_render_in_rank_order() -> None:
    a, b = Paper(id="a", title="First", abstract=""), Paper(id="b", title="Second", abstract="")
    d = Digest(DAY, (DigestItem(2, b, summarized("s")), DigestItem(1, a, summarized("s"))), total=2)
    post = render_post(d, PostConfig())
    assert post.index("1. **First**") < post.index("2. **Second**")


# --- escaping ---------------------------------------------------------------------------------------

HOSTILE = [
    "{{ site.title }}",
    "{% include x %}",
    "{%raw%}",
    "{%- endraw -%}",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[x](javascript:alert(1))",
    "![img](http://evil/x.png)",
    "a | b | c",
    "`code` **bold** __under__ *em* _em_",
    "$$x$$ and $y$",
    "NUL\x00byte",
    "bidi\u202eoverride\u2066",
    "line\n---\nbreak",
    "1. starts like a list",
    "# starts like a heading",
    "- starts like a bullet",
    "> quote &amp; entity &#123;",
    "~~strike~~ \\backslash\\",
    "{: .ial} {::nomarkdown}",
    "<!-- comment -->",
    "ok\u2028next\r\nline",
]


def hostile_digest(text: str) -> Digest:
    paper = Paper(
        id="2606.00001",
        title=text,
        abstract=f"abstract {text}",
        upvotes=1,
        organization=f"org {text}",
        github_repo="https://github.com/a/b",
    )
    tagged = Enrichment(
        status="flagged",
        origin="llm",
        summary=f"요약 {text}",
        tags=("LLM", text),
        flag_reason=f"reason {text}",
    )
    return digest_of((paper, tagged), overview=f"개요 {text}")


def split_post(post: str) -> tuple[list[str], str]:
    assert post.startswith("---\n")
    front, body = post[4:].split("\n---\n", 1)
    return front.split("\n"), body


@pytest.mark.parametrize("text", HOSTILE)
@pytest.mark.parametrize("final", [False, True])
def test_hostile_text_cannot_inject(text: str, final: bool) -> None:
    post = render_post(hostile_digest(text), PostConfig(), final=final)
    front, body = split_post(post)
    # Front matter: exactly these keys, one line each, no braces or angle brackets from the payload.
    assert [line.split(":", 1)[0] for line in front] == [
        "title",
        "date",
        "categories",
        "tags",
        "author",
        "description",
        "pin",
        "slug",
    ]
    description = front[5]
    assert re.fullmatch(r'description: "(?:[^"\\{}<>]|\\.)*"', description), description
    # Body: nothing Liquid, HTML or a stray front-matter fence can come from.
    for forbidden in ("{", "}", "<", ">", "\x00", "\u202e", "\u2066", "\u2028", "\r"):
        assert forbidden not in body
    assert "---" not in body.splitlines()
    # Every payload-bearing line keeps its template prefix: no value started a block of its own.
    for line in body.splitlines():
        assert line == "" or re.match(r"(# |총 |개요 |## |1\. \*\*|   - )", line), line
    # The only Markdown links are the template's, with http(s) targets.
    for target in re.findall(r"(?<!\\)\]\(([^)]*)\)", body):
        assert target.startswith("https://")
    assert "javascript:" not in "".join(re.findall(r"(?<!\\)\]\(([^)]*)\)", body))
    # Every Markdown control character from the payload is escaped.
    for line in body.splitlines():
        if line.startswith("   - Abstract: "):
            value = re.sub(r"&#\d+;", "", line[len("   - Abstract: ") :])
            assert re.search(r"(?<!\\)[`*_\[\]|#$!]", value) is None, value


def test_escape_markdown_examples() -> None:
    assert escape_markdown("{{ site.title }}") == "&#123;&#123; site.title &#125;&#125;"
    assert escape_markdown("{% include x %}") == "&#123;&#37; include x &#37;&#125;"
    assert escape_markdown("<img src=x onerror=alert(1)>") == "&lt;img src=x onerror=alert(1)&gt;"
    assert escape_markdown("[x](javascript:alert(1))") == "\\[x\\](javascript:alert(1))"
    assert escape_markdown("a|b `c` *d* _e_ #f $$g$$ !h ~~i~~ \\") == (
        "a\\|b \\`c\\` \\*d\\* \\_e\\_ \\#f \\$\\$g\\$\\$ \\!h &#126;&#126;i&#126;&#126; \\\\"
    )
    assert escape_markdown("1. first") == "1\\. first"
    assert escape_markdown("12) first") == "12\\) first"
    assert escape_markdown("- item") == "\\- item"
    assert escape_markdown("+ item") == "\\+ item"
    assert escape_markdown("AT&T 24% 100%}") == "AT&amp;T 24% 100&#37;&#125;"
    assert escape_markdown("a\x00b\u202ec\n\n---\nd") == "abc --- d"
    assert escape_markdown("한국어 👩‍💻 그대로") == "한국어 👩‍💻 그대로"


def test_titles_that_look_like_blocks_stay_inline() -> None:
    for title, shown in [("1. Intro", "1\\. Intro"), ("# Heading", "\\# Heading"), ("---", "\\---")]:
        post = render_post(hostile_digest(title), PostConfig())
        assert f"1. **{shown}** - 👍 1\n" in post


def test_tags_are_code_spans_without_breakout() -> None:
    post = render_post(hostile_digest("a`b{{x}}|<c>$[x](y)_"), PostConfig())
    assert "   - 태그: `LLM`, `abxcxy`\n" in post


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://github.com/a/b", "https://github.com/a/b"),
        ("HTTP://example.com/x?q=1#f", "HTTP://example.com/x?q=1#f"),
        ('https://x.io/a b(c)<d>"e"{f}|g`h', "https://x.io/a%20b%28c%29%3Cd%3E%22e%22%7Bf%7D%7Cg%60h"),
        ("https://x.io/한글", "https://x.io/%ED%95%9C%EA%B8%80"),
        ("https://x.io/%7Bok%7D", "https://x.io/%7Bok%7D"),
        ("javascript:alert(1)", None),
        ("JaVaScRiPt:alert(1)", None),
        (" java\tscript:alert(1)", None),
        ("data:text/html,<script>", None),
        ("//evil.example/x", None),
        ("https://", None),
        ("ftp://x.io/a", None),
        ("", None),
        (None, None),
    ],
)
def test_safe_url(url: str | None, expected: str | None) -> None:
    assert safe_url(url) == expected


def test_hostile_link_fields_are_dropped_or_encoded() -> None:
    paper = Paper(
        id="2606.1) [x](javascript:alert(1)",
        title="t",
        abstract="a",
        github_repo="javascript:alert(1)",
        project_page="https://ok.example/p (x)",
    )
    post = render_post(digest_of((paper, summarized("s"))), PostConfig())
    links = next(line for line in post.splitlines() if line.startswith("   - [HF"))
    assert links == (
        "   - [HF 페이지](https://huggingface.co/papers/2606.1%29%20%5Bx%5D%28javascript:alert%281%29)"
        " · [논문 링크](https://arxiv.org/abs/2606.1%29%20%5Bx%5D%28javascript:alert%281%29)"
        " · [프로젝트](https://ok.example/p%20%28x%29)"
    )


def test_front_matter_strings_are_yaml_safe() -> None:
    post = render_post(
        digest_of(
            (Paper(id="1", title="t", abstract="a"), summarized("s")),
            overview='He said "hi" \\ {{x}} <b>\nnext',
        ),
        PostConfig(author="lim 4349: x", categories=("Daily Papers", "yes", "2026")),
    )
    front, _ = split_post(post)
    assert "description: \"He said 'hi' \\\\ x b next\"" in front
    assert 'author: "lim 4349: x"' in front
    assert 'categories: [Daily Papers, "yes", "2026"]' in front


def test_template_refuses_unescaped_strings() -> None:
    env = _environment()
    with pytest.raises(TypeError, match="unescaped str"):
        env.from_string("{{ value }}").render(value="<b>")
    assert env.from_string("{{ value | md }} {{ n }}").render(value="<b>", n=3) == "&lt;b&gt; 3"
    with pytest.raises(jinja2.UndefinedError):
        env.from_string("{{ missing | md }}").render()
    assert isinstance(escape_markdown("x"), Escaped)


def test_untitled_paper_shows_its_id() -> None:
    post = render_post(
        digest_of((Paper(id="2606.00009", title="\u202e\x00 ", abstract="a"), summarized("s"))), PostConfig()
    )
    assert "1. **arXiv 2606.00009** - 👍 0\n" in post
