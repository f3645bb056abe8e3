"""Normalisation: raw HF Daily Papers items → cleaned, deduplicated :class:`~agent.models.Paper` objects.

Everything produced here is *plain single-line text*: control, format (bidi overrides, zero-width,
BOM) and surrogate characters are removed, whitespace is collapsed, arXiv-flavoured LaTeX is made
readable. Nothing is escaped: Markdown/Liquid/HTML escaping is the renderer's job, so ``<``, ``{``
and ``*`` stay as they are.

The payload is untrusted and drifts (2024-era items lack most optional fields; any field may be
absent, null or the wrong type), so every accessor here is defensive and nothing raises per item:
an item that cannot be used becomes a warning naming its index.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import math
import re
import unicodedata
from typing import Any
from urllib.parse import urlsplit

from agent.errors import SourceError
from agent.models import Paper

__all__ = ["clean_text", "latex_to_text", "normalize", "safe_http_url"]

# Cc: C0/C1 controls incl. NUL and DEL; Cf: bidi embeddings/overrides/isolates/marks, zero-width
# characters, BOM, soft hyphen, Unicode tags (an "ASCII smuggling" vector for LLM prompts);
# Cs: lone surrogates, which JSON allows but UTF-8 cannot encode; Co: private use (renders as nothing
# or tofu). ZWJ/ZWNJ stay: emoji sequences and some scripts need them, and they reorder nothing.
_DROP_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co"})
_KEEP_FORMAT = frozenset({"\u200c", "\u200d"})
_ASCII_SPACES = str.maketrans("\t\n\v\f\r", "     ")  # what str.split() would fold anyway

# Bounds on what one payload item may bring in. arXiv caps abstracts at 1,920 characters; a real title is
# under 300. Anything past these is cut (with a warning) before cleaning, keyword rules and the LLM see it.
MAX_TITLE_CHARS = 500
MAX_ABSTRACT_CHARS = 6_000
MAX_UPVOTES = 1_000_000_000
MAX_NAME_CHARS = 200  # an organisation, an author name, a keyword

ARXIV_ID = re.compile(r"[0-9]{4}\.[0-9]{4,5}(?:v[0-9]+)?")
# Old-style arXiv ids ("hep-th/9901001") and other sources; no leading dot/slash and no ".." so an
# id can never climb out of a directory if someone uses it in a path.
_GENERAL_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,63}")


def clean_text(s: object) -> str:
    """Plain single-line text: NFC, no control/format/surrogate/private-use characters (but ZWJ/ZWNJ),
    every kind of whitespace and line break collapsed to one space. The one text cleaner: the renderer
    runs it again over everything it prints, LLM answers included."""
    if not isinstance(s, str) or not s:
        return ""
    s = s.translate(_ASCII_SPACES)
    if s.isprintable():  # the common case: nothing to drop (printable excludes Cc, Cf, Cs, Zl, Zp, …)
        return " ".join(unicodedata.normalize("NFC", s).split())
    kept = []
    for ch in s:
        if ch.isspace():  # \n, \t, NBSP, NEL, U+2028 … become ordinary spaces
            kept.append(" ")
        elif ch in _KEEP_FORMAT or unicodedata.category(ch) not in _DROP_CATEGORIES:
            kept.append(ch)
    return " ".join(unicodedata.normalize("NFC", "".join(kept)).split())


# --- LaTeX -------------------------------------------------------------------------------------

# fmt: off
_SYMBOLS = {
    # Greek
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "varepsilon": "ε",
    "zeta": "ζ", "eta": "η", "theta": "θ", "vartheta": "ϑ", "iota": "ι", "kappa": "κ",
    "lambda": "λ", "mu": "μ", "nu": "ν", "xi": "ξ", "pi": "π", "rho": "ρ", "sigma": "σ",
    "tau": "τ", "upsilon": "υ", "phi": "φ", "varphi": "φ", "chi": "χ", "psi": "ψ", "omega": "ω",
    "Gamma": "Γ", "Delta": "Δ", "Theta": "Θ", "Lambda": "Λ", "Xi": "Ξ", "Pi": "Π", "Sigma": "Σ",
    "Upsilon": "Υ", "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω",
    # operators and relations
    "times": "×", "cdot": "·", "pm": "±", "mp": "∓", "div": "÷", "ast": "*", "star": "⋆",
    "circ": "∘", "bullet": "•", "oplus": "⊕", "otimes": "⊗", "leq": "≤", "le": "≤", "geq": "≥",
    "ge": "≥", "neq": "≠", "ne": "≠", "ll": "≪", "gg": "≫", "approx": "≈", "sim": "~",
    "simeq": "≃", "equiv": "≡", "propto": "∝", "infty": "∞", "partial": "∂", "nabla": "∇",
    "sum": "∑", "prod": "∏", "int": "∫", "sqrt": "√", "ell": "ℓ", "in": "∈", "notin": "∉",
    "subset": "⊂", "subseteq": "⊆", "supset": "⊃", "cup": "∪", "cap": "∩", "forall": "∀",
    "exists": "∃", "neg": "¬", "land": "∧", "wedge": "∧", "lor": "∨", "vee": "∨",
    "emptyset": "∅", "top": "⊤", "bot": "⊥", "mid": "|", "vert": "|", "lvert": "|", "rvert": "|",
    "langle": "⟨", "rangle": "⟩", "lceil": "⌈", "rceil": "⌉", "lfloor": "⌊", "rfloor": "⌋",
    # arrows and dots
    "to": "→", "rightarrow": "→", "leftarrow": "←", "gets": "←", "Rightarrow": "⇒",
    "Leftarrow": "⇐", "leftrightarrow": "↔", "Leftrightarrow": "⇔", "mapsto": "↦",
    "uparrow": "↑", "downarrow": "↓", "ldots": "…", "cdots": "⋯", "dots": "…",
    # text-mode odds and ends
    "checkmark": "✓", "dagger": "†", "ddagger": "‡", "S": "§", "P": "¶", "textbackslash": "\\",
    "textasciitilde": "~", "textless": "<", "textgreater": ">", "textbar": "|", "textbullet": "•",
    "textemdash": "—", "textendash": "–", "textdegree": "°", "degree": "°", "LaTeX": "LaTeX",
    "TeX": "TeX", "prime": "′",
}
_SPACING = {",": " ", ";": " ", ":": " ", "!": "", " ": " "}
_SPACING_WORDS = {"quad": " ", "qquad": " ", "enspace": " ", "thinspace": " ", "newline": " "}
_BLACKBOARD = {"R": "ℝ", "N": "ℕ", "Z": "ℤ", "Q": "ℚ", "C": "ℂ", "E": "𝔼", "P": "ℙ"}
# Accent macros → combining characters; NFC then composes them ("\'e" → "é").
_ACCENTS = {
    "'": "\u0301", "`": "\u0300", "^": "\u0302", '"': "\u0308", "~": "\u0303", "=": "\u0304",
    ".": "\u0307", "u": "\u0306", "v": "\u030c", "H": "\u030b", "c": "\u0327", "k": "\u0328",
    "r": "\u030a",
}
_ESCAPES = {"%": "%", "&": "&", "_": "_", "#": "#", "$": "$", "{": "{", "}": "}"}
# fmt: on

# Noncharacters are reserved for exactly this kind of internal use; input copies are stripped first.
_SENTINEL = {"$": "\ufdd0", "{": "\ufdd1", "}": "\ufdd2"}
_UNSENTINEL = str.maketrans({v: k for k, v in _SENTINEL.items()})

_HREF = re.compile(r"\\href\s*\{([^{}]*)\}\s*\{([^{}]*)\}")
_FRAC = re.compile(r"\\[dt]?frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}")
# Innermost first: the argument holds no braces, so nested macros peel from the inside out.
# \href and \frac are excluded so a nested argument cannot make them look like one-argument macros.
_ONE_ARG = re.compile(r"\\(?!href(?![A-Za-z])|[dt]?frac(?![A-Za-z]))([A-Za-z]+)\*?\s*\{([^{}]*)\}")
_SYMBOL_ACCENT = re.compile(r"""\\(['`^"~=.])\s*(?:\{([A-Za-z])\}|([A-Za-z]))""")
_BARE = re.compile(r"\\([A-Za-z]+)(?![A-Za-z])")
_SPACE_MACRO = re.compile(r"\\([,;:! ])")
# Spans are bounded so that openers without a closer cost linear time, not quadratic.
_QUOTES = re.compile(r"``(.{0,300}?)''")
_DISPLAY_MATH = re.compile(r"\$\$(.{1,300}?)\$\$")
# Pandoc's rule: "$" opens only before a non-space and closes only after one, not before a digit,
# so "costs $5 and $10" is left alone.
_INLINE_MATH = re.compile(r"\$(?=\S)(.{1,300}?)(?<=\S)\$(?!\d)")
_PAREN_MATH = re.compile(r"\\\((.{1,300}?)\\\)")
_SCRIPT = re.compile(r"([\^_])\s*(?:\{([^{}]*)\}|(.))")


def _one_arg(m: re.Match[str]) -> str:
    name, arg = m.group(1), m.group(2).strip()
    if name == "r" and arg == "ho":  # arXiv's listing mangles "\rho" into "\r{ho}"
        return "ρ"
    if name in _ACCENTS and len(arg) == 1 and arg.isalpha():
        return unicodedata.normalize("NFC", arg + _ACCENTS[name])
    if name == "mathbb" and arg in _BLACKBOARD:
        return _BLACKBOARD[arg]
    if name == "sqrt":
        return "√" + (arg if len(arg) == 1 else f"({arg})")
    if name in _SYMBOLS:  # "\log{n}" and friends: the symbol, then its "argument"
        return f"{_SYMBOLS[name]}{arg}"
    return arg  # \textit, \emph, \url, \mathrm, \text … and unknown macros keep their argument


def _href(m: re.Match[str]) -> str:
    url, text = m.group(1).strip(), m.group(2).strip()
    if not text:
        return url
    return f"{text} ({url})" if url else text


def _script(m: re.Match[str]) -> str:
    mark, group, token = m.group(1), m.group(2), m.group(3)
    body = (group if group is not None else token).strip()
    if mark == "^" and body in ("*", "⋆"):  # M^* reads as M*
        return "*"
    if mark == "^" and body == "∘":
        return "°"
    if mark == "^" and body in ("′", "'"):
        return "′"
    if len(body) <= 1 or body.isalnum() or re.fullmatch(r"-?[0-9.]+", body):
        return mark + body
    return f"{mark}({body})"


def _symbol(name: str, *, math_mode: bool) -> str | None:
    if name in _SYMBOLS:
        return _SYMBOLS[name]
    if name in _SPACING_WORDS:
        return _SPACING_WORDS[name]
    if name in ("left", "right", "big", "Big", "bigl", "bigr", "displaystyle", "limits"):
        return "" if math_mode else None
    # Inside math an unknown bare macro is usually an operator name (\log, \max, \mathcal …).
    return name if math_mode else None


def _math(body: str) -> str:
    body = body.replace("~", " ")
    body = _SPACE_MACRO.sub(lambda m: _SPACING[m.group(1)], body)
    body = _BARE.sub(lambda m: _symbol(m.group(1), math_mode=True) or "", body)
    body = _SCRIPT.sub(_script, body)
    return body.replace("{", "").replace("}", "")


def latex_to_text(s: str) -> str:
    """Readable text from the LaTeX that arXiv abstracts and titles carry.

    ``\\textit{X}`` → X, ``\\href{u}{t}`` → "t (u)", ``\\url{u}`` → u, ``$16\\%$`` → 16%,
    ``$\\times$`` → ×, ``$x^2$`` → x^2, ````quotes''`` → "quotes"; unknown macros keep their argument.
    Text without LaTeX comes back unchanged.
    """
    if "\\" not in s and "$" not in s and "``" not in s:
        return s
    for sentinel in _SENTINEL.values():
        s = s.replace(sentinel, "")
    s = s.replace("\\$", _SENTINEL["$"]).replace("\\{", _SENTINEL["{"]).replace("\\}", _SENTINEL["}"])
    s = s.replace("\\\\", " ")
    s = _SYMBOL_ACCENT.sub(lambda m: unicodedata.normalize("NFC", (m.group(2) or m.group(3)) + _ACCENTS[m.group(1)]), s)
    for _ in range(50):  # each pass removes at least one macro; the bound only guards hostile input
        new = _HREF.sub(_href, s)
        new = _FRAC.sub(lambda m: f"{m.group(1).strip()}/{m.group(2).strip()}", new)
        new = _ONE_ARG.sub(_one_arg, new)
        if new == s:
            break
        s = new
    for pattern in (_DISPLAY_MATH, _PAREN_MATH, _INLINE_MATH):
        s = pattern.sub(lambda m: _math(m.group(1)), s)
    s = re.sub(r"\\([%&_#])", lambda m: _ESCAPES[m.group(1)], s)
    s = _SPACE_MACRO.sub(lambda m: _SPACING[m.group(1)], s)
    s = _BARE.sub(lambda m: _symbol(m.group(1), math_mode=False) or m.group(0), s)
    s = _QUOTES.sub(r'"\1"', s)
    return re.sub(r" {2,}", " ", s.translate(_UNSENTINEL))


# --- URLs --------------------------------------------------------------------------------------

# Characters RFC 3986 never allows unencoded, plus quotes: a URL holding any of them is refused
# rather than repaired, since it may be an attempt to break out of a Markdown link or attribute.
_URL_FORBIDDEN = re.compile(r"""[\s"'<>\\^`{|}]""")


def safe_http_url(s: object) -> str | None:
    """The URL if it is a plain http(s) URL with a host, minus glued sentence punctuation; else None."""
    if not isinstance(s, str):
        return None
    url = s.strip()
    while url and url[-1] in ".,;)":
        if url[-1] == ")" and url.count("(") >= url.count(")"):
            break  # a balanced ")" belongs to the URL (Wikipedia-style paths)
        url = url[:-1]
    if not url or _URL_FORBIDDEN.search(url):
        return None
    if any(unicodedata.category(ch) in _DROP_CATEGORIES for ch in url):
        return None
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    if "@" in parts.netloc:  # userinfo: credentials, or "https://good.com@evil.com" tricks
        return None
    return url


# --- abstracts ---------------------------------------------------------------------------------

_PLACEHOLDER = r"this\s+(?:https?|ftp)\s+URL"
# arXiv's listing replaces every link in an abstract with "this https URL". A match takes the
# preposition in front ("at", "at:") and the space before closing punctuation, so removing it
# leaves "The code is available." rather than "The code is available at ."
_PLACEHOLDER_RUN = re.compile(
    rf"(?P<lead>\s+(?:at|here|in|from|via|on|to)(?:\s*:)?(?=\s)|\s*:)?"
    rf"\s*(?:\(\s*(?P<paren>{_PLACEHOLDER})\s*\)|(?P<chain>{_PLACEHOLDER}(?:\s*(?:,\s*and|,|and|or)\s*{_PLACEHOLDER})*))"
    rf"(?P<trail>\s+(?=[.,;:!?)]))?",
    re.IGNORECASE,
)
_ONE_PLACEHOLDER = re.compile(_PLACEHOLDER, re.IGNORECASE)
_KIND_WORDS = {
    "code": re.compile(
        r"\b(?:code|codes|github|repo|repos|repository|repositories|implementations?|source|software"
        r"|toolkit|library|package)\b",
        re.IGNORECASE,
    ),
    "project": re.compile(r"\b(?:project|website|webpage|homepage|home\s+page|page|site|demos?)\b", re.IGNORECASE),
}
_SENTENCE_END = re.compile(r"[.!?]\s")


def _resolve_placeholders(text: str, github_repo: str | None, project_page: str | None) -> str:
    """Put the paper's known links where arXiv left "this https URL", or remove the phrase cleanly.

    The words before a placeholder (same sentence, after the previous placeholder) decide which link
    is meant; a link is only filled in when the choice is unambiguous.
    """
    if not _ONE_PLACEHOLDER.search(text):  # the common case; the full pattern is slow to scan
        return text
    links = {"code": github_repo, "project": project_page}
    out: list[str] = []
    prev = 0
    fill: list[str] | None = None
    for m in _PLACEHOLDER_RUN.finditer(text):
        before = text[prev : m.start()]
        ends = list(_SENTENCE_END.finditer(before))
        context = before[ends[-1].end() :] if ends else before
        mentioned = sorted((hit.start(), kind) for kind, rx in _KIND_WORDS.items() if (hit := rx.search(context)))
        urls = [links[kind] for _, kind in mentioned]
        count = 1 if m.group("paren") else len(_ONE_PLACEHOLDER.findall(m.group("chain")))
        known = list(dict.fromkeys(u for u in urls if u))
        fill = None
        if count == 1 and len(known) == 1:
            fill = known
        elif count > 1 and len(urls) == count and all(urls) and len(known) == count:
            fill = known  # "project page and code at this https URL and this https URL", in order
        out.append(before)
        if fill is not None:
            parts = _ONE_PLACEHOLDER.split(m.group(0))
            filled = "".join(part + url for part, url in zip(parts, [*fill, ""], strict=True))
            # Sentence punctuation stays detached from the URL, as arXiv writes it ("URL .").
            out.append(filled.rstrip() + (" " if m.group("trail") else ""))
        prev = m.end()
    out.append(text[prev:])
    result = "".join(out)
    if prev == len(text) and fill is None and result[-1:].isalnum():
        result += "."  # "Our code is available at this https URL" lost its last words, not its full stop
    return result


_URL_IN_TEXT = re.compile(r"https?://\S+")


def _unglue_periods(text: str) -> str:
    """Detach a sentence's period from the URL before it ("…/x/y." → "…/x/y ."), as arXiv's own
    listing writes it, so the URL is exact when copied or linked."""

    def fix(m: re.Match[str]) -> str:
        url = m.group(0)
        bare = url.rstrip(".")
        if bare == url or not bare or bare[-1] in ")]}>\"'":
            return url  # "(… https://x/y)." — the period follows the bracket, not the URL
        return f"{bare} {url[len(bare) :]}"

    return _URL_IN_TEXT.sub(fix, text)


def _text(raw: object) -> str:
    return clean_text(latex_to_text(clean_text(raw)))


def _abstract(raw: object, github_repo: str | None, project_page: str | None) -> str:
    text = _resolve_placeholders(_text(raw), github_repo, project_page)
    return clean_text(_unglue_periods(text))


# --- items -------------------------------------------------------------------------------------


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _to_int(value: Any) -> int:
    """Upvotes from whatever the payload holds: int, float, numeric string; anything else → 0.
    Bounded to 0..MAX_UPVOTES so a hostile payload cannot print a 300-digit count."""
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return min(max(value, 0), MAX_UPVOTES)
    if isinstance(value, str):
        try:
            value = float(value.strip()[:40])
        except ValueError:
            return 0
    if isinstance(value, float) and math.isfinite(value):
        return min(max(int(value), 0), MAX_UPVOTES)
    return 0


def _capped(raw: object, limit: int, what: str, where: str, notes: list[str]) -> object:
    """Cut an oversized payload string before cleaning it (cleaning and keyword rules scale with length);
    the cut is reported, never silent."""
    if isinstance(raw, str) and len(raw) > limit:
        notes.append(f"{where}: {what} cut from {len(raw)} to {limit} characters")
        cut = raw[:limit]
        return cut[: cut.rfind(" ")] + " …" if " " in cut[limit // 2 :] else cut + "…"
    return raw


def _paper_id(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    pid = clean_text(value)
    if pid[:6].lower() == "arxiv:":
        pid = pid[6:].strip()
    if ARXIV_ID.fullmatch(pid) or (_GENERAL_ID.fullmatch(pid) and ".." not in pid):
        return pid
    return None


def _organization(paper: dict[str, Any], item: dict[str, Any], where: str, notes: list[str]) -> str | None:
    orgs = (_obj(paper.get("organization")), _obj(item.get("organization")))
    for key in ("fullname", "name"):
        for org in orgs:
            if name := clean_text(_capped(org.get(key), MAX_NAME_CHARS, "organisation", where, notes)):
                return name
    return None


def _strings(values: Any, key: str | None, what: str, where: str, notes: list[str]) -> tuple[str, ...]:
    if not isinstance(values, list):
        return ()
    out: dict[str, None] = {}  # ordered set
    for value in values:
        raw = value.get(key) if key and isinstance(value, dict) else value
        text = clean_text(_capped(raw, MAX_NAME_CHARS, what, where, notes))
        if text:
            out[text] = None
    return tuple(out)


def _describe(value: Any) -> str:
    shown = clean_text(value if isinstance(value, str) else repr(value))
    return repr(shown if len(shown) <= 40 else shown[:39] + "…")


def _paper(index: int, item: Any, notes: list[str]) -> Paper | str:
    """A Paper, or the warning that says why item ``index`` cannot be used; ``notes`` gets what was cut."""
    if not isinstance(item, dict):
        return f"item {index}: not a JSON object (got {type(item).__name__}); skipped"
    # A bare paper object (no "paper" wrapper) is accepted too, as /api/papers/{id} returns one.
    paper = _obj(item.get("paper")) if "paper" in item else item
    raw_id = paper.get("id")
    if raw_id is None or (isinstance(raw_id, str) and not clean_text(raw_id)):
        return f"item {index}: no paper id; skipped"
    pid = _paper_id(raw_id)
    if pid is None:
        return f"item {index}: paper id {_describe(raw_id)} is not a valid id; skipped"
    where = f"item {index} ({pid})"
    title = _text(_capped(paper.get("title"), MAX_TITLE_CHARS, "title", where, notes)) or _text(
        _capped(item.get("title"), MAX_TITLE_CHARS, "title", where, notes)
    )
    if not title:
        return f"item {index} ({pid}): no title; skipped"
    github_repo = safe_http_url(paper.get("githubRepo"))
    project_page = safe_http_url(paper.get("projectPage"))
    summary = paper.get("summary")
    if not clean_text(summary):
        summary = item.get("summary")
    return Paper(
        id=pid,
        title=title,
        abstract=_abstract(_capped(summary, MAX_ABSTRACT_CHARS, "abstract", where, notes), github_repo, project_page),
        upvotes=_to_int(paper.get("upvotes")),
        authors=_strings(paper.get("authors"), "name", "an author name", where, notes),
        organization=_organization(paper, item, where, notes),
        github_repo=github_repo,
        project_page=project_page,
        published_at=clean_text(paper.get("publishedAt")) or clean_text(item.get("publishedAt")) or None,
        ai_keywords=_strings(paper.get("ai_keywords"), None, "an ai_keyword", where, notes),
        thumbnail=safe_http_url(item.get("thumbnail")) or safe_http_url(paper.get("thumbnail")),
        github_stars=None if paper.get("githubStars") is None else _to_int(paper.get("githubStars")),
    )


def normalize(items: list[Any]) -> tuple[list[Paper], list[str]]:
    """Clean raw API items into Papers, in payload order, one per paper id.

    A repeated id keeps its first occurrence with the highest upvotes seen. Every item that cannot
    be used (and every merged duplicate) yields a warning naming its index; nothing is skipped silently.
    """
    if not isinstance(items, list):
        raise SourceError(
            f"The daily papers payload is a JSON {type(items).__name__}, not an array", setting="source"
        )
    papers: dict[str, Paper] = {}
    first_index: dict[str, int] = {}
    warnings: list[str] = []
    for index, item in enumerate(items):
        result = _paper(index, item, warnings)
        if isinstance(result, str):
            warnings.append(result)
        elif result.id in papers:
            kept = papers[result.id]
            papers[result.id] = dataclasses.replace(kept, upvotes=max(kept.upvotes, result.upvotes))
            warnings.append(
                f"item {index}: duplicate of paper {result.id} (item {first_index[result.id]}); "
                "merged, keeping the higher upvotes"
            )
        else:
            papers[result.id] = result
            first_index[result.id] = index
    return list(papers.values()), warnings


_DAY_PREFIX = re.compile(r"(\d{4}-\d{2}-\d{2})")


def _day_of(value: object) -> dt.date | None:
    if not isinstance(value, str):
        return None
    m = _DAY_PREFIX.match(value.strip())
    if not m:
        return None
    try:
        return dt.date.fromisoformat(m.group(1))
    except ValueError:
        return None


def listed_day(items: list[Any]) -> tuple[dt.date, str] | None:
    """The day a payload lists its papers for, and the field it was read from.

    ``paper.submittedOnDailyAt`` is the daily list's own date (midnight UTC of that day): the most common
    one wins. A payload without it (2024 responses) falls back to the latest ``publishedAt`` (the arXiv
    date, a day or more before the list — an estimate). None when no item carries either date."""
    listed: collections.Counter[dt.date] = collections.Counter()
    published: list[dt.date] = []
    for item in items if isinstance(items, list) else ():
        item = _obj(item)
        paper = _obj(item.get("paper"))
        if (day := _day_of(paper.get("submittedOnDailyAt"))) is not None:
            listed[day] += 1
        for value in (paper.get("publishedAt"), item.get("publishedAt")):
            if (day := _day_of(value)) is not None:
                published.append(day)
    if listed:
        # Most common; a tie goes to the later day (a list that straddles midnight belongs to the new one).
        return max(listed.items(), key=lambda kv: (kv[1], kv[0]))[0], "submittedOnDailyAt"
    if published:
        return max(published), "publishedAt"
    return None
