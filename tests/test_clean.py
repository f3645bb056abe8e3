"""Normalisation: text cleaning, LaTeX, URLs, schema drift, dedupe, the real payload and the sample day."""

from __future__ import annotations

import functools
import importlib.util
import json
import time
import unicodedata
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from conftest import ROOT, SAMPLE, SHARED

from agent import clean
from agent.clean import clean_text, latex_to_text, normalize, safe_http_url
from agent.cli import describe
from agent.errors import SourceError
from agent.models import Paper

SEED = SHARED / "seeds" / "legacy_post_2026-02-13.md"
MOJIBAKE = ("Ã", "Â", "Ï", "Ê", "‚Ä", "\uf8ff")


def is_plain(s: str) -> bool:
    """One line, trimmed, single spaces, no control/format/surrogate characters."""
    return s == s.strip() and "  " not in s and not any(unicodedata.category(ch) in ("Cc", "Cf", "Cs") for ch in s)


def item(**paper: Any) -> dict[str, Any]:
    return {"paper": {"id": "2602.00001", "title": "A title", "summary": "An abstract.", **paper}}


def one(raw: dict[str, Any]) -> Paper:
    papers, warnings = normalize([raw])
    assert warnings == []
    assert len(papers) == 1
    return papers[0]


# --- clean_text --------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [None, 0, 3.5, b"bytes", ["a"], {"a": 1}, ""])
def test_clean_text_non_strings_are_empty(value: object) -> None:
    assert clean_text(value) == ""


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("a\x00b", "ab"),  # NUL
        ("a\x1b[31mb", "a[31mb"),  # ESC (C0): terminal escapes lose their teeth
        ("a\x7fb\x9bc", "abc"),  # DEL and C1 CSI
        ("safe\u202egnp.exe", "safegnp.exe"),  # RIGHT-TO-LEFT OVERRIDE
        ("\u202aa\u202bb\u202cc\u202dd", "abcd"),  # embeddings, pop, LRO
        ("\u2066a\u2067b\u2068c\u2069", "abc"),  # isolates
        ("\u200ere\u200fl", "rel"),  # LRM / RLM
        ("zero\u200bwidth\u2060join\ue000", "zerowidthjoin"),
        ("family 👨\u200d👩\u200d👧 stays joined", "family 👨\u200d👩\u200d👧 stays joined"),
        ("\ufeffBOM", "BOM"),
        ("tag\U000e0041\U000e0042s", "tags"),  # Unicode tag characters (hidden prompt text)
        ("lone\ud800surrogate", "lonesurrogate"),
        ("cafe\u0301", "café"),  # NFC
        ("Long title with an arXiv\n  wrap", "Long title with an arXiv wrap"),
        ("  tabs\tand\r\nCRLF\u00a0nbsp\u2028line\u3000ideographic  ", "tabs and CRLF nbsp line ideographic"),
        ("\x85next line", "next line"),  # NEL is whitespace, not dropped
        ("한국어 ✓ emoji 👍", "한국어 ✓ emoji 👍"),
    ],
)
def test_clean_text(raw: str, expected: str) -> None:
    assert clean_text(raw) == expected


def test_clean_text_keeps_hostile_characters_as_plain_text() -> None:
    hostile = (
        "{{ site.github }} {% include x.html %}\n---\nlayout: evil\n<script>alert(1)</script> "
        '<img src=x onerror="alert(1)"> [click](javascript:alert(1)) | a | `code` **bold** \x00\u202e'
    )
    out = clean_text(hostile)
    assert is_plain(out)
    # Escaping is the renderer's job: every printable character survives.
    for fragment in (
        "{{ site.github }}",
        "{% include x.html %}",
        "--- layout: evil",
        "<script>",
        "onerror=",
        "`code`",
    ):
        assert fragment in out


# --- latex_to_text -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (r"\textit{GigaBrain} \emph{is} \textbf{very} \texttt{fast}", "GigaBrain is very fast"),
        (r"\textit{\textbf{nested}} and \unknownmacro{kept}", "nested and kept"),
        (r"see \href{https://x.io/p}{our page}", "see our page (https://x.io/p)"),
        (r"code: \url{https://github.com/a/b}", "code: https://github.com/a/b"),
        (r"improves by $16\%$ and 30\% more", "improves by 16% and 30% more"),
        (r"R\&D \_under \#1", "R&D _under #1"),
        (r"$\times$ $\alpha$ $\beta$ $\sim$ $\leq$ $\geq$ $\approx$ $\rightarrow$", "× α β ~ ≤ ≥ ≈ →"),
        (r"$x^2$ and $O(n)$ and $O(n \log n)$", "x^2 and O(n) and O(n log n)"),
        (
            r"$x^{10}$, $x_{t+1}$, $\mathbb{R}^d$, $\frac{1}{2}$, $\sqrt{d_k}$",
            "x^10, x_(t+1), ℝ^d, 1/2, √(d_k)",
        ),
        (r"$\mathcal{O}(n^2)$ $\text{Acc}@1$ $p<0.05$ $\{a,b\}$", "O(n^2) Acc@1 p<0.05 {a,b}"),
        (r"GigaBrain-0.5M$^*$ at $90^\circ$, a $2\times$ speedup", "GigaBrain-0.5M* at 90°, a 2× speedup"),
        (r"2\times faster", "2× faster"),
        (r"(R = 0.96, \r{ho} = 0.98)", "(R = 0.96, ρ = 0.98)"),  # arXiv's mangled \rho
        (r"Schr\"odinger, \'{e}cole, gar\c{c}on", "Schrödinger, école, garçon"),
        ("``dreaming'' in code", '"dreaming" in code'),
        (r"costs $5 and $10 a day", "costs $5 and $10 a day"),  # money, not math
        (r"a literal \$ sign", "a literal $ sign"),
        ("no latex at all: {{ x }} <b>", "no latex at all: {{ x }} <b>"),
    ],
)
def test_latex_to_text(raw: str, expected: str) -> None:
    assert latex_to_text(raw) == expected


def test_latex_to_text_survives_deep_nesting() -> None:
    raw = "\\textbf{" * 200 + "x" + "}" * 200
    assert latex_to_text(raw).endswith("x" + "}" * 150)  # bounded work, no crash


# --- safe_http_url -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://github.com/SAP/toolsense", "https://github.com/SAP/toolsense"),
        (" http://example.org/x?a=1#b \n", "http://example.org/x?a=1#b"),
        ("https://github.com/SAP/toolsense.", "https://github.com/SAP/toolsense"),
        ("https://x.io/a,", "https://x.io/a"),
        ("https://x.io/a;", "https://x.io/a"),
        ("https://x.io/a).", "https://x.io/a"),
        ("https://en.wikipedia.org/wiki/Foo_(bar)", "https://en.wikipedia.org/wiki/Foo_(bar)"),
        ("HTTPS://EXAMPLE.ORG", "HTTPS://EXAMPLE.ORG"),
    ],
)
def test_safe_http_url_accepts(raw: str, expected: str) -> None:
    assert safe_http_url(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        None,
        42,
        "",
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)//https://x.io",
        "data:text/html,<script>alert(1)</script>",
        "ftp://example.org/file",
        "//example.org/x",
        "github.com/a/b",
        "https://",
        "https:///path-only",
        "https://exa mple.org",
        'https://x.io/"onerror="alert(1)',
        "https://x.io/'",
        "https://x.io/<script>",
        "https://x.io/{{ site.x }}",
        "https://x.io/a\x00b",
        "https://x.io/\u202eexe.txt",
        "https://x.io/\u200b",
        "https://user:pass@x.io/",
        "https://good.com@evil.com/",
        "https://x.io:99999/",
    ],
)
def test_safe_http_url_refuses(raw: object) -> None:
    assert safe_http_url(raw) is None


# --- normalize: fields -------------------------------------------------------------------------


def test_full_item_maps_every_field() -> None:
    raw = {
        "paper": {
            "id": " 2606.13681 ",
            "title": "EvoArena:\n  Tracking $\\alpha$-Memory",
            "summary": "We study agents.\nCode at https://github.com/Aiden0526/EvoArena.",
            "upvotes": 118,
            "authors": [{"name": "Ada Lovelace", "hidden": False}, {"name": " Alan\nTuring "}],
            "organization": {"name": "mit", "fullname": "Massachusetts Institute of Technology"},
            "githubRepo": "https://github.com/Aiden0526/EvoArena",
            "projectPage": "https://aiden0526.github.io/EvoArena/",
            "publishedAt": "2026-06-11T00:00:00.000Z",
            "ai_keywords": ["LLM agents", " memory ", "", "LLM agents", None],
        },
        "title": "ignored when paper.title exists",
        "summary": "ignored when paper.summary exists",
        "organization": {"name": "other", "fullname": "Other"},
    }
    p = one(raw)
    assert p == Paper(
        id="2606.13681",
        title="EvoArena: Tracking α-Memory",
        abstract="We study agents. Code at https://github.com/Aiden0526/EvoArena .",
        upvotes=118,
        authors=("Ada Lovelace", "Alan Turing"),
        organization="Massachusetts Institute of Technology",
        github_repo="https://github.com/Aiden0526/EvoArena",
        project_page="https://aiden0526.github.io/EvoArena/",
        published_at="2026-06-11T00:00:00.000Z",
        ai_keywords=("LLM agents", "memory"),
    )


def test_2024_era_item() -> None:
    # No top-level summary/organization, no ai_* or github*, titles with arXiv wraps.
    raw = {
        "paper": {
            "id": "2403.09611",
            "authors": [{"_id": "x", "name": "Brandon McKinzie", "hidden": False}],
            "publishedAt": "2024-03-14T17:51:32.000Z",
            "title": "MM1: Methods, Analysis & Insights from Multimodal LLM\n  Pre-training",
            "summary": "We discuss building performant Multimodal Large Language\nModels (MLLMs).",
            "upvotes": 122,
        },
        "publishedAt": "2024-03-15T00:00:00.000Z",
        "title": "MM1: Methods, Analysis & Insights from Multimodal LLM\n  Pre-training",
        "thumbnail": "https://cdn-thumbnails.huggingface.co/social-thumbnails/papers/2403.09611.png",
        "numComments": 3,
    }
    p = one(raw)
    assert p.title == "MM1: Methods, Analysis & Insights from Multimodal LLM Pre-training"
    assert p.abstract == "We discuss building performant Multimodal Large Language Models (MLLMs)."
    assert (p.organization, p.github_repo, p.project_page, p.ai_keywords) == (None, None, None, ())
    assert p.authors == ("Brandon McKinzie",)


def test_falls_back_to_top_level_title_summary_and_organization() -> None:
    raw = {
        "paper": {"id": "2602.00001", "title": None, "summary": "  ", "organization": None},
        "title": "Top title",
        "summary": "Top summary.",
        "organization": {"name": "acme", "fullname": "Acme Research"},
        "publishedAt": "2026-02-13T00:00:00.000Z",
    }
    p = one(raw)
    assert (p.title, p.abstract, p.organization) == ("Top title", "Top summary.", "Acme Research")
    assert p.published_at == "2026-02-13T00:00:00.000Z"


def test_organization_name_when_no_fullname() -> None:
    assert one(item(organization={"name": "acme"})).organization == "acme"
    assert one(item(organization={"name": "acme", "fullname": None})).organization == "acme"
    assert one(item(organization={"fullname": " \u202eAcme\x00 "})).organization == "Acme"


def test_bare_paper_object_without_wrapper() -> None:
    p = one({"id": "2602.00002", "title": "Flat", "summary": "Flat abstract."})
    assert (p.id, p.title, p.abstract) == ("2602.00002", "Flat", "Flat abstract.")


@pytest.mark.parametrize(
    ("value", "expected"),
    [(7, 7), ("12", 12), (" 5 ", 5), (3.9, 3), ("4.0", 4), (None, 0), ("many", 0), (True, 0), (-3, 0),
     (float("nan"), 0), (float("inf"), 0), ([1], 0), ({}, 0)],
)  # fmt: skip
def test_upvotes_survive_any_type(value: object, expected: int) -> None:
    assert one(item(upvotes=value)).upvotes == expected


def test_upvotes_missing_is_zero() -> None:
    assert one(item()).upvotes == 0


@pytest.mark.parametrize(
    "fields",
    [
        {"authors": None, "organization": None, "githubRepo": None, "projectPage": None,
         "publishedAt": None, "ai_keywords": None, "summary": None},
        {"authors": "Ada", "organization": "Acme", "githubRepo": 5, "projectPage": ["x"],
         "publishedAt": 20260213, "ai_keywords": "llm", "summary": 42},
        {"authors": [None, 3, {"name": None}, {"name": ["x"]}, {}, {"name": "  "}],
         "organization": {"fullname": 3, "name": None}, "ai_keywords": [1, None, {"k": "v"}]},
    ],
)  # fmt: skip
def test_optional_fields_null_or_wrong_type_never_crash(fields: dict[str, Any]) -> None:
    p = one(item(**fields))
    assert (p.id, p.title) == ("2602.00001", "A title")
    assert p.authors == ()
    assert (p.organization, p.github_repo, p.project_page, p.published_at) == (None, None, None, None)
    assert p.ai_keywords == ()


def test_authors_accept_plain_strings_and_drop_empties() -> None:
    assert one(item(authors=["Ada", {"name": "Alan"}, "", {"name": "\u200b"}])).authors == ("Ada", "Alan")


def test_unsafe_links_become_none() -> None:
    p = one(item(githubRepo="javascript:alert(1)", projectPage='https://x.io/"onmouseover="x'))
    assert (p.github_repo, p.project_page) == (None, None)


def test_hostile_item_comes_out_plain() -> None:
    raw = item(
        title="Evil\u202e title\x00 {{ site.x }}\n---\n<script>alert(1)</script>",
        summary="{% include evil %} <img src=x onerror=alert(1)> [x](javascript:alert(1)) | `a` *b*\n---\n",
        authors=[{"name": "Mallory\u2066 {{ x }}"}],
        organization={"fullname": "Evil | Corp <b>"},
        ai_keywords=["{{ kw }}"],
    )
    p = one(raw)
    for text in (p.title, p.abstract, *p.authors, p.organization or "", *p.ai_keywords):
        assert is_plain(text)
    assert p.title == "Evil title {{ site.x }} --- <script>alert(1)</script>"
    assert p.abstract == "{% include evil %} <img src=x onerror=alert(1)> [x](javascript:alert(1)) | `a` *b* ---"
    assert p.authors == ("Mallory {{ x }}",)
    assert p.organization == "Evil | Corp <b>"


# --- normalize: placeholders and URLs in abstracts ---------------------------------------------

GH = "https://github.com/acme/tool"
PP = "https://acme.github.io/tool/"


@pytest.mark.parametrize(
    ("summary", "github", "page", "expected"),
    [
        ("The code is available at this https URL .", GH, None, f"The code is available at {GH} ."),
        ("The code is available at this https URL .", None, PP, "The code is available."),
        ("The code is available at this https URL .", None, None, "The code is available."),
        ("Our code is available at this https URL", None, None, "Our code is available."),
        ("Code: this https URL. More text.", GH, PP, f"Code: {GH} . More text."),
        ("Project page: this https URL.", GH, PP, f"Project page: {PP} ."),
        (
            "Videos on our \\href{ this https URL }{project page}.",
            GH,
            PP,
            f"Videos on our project page ({PP}).",
        ),
        ("Videos on our \\href{ this https URL }{project page}.", None, None, "Videos on our project page."),
        (
            "Project page and source code are available at this https URL and this https URL .",
            None,
            None,
            "Project page and source code are available.",
        ),
        (
            "Project page and source code are available at this https URL and this https URL .",
            GH,
            PP,
            f"Project page and source code are available at {PP} and {GH} .",
        ),
        ("Demo and code: this https URL.", GH, PP, "Demo and code."),  # two candidates: ambiguous
        ("Demo and code: this https URL.", GH, GH, f"Demo and code: {GH} ."),  # same link twice
        ("Our dataset is released at this https URL.", GH, PP, "Our dataset is released."),  # no kind
        (
            "Code is at this https URL and data at this https URL, too.",
            GH,
            None,
            f"Code is at {GH} and data, too.",
        ),
        (
            "See https://github.com/SAP/toolsense. Next.",
            None,
            None,
            "See https://github.com/SAP/toolsense . Next.",
        ),
        ("(see https://x.io/a).", None, None, "(see https://x.io/a)."),
    ],
)
def test_abstract_links(summary: str, github: str | None, page: str | None, expected: str) -> None:
    p = one(item(summary=summary, githubRepo=github, projectPage=page))
    assert p.abstract == expected


# --- normalize: dedupe and warnings ------------------------------------------------------------


def test_dedupe_keeps_first_occurrence_with_max_upvotes() -> None:
    items = [
        item(id="2602.00001", title="First", upvotes=3),
        item(id="2602.00002", title="Other", upvotes=5),
        item(id="2602.00001", title="Second copy", upvotes=9),
        item(id="2602.00001", title="Third copy", upvotes=1),
    ]
    papers, warnings = normalize(items)
    assert [(p.id, p.title, p.upvotes) for p in papers] == [
        ("2602.00001", "First", 9),
        ("2602.00002", "Other", 5),
    ]
    assert warnings == [
        "item 2: duplicate of paper 2602.00001 (item 0); merged, keeping the higher upvotes",
        "item 3: duplicate of paper 2602.00001 (item 0); merged, keeping the higher upvotes",
    ]


def test_unusable_items_are_warned_by_index_never_silently_skipped() -> None:
    items: list[Any] = [
        None,
        "a string",
        item(id="2602.00001", title="Kept"),
        [1, 2],
        {},
        {"paper": None, "title": "no id anywhere"},
        item(id="  ", title="blank id"),
        item(id="2602.00003", title=None, summary="no title"),
        item(id="../../etc/passwd"),
        item(id="2602.00004 <script>"),
        item(id=2602.1),
        item(id="x" * 65),
        item(id="2602.00002", title="Also kept"),
    ]
    papers, warnings = normalize(items)
    assert [p.id for p in papers] == ["2602.00001", "2602.00002"]
    assert warnings == [
        "item 0: not a JSON object (got NoneType); skipped",
        "item 1: not a JSON object (got str); skipped",
        "item 3: not a JSON object (got list); skipped",
        "item 4: no paper id; skipped",
        "item 5: no paper id; skipped",
        "item 6: no paper id; skipped",
        "item 7 (2602.00003): no title; skipped",
        "item 8: paper id '../../etc/passwd' is not a valid id; skipped",
        "item 9: paper id '2602.00004 <script>' is not a valid id; skipped",
        "item 10: paper id '2602.1' is not a valid id; skipped",
        f"item 11: paper id '{'x' * 39}…' is not a valid id; skipped",
    ]


@pytest.mark.parametrize("pid", ["2602.09877", "2602.0987", "2602.09877v2", "hep-th/9901001", "arXiv:2602.09877"])
def test_valid_ids(pid: str) -> None:
    assert one(item(id=pid)).id == pid.removeprefix("arXiv:")


def test_empty_list_and_non_list() -> None:
    assert normalize([]) == ([], [])
    with pytest.raises(SourceError, match="not an array") as info:
        normalize({"error": "rate limited"})  # type: ignore[arg-type]
    assert describe(info.value) == (
        "The daily papers payload is a JSON dict, not an array; point --source at a saved /api/daily_papers response."
    )


# --- the real payload --------------------------------------------------------------------------


def test_real_payload(real_payload_path: Path) -> None:
    raw = json.loads(real_payload_path.read_text(encoding="utf-8"))
    papers, warnings = normalize(raw)
    assert warnings == []
    assert len(papers) == 30
    assert [p.id for p in papers] == [x["paper"]["id"] for x in raw]  # order preserved
    assert [p.organization for p in papers] == [(x.get("organization") or {}).get("fullname") for x in raw]
    assert papers[0].organization == "California institute of technology"
    for p in papers:
        assert p.id and p.title and p.abstract
        texts = (p.title, p.abstract, *p.authors, *p.ai_keywords, p.organization or "")
        assert all(is_plain(t) for t in texts)
        assert not any(marker in t for marker in MOJIBAKE for t in texts)
        assert "this https URL" not in p.abstract
    by_id = {p.id: p for p in papers}
    assert by_id["2606.13681"].upvotes == 118
    assert by_id["2606.12451"].abstract.endswith("at https://github.com/SAP/toolsense .")
    assert by_id["2606.09446"].abstract.count("\n") == 0


# --- the sample day ----------------------------------------------------------------------------


@functools.cache
def load_build_sample() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_sample", ROOT / "scripts" / "build_sample.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SAMPLE_ORGS = [
    None,  # "·13 authors1": an author-only card
    "Tencent Hunyuan",
    "GigaAI",
    "Renmin University of China",
    "The University of Hong Kong",
    "Renmin University of China",
    "AI2",
    "Mistral AI_",  # the organisation's real display name ends in "_"
    "Imperial College London",
    "National University of Singapore",
]


def test_sample_day_parses_to_ten_clean_papers() -> None:
    text = SAMPLE.read_text(encoding="utf-8")
    assert text.endswith("]\n") and not text.startswith("\ufeff")
    assert not any(marker in text for marker in MOJIBAKE)
    raw = json.loads(text)
    for entry in raw:
        assert {"paper", "title", "summary", "publishedAt", "numComments"} <= entry.keys()
        assert {"id", "title", "summary", "upvotes", "authors", "publishedAt"} <= entry["paper"].keys()
        assert entry["paper"]["authors"] == []  # the seed names no authors; none are invented
    papers, warnings = normalize(raw)
    assert warnings == []
    assert len(papers) == 10
    assert papers[0].id == "2602.09877"
    assert [p.organization for p in papers] == SAMPLE_ORGS
    assert [p.upvotes for p in papers] == [46, 26, 23, 11, 10, 3, 2, 2, 2, 1]
    for p in papers:
        assert all(is_plain(t) for t in (p.title, p.abstract))
        assert "this https URL" not in p.abstract and "\\" not in p.abstract
    gigabrain = papers[2]
    assert "GigaBrain-0.5M* further integrates" in gigabrain.abstract
    assert "approximately 30% on challenging tasks including Laundry Folding" in gigabrain.abstract
    assert gigabrain.abstract.endswith("deployment videos on our project page.")
    assert "(R = 0.96, ρ = 0.98)" in papers[6].abstract
    assert papers[8].abstract.endswith("Project page and source code are available.")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Tencent Hunyuan11", "Tencent Hunyuan"),
        ("AI2169", "AI2"),
        ("Imperial College London01", "Imperial College London"),
        ("Mistral AI_", "Mistral AI_"),
        ("·13 authors1", None),
        ("· 1 author", None),
        ("", None),
    ],
)
def test_sample_org_counts_are_stripped(raw: str, expected: str | None) -> None:
    assert load_build_sample().clean_org(raw) == expected


def test_seed_repair_and_rebuild_match_the_committed_sample(tmp_path: Path) -> None:
    if not SEED.exists():
        pytest.skip(f"seed post {SEED} not present (it lives in ../shared)")
    build_sample = load_build_sample()
    repaired = build_sample.repair(SEED.read_text(encoding="utf-8"))
    for fixed in (
        "categories: [Daily Papers, 일간]",
        "총 **10개**의 논문이 수집되었습니다.",
        "## 📊 좋아요 순위",
        "- 👍 46",
    ):
        assert fixed in repaired
    assert not any(marker in repaired for marker in MOJIBAKE)
    out = tmp_path / "sample.json"
    assert build_sample.main([str(SEED), "--out", str(out)]) == 0
    assert out.read_bytes() == SAMPLE.read_bytes()


@pytest.mark.parametrize("unit", ["$a ", "``x ", "\\(a ", "\\textbf{", "this https URL at "])
def test_hostile_repetition_stays_linear(unit: str) -> None:
    # Openers without closers: an unbounded lazy span would make this quadratic (seconds, not ms).
    text = unit * (30_000 // len(unit))
    started = time.perf_counter()
    normalize([item(title=text, summary=text)])
    assert time.perf_counter() - started < 2.0


def test_oversized_titles_and_abstracts_are_cut_with_a_warning() -> None:
    huge = {"paper": {"id": "2601.00001", "title": "T " * 100_000, "summary": "word " * 300_000, "upvotes": 10**300}}
    papers, warnings = normalize([huge])
    (paper,) = papers
    assert len(paper.title) <= clean.MAX_TITLE_CHARS + 2 and paper.title.endswith("…")
    assert len(paper.abstract) <= clean.MAX_ABSTRACT_CHARS + 2 and paper.abstract.endswith("…")
    assert paper.upvotes == clean.MAX_UPVOTES
    assert warnings == [
        "item 0 (2601.00001): title cut from 200000 to 500 characters",
        "item 0 (2601.00001): abstract cut from 1500000 to 6000 characters",
    ]


def test_a_real_sized_abstract_is_not_cut() -> None:
    text = "Sentence with words. " * 90  # 1,890 characters, arXiv's ceiling is 1,920
    papers, warnings = normalize([{"paper": {"id": "2601.00002", "title": "t", "summary": text}}])
    assert papers[0].abstract == text.strip() and warnings == []


def test_oversized_organisation_and_author_names_are_cut_with_a_warning() -> None:
    item = {
        "paper": {
            "id": "2601.00003",
            "title": "t",
            "summary": "an abstract",
            "organization": {"fullname": "Org " * 250_000},
            "authors": [{"name": "N" * 1000}, {"name": "Kim"}],
        }
    }
    (paper,), warnings = normalize([item])
    assert paper.organization is not None and len(paper.organization) <= clean.MAX_NAME_CHARS + 2
    assert len(paper.authors[0]) <= clean.MAX_NAME_CHARS + 2 and paper.authors[1] == "Kim"
    assert warnings == [
        "item 0 (2601.00003): an author name cut from 1000 to 200 characters",
        "item 0 (2601.00003): organisation cut from 1000000 to 200 characters",
    ]
