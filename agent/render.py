"""Assemble the Jekyll/Chirpy post (``templates/post.md.j2``) from a Digest.

Payload text (titles, abstracts, organisations, summaries, tags, flag reasons, the overview) is
untrusted: it reaches the page only as a *value* passed through one of the escape functions below --
``escape_markdown`` (body text), ``code_span`` (tags), ``yaml_string`` and friends (front matter),
``safe_url`` (links). The template's ``finalize`` hook refuses any other string, so a template edit
that forgets to escape fails loudly instead of publishing raw text.

Why entities and not backslashes for ``{ }``: Jekyll runs Liquid over the page *before* kramdown, and
Liquid ignores Markdown escapes, so ``\\{{`` would still execute. ``&#123;`` is not Liquid syntax and
kramdown turns it back into ``{`` in the HTML.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

import jinja2

from agent.clean import clean_text as _clean_text
from agent.config import PostConfig
from agent.models import Digest, DigestItem

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
TITLE_PREFIX = "Hugging Face Daily Papers - "


# Entities where a backslash would not do: Liquid ({ }), HTML (< > &), and ~ which plain kramdown
# cannot backslash-escape (GFM strikethrough needs it escaped).
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "{": "&#123;", "}": "&#125;", "~": "&#126;"}
# Markdown/kramdown syntax characters, escaped with a backslash (kramdown and GFM both honour these).
_BACKSLASHED = set("\\`*_[]|#$!")
_LEADING_BLOCK = re.compile(r"^(?:[-+=]|\d+(?=[.)]))")

# Printable ASCII that may stay as-is in a Markdown link destination; everything else is %-encoded
# (space ( ) < > " { } | ` \ ^ [ ] and non-ASCII). "%" stays so existing escapes are kept.
_URL_SAFE = "!#$%&'*+,-./:;=?@~_"

_CODE_UNSAFE = re.compile(r"[^\w ./+-]|_")
_YAML_PLAIN = re.compile(r"^[^\W\d_][\w ./+-]*$")
_YAML_RESERVED = {"y", "n", "yes", "no", "true", "false", "on", "off", "null"}




class Escaped(str):
    """Text already made safe for its place in the post; the only strings the template may output."""


def _line(text: object) -> str:
    """agent.clean.clean_text over a template value; str() first, so StrictUndefined raises instead of
    rendering as nothing."""
    return _clean_text(text if isinstance(text, str) else str(text))


# One pass over the text: entity characters, "%" beside a brace ("{%" and "%}" are Liquid's tag
# delimiters), and the backslash-escaped Markdown characters.
_MARKDOWN_SPECIAL = re.compile(
    "[" + re.escape("".join(_ENTITIES) + "".join(sorted(_BACKSLASHED))) + "]|(?<=\\{)%|%(?=\\})"
)


def _escape_char(m: re.Match[str]) -> str:
    ch = m.group()
    if ch in _ENTITIES:
        return _ENTITIES[ch]
    if ch == "%":
        return "&#37;"
    return "\\" + ch


def escape_markdown(text: str) -> Escaped:
    """Inline text for the post body that renders literally under kramdown (GFM or not) and Liquid
    (Jekyll 3.9 and 4.x): no Liquid tags, HTML, links, emphasis, math, tables or block markers."""
    escaped = _MARKDOWN_SPECIAL.sub(_escape_char, _line(text))
    # Values never start a line in the template, but a "1. " or "- " title stays inert if one ever does.
    m = _LEADING_BLOCK.match(escaped)
    if m:
        end = m.end()
        escaped = escaped[:end] + "\\" + escaped[end:] if m.group().isdigit() else "\\" + escaped
    return Escaped(escaped)


def code_span(text: str) -> Escaped:
    """A Markdown code span for a tag. Escapes do not work inside one (Liquid still does, and a
    backtick ends it), so only the characters a vocabulary name may hold are kept: letters, digits,
    spaces and ``. / + -``."""
    text = " ".join(_CODE_UNSAFE.sub("", _line(text)).split())
    return Escaped(f"`{text}`") if text else Escaped("")


def yaml_string(text: str) -> Escaped:
    """A double-quoted YAML scalar on one line; braces and angle brackets dropped for themes that print
    front-matter values into HTML or Liquid unfiltered."""
    text = "".join(ch for ch in _line(text) if ch not in "{}<>")
    return Escaped('"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"')


def description_string(text: str) -> Escaped:
    """The front-matter description: also without double quotes, because themes print it into HTML
    attributes (``content="{{ page.description }}"``), some without escaping it."""
    return yaml_string(text.replace('"', "'"))


def yaml_scalar(text: str) -> Escaped:
    """A YAML flow-sequence item or value: plain when it is unambiguously a word, quoted otherwise."""
    cleaned = _line(text)
    if _YAML_PLAIN.match(cleaned) and cleaned.lower() not in _YAML_RESERVED:
        return Escaped(cleaned)
    return yaml_string(cleaned)


def yaml_list(values: Iterable[str]) -> Escaped:
    items = [yaml_scalar(v) for v in values if _line(v)]
    return Escaped("[" + ", ".join(items) + "]")


def safe_url(url: str | None) -> Escaped | None:
    """An http(s) URL fit for a Markdown link destination, or None when it is anything else.

    Unlike agent.clean.safe_http_url, which *rejects* malformed payload URLs, this *encodes* whatever
    http(s) URL it is handed (built links included, e.g. from a paper id), so no character of it can
    end the link or reach Liquid."""
    if not url:
        return None
    url = _line(url)
    if not re.match(r"(?i)https?://", url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return Escaped(quote(url, safe=_URL_SAFE))


def _tag_counts(digest: Digest) -> list[tuple[str, int]]:
    """The day's tags, most frequent first, ties by first appearance in rank order."""
    counts: Counter[str] = Counter()
    first_seen: dict[str, int] = {}
    for item in digest.items:
        for tag in dict.fromkeys(item.enrichment.tags):
            counts[tag] += 1
            first_seen.setdefault(tag, len(first_seen))
    return sorted(counts.items(), key=lambda kv: (-kv[1], first_seen[kv[0]]))


def post_tags(digest: Digest, base_tags: Sequence[str]) -> list[str]:
    """Front-matter tags: the base tags, then the day's canonical tags by frequency, deduplicated."""
    tags: list[str] = []
    seen: set[str] = set()
    for tag in [*base_tags, *(name for name, _ in _tag_counts(digest))]:
        key = _line(tag).casefold()
        if key and key not in seen:
            seen.add(key)
            tags.append(tag)
    return tags


def fallback_overview(digest: Digest) -> str:
    """A deterministic 합니다체 overview built from the day's tags, for runs without an LLM overview."""
    top = _tag_counts(digest)[:3]
    if not top:
        return "다양한 주제의 논문이 수집되었습니다."
    themes = ", ".join(f"{name}({count}편)" for name, count in top)
    return f"{themes} 관련 논문이 많았습니다."


@dataclass(frozen=True, slots=True)
class _Row:
    """What the template shows for one paper; strings are raw here and escaped by the template."""

    rank: int
    upvotes: int
    title: str
    review_note: str | None  # draft only: why the editor must look at this paper
    awaiting: bool  # draft only: show the "summary pending" marker
    summary: str | None
    tags: tuple[str, ...]
    affiliation: str
    links: tuple[tuple[Escaped, Escaped], ...]
    abstract: str
    summary_label: Escaped = Escaped("한 줄 요약")


def _row(item: DigestItem, final: bool) -> _Row:
    paper, e = item.paper, item.enrichment
    if final:
        # Only validated summaries are published; a forced publish shows the paper without one.
        summary = e.summary if e.status == "summarized" else None
    else:
        summary = e.summary if e.status in ("summarized", "flagged") else None
    review_note = None
    if e.status == "flagged" and not final:
        review_note = e.flag_reason or "사유가 기록되지 않았습니다"
    links = [
        (Escaped("HF 페이지"), safe_url(paper.hf_url)),
        (Escaped("논문 링크"), safe_url(paper.arxiv_url)),
        (Escaped("코드"), safe_url(paper.github_repo)),
        (Escaped("프로젝트"), safe_url(paper.project_page)),
    ]
    return _Row(
        rank=item.rank,
        upvotes=paper.upvotes,
        title=paper.title if _line(paper.title) else f"arXiv {paper.id}",
        review_note=review_note,
        awaiting=e.status == "awaiting" and not final,
        summary=summary if summary and _line(summary) else None,
        tags=tuple(t for t in e.tags if code_span(t)),
        affiliation=paper.affiliation if _line(paper.affiliation) else "",
        links=tuple((label, url) for label, url in links if url is not None),
        abstract=paper.abstract if _line(paper.abstract) else "",
        # A flagged answer is shown to the editor for fixing, labelled so nobody reads it as the summary.
        summary_label=Escaped("모델 답 (검증 실패, 게시 안 됨)" if e.status == "flagged" else "한 줄 요약"),
    )


def _finalize(value: Any) -> Any:
    if isinstance(value, Escaped) or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise TypeError(f"template tried to output an unescaped {type(value).__name__}: {value!r:.60}")


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # Markdown, not HTML: escaping is done deliberately by the filters below
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_finalize,
    )
    env.filters.update(
        md=escape_markdown,
        code=lambda tags: Escaped(", ".join(c for c in map(code_span, tags) if c)),
        yaml_string=yaml_string,
        description=description_string,
        yaml_scalar=yaml_scalar,
        yaml_list=yaml_list,
    )
    return env


def _post_time(day: dt.date, post: PostConfig) -> dt.datetime:
    hour, minute, second = ([int(p) for p in post.post_time.split(":")] + [0])[:3]
    return dt.datetime.combine(day, dt.time(hour, minute, second), tzinfo=ZoneInfo(post.timezone))


def _front_matter_date(day: dt.date, post: PostConfig) -> Escaped:
    return Escaped(_post_time(day, post).strftime("%Y-%m-%d %H:%M:%S %z"))


def _check_items(items: Sequence[DigestItem]) -> None:
    ids = [it.paper.id for it in items]
    if len(set(ids)) != len(ids):
        raise ValueError("a digest must hold one item per paper id")
    if [it.rank for it in items] != list(range(1, len(items) + 1)):
        raise ValueError("digest ranks must run 1..N")


# What each name in ``[post] chirpy`` adds to the front matter. All three are plain keys other themes ignore.
CHIRPY_EXTRAS = {
    "image": "image: the top paper's HF thumbnail (Chirpy's home list and social cards; jekyll-seo-tag's og:image)",
    "pin": "pin: false (Chirpy's pinned posts; an editor may flip it in the post)",
    "slug": "slug: hf-daily-papers-<date>: Chirpy's `permalink: /posts/:title/` takes :title from the file name, "
    "which is the same every day; the slug gives each day its own URL",
}


def post_slug(day: dt.date) -> str:
    return f"hf-daily-papers-{day.isoformat()}"


def top_thumbnail(items: Sequence[DigestItem]) -> Escaped | None:
    """The first https thumbnail in rank order (the top paper's, unless it has none)."""
    for item in items:
        url = safe_url(item.paper.thumbnail)
        if url is not None and url.lower().startswith("https://"):
            return url
    return None


def _extras(day: dt.date, items: Sequence[DigestItem], post: PostConfig) -> list[tuple[Escaped, Escaped]]:
    extras: list[tuple[Escaped, Escaped]] = []
    if "image" in post.chirpy and (image := top_thumbnail(items)) is not None:
        extras.append((Escaped("image"), yaml_string(image)))
    if "pin" in post.chirpy:
        extras.append((Escaped("pin"), Escaped("false")))
    if "slug" in post.chirpy:
        extras.append((Escaped("slug"), Escaped(post_slug(day))))
    return extras


def render_post(digest: Digest, post: PostConfig, *, final: bool = False) -> str:
    """The post's Markdown. A draft (``final=False``) marks papers awaiting a summary or flagged for
    review; the final post has no markers. Same input, same bytes."""
    items = sorted(digest.items, key=lambda it: it.rank)
    _check_items(items)
    overview = digest.overview if digest.overview and _line(digest.overview) else None
    title = TITLE_PREFIX + digest.date.isoformat()
    text = (
        _environment()
        .get_template("post.md.j2")
        .render(
            title=title,
            date=_front_matter_date(digest.date, post),
            categories=post.categories,
            tags=post_tags(digest, post.base_tags),
            author=post.author,
            overview=overview or fallback_overview(digest),
            total=digest.total,
            extras=_extras(digest.date, items, post),
            rows=[_row(it, final) for it in items],
        )
    )
    return text.replace("\r\n", "\n").rstrip("\n") + "\n"


def _text_or_none(value: str | None) -> str | None:
    return None if value is None else (_line(value) or None)


def _data_paper(item: DigestItem) -> dict[str, Any]:
    paper, e = item.paper, item.enrichment
    summary = e.summary if e.status == "summarized" else None  # as the post: only validated summaries
    entry: dict[str, Any] = {
        "title": _line(paper.title) or f"arXiv {paper.id}",
        "url": str(safe_url(paper.hf_url)),
        "published": _text_or_none(paper.published_at),
        "likes": paper.upvotes,
        "institution": _line(paper.affiliation),
        "paper_link": str(safe_url(paper.arxiv_url)),
    }
    if (code := safe_url(paper.github_repo)) is not None:
        entry["code_link"] = str(code)
    entry.update(
        abstract=_line(paper.abstract),
        id=paper.id,
        rank=item.rank,
        summary_ko=_text_or_none(summary),
        tags=[t for t in map(_line, e.tags) if t],
        organization=_text_or_none(paper.organization),
        authors=[a for a in map(_line, paper.authors) if a],
    )
    if (thumbnail := safe_url(paper.thumbnail)) is not None:
        entry["thumbnail"] = str(thumbnail)
    if paper.github_stars is not None:
        entry["github_stars"] = paper.github_stars
    if (project := safe_url(paper.project_page)) is not None:
        entry["project_page"] = str(project)
    return entry


def render_data_file(digest: Digest, post: PostConfig) -> str:
    """``_data/papers/daily-<date>.json`` for the digest ``render_post(..., final=True)`` publishes: the seed
    blog's keys first (date, crawled_at, total_papers, papers[] with title, url, published, likes,
    institution, paper_link, code_link, abstract), then the enrichment, in that fixed order; optional keys
    (code_link, thumbnail, github_stars, project_page) only when the paper has them. Text is plain (cleaned,
    never escaped): a page must print it with Liquid's ``escape`` filter. Same input, same bytes.

    ``crawled_at`` is when the run fetched the papers; a snapshot from before it was recorded gives the
    post's own date and time instead."""
    items = sorted(digest.items, key=lambda it: it.rank)
    _check_items(items)
    overview = digest.overview if digest.overview and _line(digest.overview) else None
    crawled_at = digest.crawled_at or _post_time(digest.date, post).isoformat()
    data = {
        "date": digest.date.isoformat(),
        "crawled_at": crawled_at,
        "total_papers": digest.total,
        "overview_ko": _line(overview or fallback_overview(digest)),
        "papers": [_data_paper(it) for it in items],
    }
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
