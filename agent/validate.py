"""Checks on the model's answers: the Korean one-line summary, its tags, and the day's overview.

Every rule of STYLE-ko.md that code can check is checked here. A problem is one short Korean sentence
fragment naming what is wrong and, where it helps, what to do instead, so the same text can be shown
to an editor and quoted back to the model in a repair request.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from agent.vocab import MAX_TAGS, canonicalize

MAX_NEW_KEYWORDS = 5
MAX_KEYWORD_CHARS = 40
MIN_HANGUL_SHARE = 0.5


class VocabularyLike(Protocol):
    @property
    def names(self) -> tuple[str, ...]: ...

    def canonical(self, name: str) -> str | None: ...


@dataclass(frozen=True, slots=True)
class Verdict:
    ok: bool
    problems: tuple[str, ...]  # short Korean reasons, for the editor and for a repair prompt
    summary: str
    tags: tuple[str, ...]  # canonical vocabulary names, main field first
    new_keywords: tuple[str, ...]  # the model's suggestions, cleaned; never tags


# -- parsing ------------------------------------------------------------------------------------------

_FENCE = re.compile(r"```[ \t]*(?:json|JSON)?[ \t]*\r?\n?(.*?)```", re.DOTALL)
_MAX_OBJECT_STARTS = 50  # '{' positions tried in free text; bounds the work on a hostile reply


def parse_answer(raw: str | Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The JSON object in a model reply: plain JSON, JSON in a ``` fence, or the first {...} in the text.

    None when there is no complete object (a reply cut at max_tokens, prose only, a JSON array).
    """
    if raw is None:
        return None
    if isinstance(raw, Mapping):
        return dict(raw)
    if not isinstance(raw, str):
        return None
    text = raw.strip().lstrip("\ufeff")
    try:
        value = json.loads(text)
    except ValueError:
        pass
    else:
        return value if isinstance(value, dict) else None
    for fenced in _FENCE.findall(text):
        try:
            value = json.loads(fenced)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    decoder = json.JSONDecoder()
    start = text.find("{")
    for _ in range(_MAX_OBJECT_STARTS):
        if start < 0:
            break
        try:
            value, _end = decoder.raw_decode(text, start)
        except ValueError:
            pass
        else:
            if isinstance(value, dict):
                return value
        start = text.find("{", start + 1)
    return None


# -- the whole answer ---------------------------------------------------------------------------------


def validate_answer(
    raw: str | Mapping[str, Any] | None,
    *,
    abstract: str,
    vocab: VocabularyLike,
    min_chars: int = 20,
    max_chars: int = 120,
) -> Verdict:
    """Validate a summary answer ``{"summary": str, "tags": [str], "new_keywords": [str]}``.

    ``abstract`` is the text the summary must be faithful to; pass the title and the abstract together
    so names and numbers from either count as present.
    """
    answer = parse_answer(raw)
    if answer is None:
        problem = '응답에서 완결된 JSON 객체를 찾을 수 없음: {"summary": …, "tags": […]} 형식으로만 답할 것'
        return Verdict(False, (problem,), "", (), ())

    problems: list[str] = []
    summary = answer.get("summary")
    if isinstance(summary, str):
        summary = summary.strip()
        problems += validate_summary(summary, abstract=abstract, min_chars=min_chars, max_chars=max_chars)
    else:
        summary = ""
        problems.append("summary 필드가 없거나 문자열이 아님")

    raw_tags = answer.get("tags")
    names: list[str] = []
    if raw_tags is None or isinstance(raw_tags, str):
        names = (raw_tags or "").split(",")
        tags, tag_problems = validate_tags(names, vocab)
    elif isinstance(raw_tags, list):
        names = [t for t in raw_tags if isinstance(t, str)]
        tags, tag_problems = validate_tags(names, vocab)
    else:
        tags, tag_problems = (), ["tags가 문자열 목록이 아님"]
    problems += tag_problems

    # A tag the vocabulary lacks is a suggestion for the editor, never lost: it joins new_keywords (first).
    unknown = canonicalize(vocab, names)[1]
    suggested = answer.get("new_keywords")
    keywords = _clean_keywords([*unknown, *(suggested if isinstance(suggested, list) else [])], vocab)
    return Verdict(not problems, tuple(problems), summary, tags, keywords)


# -- the summary --------------------------------------------------------------------------------------

_URL = re.compile(
    r"https?://\S+|www\.\S+|\b[\w-]+(?:\.[\w-]+)*\.(?:com|org|net|io|ai|dev|co|kr|edu|html?)(?:/\S*)?\b",
    re.IGNORECASE | re.ASCII,
)
_MARKDOWN = [
    (re.compile(r"\*\*|__|~~"), None),
    (re.compile(r"`"), "`"),
    (re.compile(r"\[[^\]\n]*\]\([^)\n]*\)"), "[..](..)"),
    (re.compile(r"(?:^|\s)#"), "#"),
    (re.compile(r"^\s*(?:[-*+>]|\d+[.)])\s"), None),
    (re.compile(r"(?<![\w*])\*(?=\S)[^*\n]+(?<=\S)\*(?![\w*])"), "*…*"),
]
_HTML = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>|&(?:[a-z]+|#\d+);", re.IGNORECASE)
_QUOTES = {'"': '"', "'": "'", "“": "”", "‘": "’", "「": "」", "『": "』", "«": "»", "`": "`"}
_QUOTE_CHARS = "".join(_QUOTES) + "".join(_QUOTES.values())
_FILLER = re.compile(
    r"(?:^|(?<=\s))(?:(?:본|이|해당)\s?(?:논문|연구|작업)(?:은|는|에서는|에서|이|가)"
    r"|(?:저자|저자들|연구진|연구자들|우리)(?:은|는|이|가))(?=\s)"
)
# The words the prompt bans (prompts/style.toml [summary] banned_hype lists the same, a test checks it):
# hype is never allowed; the superlatives only when the abstract makes that claim.
BANNED_HYPE = ("혁신적인", "획기적인", "놀라운", "압도적인", "전례 없는", "혁명적인", "게임 체인저", "괄목할 만한")
_HYPE = re.compile(r"혁신적|획기적|놀라운|놀랍|압도적|전례\s?없|혁명적|게임\s?체인저|괄목할")
_FIRST = re.compile(r"최초|(?<![가-힣])처음으로")
# A claim to be first, not "the first step" or "first-order statistics".
_FIRST_CLAIM = re.compile(
    r"\bfor the first time\b|\bfirst[- ]ever\b|\bfirst[- ]of[- ]its[- ]kind\b|\bpioneer"
    r"|\bthe first (?!(?:step|stage|phase|round|time|half|layer|token|author|place|few|two|three)\b)"
    r"(?:[\w-]+ ){0,3}?(?:to|that)\b"
    r"|(?:[,:;(]|\b(?:is|are|was|were|be|being|as|present\w*|introduc\w*|propos\w*|represent\w*|offer\w*"
    r"|becom\w*|develop\w*|build\w*|release\w*))\s+(?:the|a|our)\s+(?:very\s+)?first\b"
    r"(?![- ](?:order|step|stage|phase|round|time|half|layer|token|author|place|two|three|few))",
    re.IGNORECASE,
)
_SOTA = re.compile(
    r"(?<![A-Za-z])SOTA(?![A-Za-z])|state[- ]of[- ]the[- ]art|최상(?:의|위)"
    r"|(?<![가-힣])최고(?!\s?경영)(?:의)?(?:\s?(?:성능|수준|정확도|점수|결과|처리량))?"
    r"|가장\s?(?:높은|좋은|뛰어난|우수한)\s?(?:성능|정확도|점수|결과)",
    re.IGNORECASE,
)
# 최첨단 names what the abstract calls frontier / cutting-edge / state-of-the-art models; not a claim.
_CUTTING_EDGE = re.compile(r"최첨단")
_CUTTING_EDGE_SOURCE = re.compile(
    r"frontier|cutting[- ]edge|leading[- ]edge|state[- ]of[- ]the[- ]art|\bSOTA\b|most advanced", re.IGNORECASE
)
_SOTA_WORD = re.compile(
    r"state[- ]of[- ]the[- ]art|\bSOTA\b|\bbest\b(?![- ](?:of|practices?|effort|response|arm|known))|\bnew records?\b"
    r"|\bhighest\b|\btop[- ]performing\b|\b(?:outperform|surpass)\w* all\b",
    re.IGNORECASE,
)
_SOTA_VERB = re.compile(
    r"\b(?:achiev|set|establish|attain|reach|deliver|obtain|yield|outperform|surpass|beat|exceed|rank|produc"
    r"|report|demonstrat|show)\w*|\bnew\b|\b(?:is|are)\b",
    re.IGNORECASE,
)
_SOTA_HEDGE = re.compile(
    r"occasional|sometimes|\bnear|close to|comparable|competitive|approach|on par|rival|\bmatch|\bcan\b|\bmay\b"
    r"|\bmight\b|\bcould\b|\bwould\b|\bif\b|\bwhether\b|\bthan\b|\bwithout\b|\bnot\b|compar",
    re.IGNORECASE,
)
_TRANSLATIONESE = re.compile(r"에\s?있어서|되어지|되어진|[을를]\s가지는|\S+의\s+\S+의\s+\S+의(?=\s)")
_SPACING = re.compile(r"(?<=[가-힣])(?<!실)수\s?(?:있|없)")  # "할수 있다" (but "실수 없이")
_NOT_A_SUMMARY = re.compile(
    r"ignore\s+(?:all\s+|any\s+|the\s+)?(?:previous|prior|above|earlier|preceding)\s+(?:instructions?|prompts?)"
    r"|disregard\s+(?:all\s+|the\s+)?(?:previous|prior|above)|system\s+prompt|\bas\s+an\s+ai(?![A-Za-z])"
    r"|\bI\s+(?:cannot|can't|am\s+unable|will\s+not|won't)(?![A-Za-z])|\bsorry(?![A-Za-z])"
    r"|이전\s?(?:지시|명령|지침)|지시(?:를|사항을)?\s?무시|시스템\s?프롬프트|죄송|요약할\s?수\s?없|AI\s?언어\s?모델",
    re.IGNORECASE,
)


def validate_summary(text: str, *, abstract: str, min_chars: int = 20, max_chars: int = 120) -> list[str]:
    """Problems of a one-line Korean summary against the text it summarises; [] when it is fine."""
    text = text.strip()
    if not text:
        return ["요약이 비어 있음"]
    problems: list[str] = []
    if any(ch in text for ch in "\n\r\u2028\u2029"):
        problems.append("줄바꿈이 있음: 한 줄로 쓸 것")
    korean, share = _korean(text, abstract)
    if not korean:
        problems.append(f"한국어 문장이 아님 (한글 {share:.0%}, 50% 이상이어야 함)")
    if len(text) < min_chars:
        problems.append(f"너무 짧음 ({len(text)}자, 최소 {min_chars}자)")
    elif len(text) > max_chars:
        problems.append(f"너무 김 ({len(text)}자, 최대 {max_chars}자)")
    problems += _markup_problems(text, abstract)
    core = text  # what the style checks read: the sentence inside any wrapping quotes
    if len(text) > 2 and text[0] in _QUOTES and text.rstrip(".")[-1] == _QUOTES[text[0]]:
        problems.append("요약 전체를 따옴표로 감쌈: 따옴표 없이 쓸 것")
        core = text.strip(_QUOTE_CHARS + ".") + "."
    else:
        quote = _inner_quote(text)
        if quote:
            problems.append(f"따옴표가 있음 ({quote}): 따옴표 없이 쓸 것")
    if _has_control(text):
        problems.append("보이지 않는 제어 문자가 있음")

    # A paper about prompt injection may quote its own attack string; nothing else excuses one.
    quoted = abstract.casefold()
    meta = next(
        (m.group(0) for m in _NOT_A_SUMMARY.finditer(text) if m.group(0).casefold() not in quoted), None
    )
    if meta:
        problems.append(f"요약이 아니라 지시문이나 대화형 응답으로 보임 ('{meta}')")

    if korean:
        problems += _korean_style_problems(core, abstract)

    phrase = _english_phrase(text, abstract)
    if phrase and korean:
        problems.append(f"초록에 없는 영어 구절 '{phrase}': 한국어로 쓰거나 초록의 이름 그대로 쓸 것")

    invented = invented_numbers(text, abstract)
    if invented:
        problems.append(f"초록에 없는 숫자: {', '.join(invented)} (초록의 숫자만 그대로 쓸 것)")
    units = changed_units(text, abstract)
    if units:
        problems.append(f"숫자의 단위가 초록과 다름: {', '.join(units)} (초록의 단위 그대로 쓸 것)")
    return problems


def _korean_style_problems(text: str, abstract: str) -> list[str]:
    problems: list[str] = []
    if _sentence_count(text) > 1:
        problems.append("두 문장 이상임: 한 문장으로 쓸 것")
    splice = _comma_splice(text)
    if splice:
        problems.append(f"두 문장을 쉼표로 이어 붙임 ('{splice}'): 한 문장으로 쓸 것")
    if not text.endswith("다."):
        problems.append("해라체 평서형('…한다.', '…이다.')으로 끝나야 함")
    elif _polite_ending(text):
        problems.append("합니다체로 끝남: 해라체 평서형('…한다.', '…이다.')으로 쓸 것")
    filler = _FILLER.search(text)
    if filler:
        problems.append(f"불필요한 주어 '{filler.group(0)}': 방법·모델 이름을 주어로 쓸 것")
    hype = list(dict.fromkeys(m.group(0) for m in _HYPE.finditer(text)))
    if hype:  # every one, so a single repair (or the editor) fixes them all at once
        problems.append("과장 표현 " + ", ".join(f"'{w}'" for w in hype))
    first = _FIRST.search(text)
    if first and not _FIRST_CLAIM.search(abstract):
        problems.append(f"초록이 주장하지 않는 '{first.group(0)}' 표현")
    sota = _SOTA.search(text)
    if sota and not claims_best(abstract):
        problems.append(f"초록이 주장하지 않는 최고 성능 표현 '{sota.group(0)}'")
    if _CUTTING_EDGE.search(text) and not _CUTTING_EDGE_SOURCE.search(abstract):
        problems.append("초록에 없는 '최첨단' 표현 (초록이 frontier, cutting-edge, state-of-the-art라 할 때만)")
    clumsy = _TRANSLATIONESE.search(text)
    if clumsy:
        problems.append(f"번역투 표현 '{clumsy.group(0)}'")
    if text.count("통해") > 1:
        problems.append("'…를 통해'를 두 번 이상 씀")
    spacing = next((m for m in _SPACING.finditer(text) if _jongseong(text[m.start() - 1]) == 8), None)
    if spacing:  # 8 = ㄹ: the 관형형 "할", "될", "넘어설" before the bound noun 수
        written = text[spacing.start() - 1 : spacing.end()]
        problems.append(f"띄어쓰기: '{written}' → '{written[0]} {written[1:]}'")
    return problems


def claims_best(abstract: str) -> bool:
    """Does the abstract claim the best result ("achieves state-of-the-art", "a new state of the art",
    "the best overall performance")? Mentions in another sense do not count: "compared with
    state-of-the-art methods", "can occasionally reach state-of-the-art", "best-of-N"."""
    for word in _SOTA_WORD.finditer(abstract):
        start = max(abstract.rfind(". ", 0, word.start()) + 2, abstract.rfind(";", 0, word.start()) + 1)
        window = abstract[max(start, word.start() - 80) : word.start()]
        if _SOTA_VERB.search(window + word.group(0)) and not _SOTA_HEDGE.search(window):
            return True
    return False


def _inner_quote(text: str) -> str | None:
    """A quotation mark inside the sentence; an apostrophe inside a Latin word (Moltbook's) is not one."""
    for i, ch in enumerate(text):
        if ch not in _QUOTE_CHARS or ch == "`":
            continue
        inside_word = 0 < i < len(text) - 1 and all(c.isascii() and c.isalpha() for c in (text[i - 1], text[i + 1]))
        if ch in "'’" and inside_word:
            continue
        return ch
    return None


def _url_shown(found: str) -> str:
    """The URL as the sentence has it: ``\\S+`` also takes a Markdown link's ``)``, a Korean particle glued on
    (``https://x.org)로``) and the sentence's period; the editor is shown the address alone."""
    cut = re.split(r"[)\]>\"'\uac00-\ud7a3]", found, maxsplit=1)[0]
    return cut.rstrip(".,;:!?") or found


def _markup_problems(text: str, abstract: str = "") -> list[str]:
    problems: list[str] = []
    url = _URL.search(text)
    if url:
        problems.append(f"URL이 있음 ({_url_shown(url.group(0))}): 링크 없이 쓸 것")
    for pattern, label in _MARKDOWN:
        found = pattern.search(text)
        if found:
            problems.append(f"Markdown 문법이 있음 ({label or found.group(0).strip()}): 일반 텍스트로 쓸 것")
            break
    html = next((m.group(0) for m in _HTML.finditer(text) if _is_html(m, abstract)), None)
    if html:
        problems.append(f"HTML 태그가 있음 ({html})")
    emoji = next((ch for ch in text if _is_emoji(ch)), None)
    if emoji:
        problems.append(f"이모지가 있음 ({emoji})")
    return problems


_HTML_ELEMENTS = frozenset(
    {
        "a", "abbr", "b", "br", "button", "code", "details", "div", "em", "embed", "font", "form", "h1", "h2",
        "h3", "h4", "h5", "h6", "hr", "i", "iframe", "img", "input", "kbd", "link", "li", "mark", "meta",
        "object", "ol", "p", "pre", "q", "s", "script", "small", "span", "strong", "style", "sub", "summary",
        "sup", "svg", "table", "td", "th", "tr", "u", "ul", "video", "audio", "source", "base", "body", "head",
        "html", "title", "math", "template", "textarea", "select", "option",
    }
)


def _is_html(tag: re.Match[str], abstract: str) -> bool:
    """An HTML tag or entity. A bare angle-bracket token that the abstract itself writes (the special
    token ``<swi>`` of a paper about it) is a quotation, not markup."""
    written = tag.group(0)
    if written.startswith("&"):
        return True
    name = re.match(r"</?([A-Za-z][A-Za-z0-9-]*)", written)
    if name is None or name.group(1).lower() in _HTML_ELEMENTS or re.search(r"\s", written):
        return True
    return written not in abstract


# A run of Latin words separated by spaces ("Test-time Rule Acquisition and Compiled Enforcement").
_LATIN_RUN = re.compile(r"[A-Za-z0-9][\w.\-+/*&:']*(?:[ ]+[A-Za-z0-9][\w.\-+/*&:']*)*", re.ASCII)
# Small words a name may hold between its capitalised words.
_CONNECTORS = frozenset(
    {
        "and", "or", "of", "for", "via", "with", "in", "on", "to", "the", "a", "an", "from", "by", "at",
        "over", "under", "as", "is", "all", "vs",
    }
)
_MIN_HANGUL = 4


def _korean(text: str, abstract: str = "") -> tuple[bool, float]:
    """Whether ``text`` is a Korean sentence, and its Hangul share of the letters that are not names.

    Names stay as the abstract writes them ("GLM-5", "SWE-bench Verified", "Test-time Rule Acquisition and
    Compiled Enforcement"): a Latin word counts as a name when it holds a digit or two capitals, or when it is
    a capitalised word or name-shaped phrase the abstract writes the same way. Every other Latin letter
    (English words, Title-Case phrases the abstract does not have) counts against the Hangul, which must be at
    least half.
    """
    text = _URL.sub(" ", text)
    hangul = sum(1 for ch in text if _is_hangul(ch))
    other = 0
    for run in _LATIN_RUN.finditer(text):
        words = run.group(0).split()
        if len(words) > 1 and _name_phrase(words) and _written_in(run.group(0), abstract):
            continue
        for word in words:
            letters = sum(1 for ch in word if ch.isalpha())
            if letters and not _name_word(word, abstract):
                other += letters
    letters = hangul + other
    share = hangul / letters if letters else 0.0
    return share >= MIN_HANGUL_SHARE and hangul >= _MIN_HANGUL, share


def _name_word(word: str, abstract: str) -> bool:
    word = word.strip(".:'")
    if any(ch.isdigit() for ch in word) or sum(ch.isupper() for ch in word) >= 2:
        return True
    return word[:1].isupper() and _written_in(word, abstract)


def _name_phrase(words: Sequence[str]) -> bool:
    """Shaped like a name: starts with a capital (or digit), and its lower-case words are connectors."""
    if not (words[0][:1].isupper() or words[0][:1].isdigit()):
        return False
    return all(w[:1].isupper() or w[:1].isdigit() or w.lower() in _CONNECTORS for w in words)


def _written_in(phrase: str, abstract: str) -> bool:
    """``phrase`` occurs in ``abstract`` as written (same case), as whole words."""
    pattern = r"\s+".join(re.escape(w) for w in phrase.split())
    return re.search(rf"(?<![A-Za-z0-9]){pattern}(?![A-Za-z0-9])", abstract) is not None


_TITLE_WORD = re.compile(r"[A-Z][a-z]+(?:-[A-Za-z][a-z]+)*$")


def _english_phrase(text: str, abstract: str) -> str | None:
    """A Title-Case English phrase ("Flexible Reference Model") the abstract does not write that way:
    English left in where Korean is natural, dressed up as a name."""
    for run in _LATIN_RUN.finditer(_URL.sub(" ", text)):
        words = run.group(0).split()
        titled = [w for w in words if w.lower() not in _CONNECTORS]
        if len(titled) < 2 or not all(_TITLE_WORD.match(w) for w in titled) or not _name_phrase(words):
            continue
        if not _written_in(run.group(0), abstract):
            return run.group(0)
    return None


def _is_hangul(ch: str) -> bool:
    return "\uac00" <= ch <= "\ud7a3"


def _is_emoji(ch: str) -> bool:
    cp = ord(ch)
    return (
        0x1F000 <= cp <= 0x1FAFF
        or 0x2600 <= cp <= 0x27BF
        or 0x2B00 <= cp <= 0x2BFF
        or 0x2300 <= cp <= 0x23FF
        or cp in (0xFE0F, 0x200D, 0x20E3)
    )


def _has_control(text: str) -> bool:
    return any(unicodedata.category(ch) in ("Cc", "Cf") and ch not in "\n\r\t\u200d\ufe0f" for ch in text)


# A sentence of Korean prose ends after Hangul (or a bracket or quote closing it): a period after Latin letters or
# digits is an abbreviation, a decimal or part of a citation ("fr. 2813", "et al.", "v1.5").
_SENTENCE_END = re.compile(r"(?<=[가-힣)\]'\"”’」』])[.!?。](?=\s*[^\s.!?。)\]'\"”’])")


def _sentence_count(text: str) -> int:
    """Sentences in ``text``: ends followed by more text, plus the last one."""
    return 1 + sum(1 for _ in _SENTENCE_END.finditer(text))


def _comma_splice(text: str) -> str | None:
    """A clause closed with a final '…다,' and glued to the next ("…를 제안한다, 또한 …", "…벤치마크다, …").
    The comparative particle '보다,' is not an ending."""
    for match in re.finditer(r"([가-힣])다,\s", text):
        if match.group(1) != "보":
            return match.group(0).strip()
    return None


def _jongseong(syllable: str) -> int:
    return (ord(syllable) - 0xAC00) % 28


def _polite_ending(text: str) -> bool:
    """Ends in 합니다체 ("…합니다.", "…입니다.", "…습니다."); the plain "…아니다." does not."""
    if text.endswith("습니다."):
        return True
    return text.endswith("니다.") and len(text) >= 4 and _is_hangul(text[-4]) and _jongseong(text[-4]) == 17


# -- numbers ------------------------------------------------------------------------------------------

# A run of Latin letters and digits, joined by . , - ("GPT-4o", "Qwen2.5-7B", "1,000", "3.5").
_TOKEN = re.compile(r"[A-Za-z0-9]+(?:[.,\-][A-Za-z0-9]+)*")
_NUMBER = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?")
_UNIT = re.compile(r"[A-Za-z]+")
_LATIN_SCALE = {"k": 3, "m": 6, "b": 9, "t": 12}
_WORD_SCALE = re.compile(r"\s*(thousand|million|billion|trillion)\b", re.IGNORECASE)
_WORD_SCALES = {"thousand": 3, "million": 6, "billion": 9, "trillion": 12}
_KOREAN_SCALE = {"십": 1, "백": 2, "천": 3, "만": 4, "억": 8, "조": 12}
# One group of a Korean numeral: "4만", "7천", "2천만", "1.5억".
_KOREAN_PART = re.compile(r"(?<![\d.,])(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)\s?([십백천]?)([만억조]?)")
_CARDINALS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen twenty"
)
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
_NUMBER_WORDS = {word: n for n, word in enumerate(_CARDINALS.split())} | _TENS | {
    "hundred": 100, "thousand": 1000, "dozen": 12,
    # ordinals and fractions: "two-thirds" ↔ "3분의 2", "the third stage" ↔ "3단계", "fourteenth" ↔ "14세기"
    "first": 1, "half": 2, "halves": 2, "third": 3, "thirds": 3, "quarter": 4, "quarters": 4, "fifth": 5,
    "eighth": 8, "ninth": 9, "twelfth": 12, "second": 2,
}  # fmt: skip
_TIME_UNITS = {"millisecond", "second", "minute", "hour", "day"}
_TIMES_WORDS = {"twice": 2, "double": 2, "doubles": 2, "doubled": 2, "triple": 3, "triples": 3, "tripled": 3}
# Korean native numerals before a counter: "두 배", "세 가지", "열두 개" (한/하나 are left alone: "한 번에").
_NATIVE = {"두": 2, "둘": 2, "세": 3, "셋": 3, "네": 4, "넷": 4, "다섯": 5, "여섯": 6, "일곱": 7, "여덟": 8,
           "아홉": 9, "열": 10, "스무": 20}  # fmt: skip
_NATIVE_NUMBER = re.compile(
    r"(?<![가-힣])(열|스물)?(한|두|둘|세|셋|네|넷|다섯|여섯|일곱|여덟|아홉|열|스무)\s?"
    r"(배|가지|개(?![선발념인별방편])|단계|번(?!역)|명(?![시확])|종류|종(?![합료])|편(?![향집])|차례|곳|축(?![적소])"
    r"|갈래|계열|쌍|장(?![점르])|층|차원|방향|모델|언어|과제|작업|벤치마크|데이터셋|영역|도메인|요소|모듈|에이전트)"
)
# The unit of a number: percent, percentage points, a factor, or none.
_PP_UNIT = re.compile(r"\s?(?:%\s?p(?![A-Za-z])|%\s?포인트|퍼센트\s?포인트|percentage[- ]points?\b|pp\b|p\.p\.)", re.I)
_PCT_UNIT = re.compile(r"\s?(?:\\?%|퍼센트|percent\b|프로(?![가-힣]))", re.IGNORECASE)
_TIMES_UNIT = re.compile(r"(?:[x×](?![A-Za-z0-9])|\s?×|\s?times\b|\s?\{times\}|-?fold\b|\s?배)", re.IGNORECASE)
_RANGE = re.compile(r"\s*(?:~|–|—|-{1,2}|to|에서)\s*(?=\d)")
_UNIT_SHOWN = {"pct": "%", "pp": "%p", "times": "배", "plain": ""}


@dataclass(frozen=True, slots=True)
class _Num:
    text: str
    values: frozenset[Decimal]  # the value and its scaled forms ("2.1B" → 2.1 and 2.1e9)
    glued: bool  # part of a name: Latin letters before it in the same token ("GPT-4o", "Qwen2.5")
    token: str  # the Latin/digit run holding it ("" for a number word)
    start: int  # where the number starts in the text
    end: int  # where its token (or Korean numeral) ends
    kind: str  # "pct", "pp", "times" or "plain"


def invented_numbers(summary: str, abstract: str) -> list[str]:
    """Numbers in ``summary`` that ``abstract`` does not state, as written in the summary.

    A name that contains digits ("GLM-5", "Qwen2.5-7B", "3D", "o1") must be a name of the abstract, written
    with or without its hyphens and spaces ("Opus 4.5" ↔ "Opus-4.5"). Any other number must be a number of the
    abstract (24% ↔ "24%", "1,000" ↔ "1000", "3.5배" ↔ "3.5x", "2.1B" ↔ "2.1 billion", "4만 7천" ↔ "47k",
    "두 배" ↔ "twice", "14세기" ↔ "fourteenth", "3개" ↔ "three").
    """
    standalone = {v for n in _source_numbers(abstract) for v in n.values}
    invented: list[str] = []
    for num in _numbers(summary, korean=True):
        if _is_name(num, summary, abstract):
            continue
        if num.glued or not num.values & standalone:
            written = num.token if num.glued else num.text  # a name as written: "o1", not "1"
            if written not in invented:
                invented.append(written)
    return invented


def changed_units(summary: str, abstract: str) -> list[str]:
    """Numbers of ``summary`` the abstract states with another unit ("7.50%" for the abstract's plain 7.50,
    "3.5%" for "3.5x"), as written in the summary with their unit."""
    source = _source_numbers(abstract)
    changed: list[str] = []
    for num in _numbers(summary, korean=True):
        if num.glued or _is_name(num, summary, abstract):
            continue
        same = [n.kind for n in source if n.values & num.values]
        if same and not any(_same_unit(num.kind, kind) for kind in same):
            shown = f"{num.text}{_UNIT_SHOWN[num.kind]} (초록: {num.text}{_UNIT_SHOWN[same[0]]})"
            if shown not in changed:
                changed.append(shown)
    return changed


def _same_unit(written: str, source: str) -> bool:
    # "7.50 points" may be written 7.50%p; a plain gain of 7.50 is percentage points more often than not
    return written == source or {written, source} == {"pp", "plain"}


def _is_name(num: _Num, text: str, abstract: str) -> bool:
    """The number is part of a name the abstract has ("SDG-30K", "Opus 4.5" for "Opus-4.5")."""
    if not any(c.isalpha() for c in num.token) and not num.glued:
        before = re.search(r"([A-Za-z][A-Za-z0-9.\-]*) $", text[: num.start])
        return before is not None and _name_in(f"{before.group(1)} {num.token}", abstract)
    if _name_in(num.token, abstract):
        return True
    before = re.search(r"([A-Za-z][A-Za-z0-9.\-]*) $", text[: num.end - len(num.token)])
    return before is not None and _name_in(f"{before.group(1)} {num.token}", abstract)


def _name_in(name: str, abstract: str) -> bool:
    """``name`` occurs in ``abstract``, case aside and with or without - _ . or a space between its parts."""
    parts = re.findall(r"[A-Za-z]+|\d+(?:[.,]\d+)*", name)
    if not parts:
        return False
    pattern = r"[\s\-_.]?".join(re.escape(p) for p in parts)
    return re.search(rf"(?<![A-Za-z0-9]){pattern}(?![A-Za-z0-9])", abstract, re.IGNORECASE) is not None


def _source_numbers(abstract: str) -> list[_Num]:
    """The abstract's numbers that are not part of a name, and its number words."""
    return [n for n in _numbers(abstract) if not n.glued] + _number_words(abstract)


def _numbers(text: str, *, korean: bool = False) -> list[_Num]:
    found: list[_Num] = []
    compounds = _korean_numerals(text) if korean else {}
    skip_until = -1
    for token in _TOKEN.finditer(text):
        word = token.group(0)
        for number in _NUMBER.finditer(word):
            start = token.start() + number.start()
            if start < skip_until:
                continue
            value = _decimal(number.group(0))
            if value is None:
                continue
            values = {value}
            written = number.group(0)
            after_in_token = word[number.end() :]
            after_token = text[token.end() :]
            unit = _UNIT.match(after_in_token)
            if unit and len(unit.group(0)) == 1 and unit.group(0).lower() in _LATIN_SCALE:
                values.add(value.scaleb(_LATIN_SCALE[unit.group(0).lower()]))
            unit_at = token.start() + number.end()
            if not after_in_token:
                words = _WORD_SCALE.match(after_token)
                if words:
                    values.add(value.scaleb(_WORD_SCALES[words.group(1).lower()]))
                if start in compounds:
                    unit_at, total, written, parts = compounds[start]
                    if parts > 1:  # "4만 7천" is 47,000, not 4 and 7
                        values = {total}
                        skip_until = unit_at
                    else:
                        values.add(total)
            glued = any(c.isalpha() for c in word[: number.start()])
            end = max(token.end(), unit_at)
            found.append(_Num(written, frozenset(values), glued, word, start, end, _unit(text, unit_at)))
    if korean:
        found += _native_numbers(text)
        found.sort(key=lambda n: n.start)
    return _ranges(text, found)


def _unit(text: str, at: int) -> str:
    rest = text[at : at + 24]
    if _PP_UNIT.match(rest):
        return "pp"
    if _PCT_UNIT.match(rest):
        return "pct"
    if _TIMES_UNIT.match(rest):
        return "times"
    return "plain"


def _ranges(text: str, nums: list[_Num]) -> list[_Num]:
    """In a range ("9--52%", "2~3배", "2 to 3 times") the first number carries the unit of the second."""
    out = list(nums)
    for i in range(len(out) - 2, -1, -1):
        first, second = out[i], out[i + 1]
        if first.kind != "plain" or first.glued or second.glued:
            continue
        gap = _RANGE.match(text, first.start + len(first.text))
        if gap and gap.end() == second.start:
            out[i] = replace(first, kind=second.kind)
    return out


def _korean_numerals(text: str) -> dict[int, tuple[int, Decimal, str, int]]:
    """Korean numerals with a scale, by start: (end, value, as written, groups). "4만 7천" → 47000."""
    found: dict[int, tuple[int, Decimal, str, int]] = {}
    parts = [m for m in _KOREAN_PART.finditer(text) if m.group(2) or m.group(3)]
    i = 0
    while i < len(parts):
        first = parts[i]
        total, last, magnitude, j = Decimal(0), first, 99, i
        while j < len(parts):
            part = parts[j]
            if j > i and (text[last.end() : part.start()] not in ("", " ")):
                break
            scale = _KOREAN_SCALE.get(part.group(2), 0) + _KOREAN_SCALE.get(part.group(3), 0)
            if scale >= magnitude:
                break
            value = _decimal(part.group(1))
            if value is None:  # pragma: no cover - the pattern only matches digits
                break
            total += value.scaleb(scale)
            magnitude, last, j = scale, part, j + 1
        found[first.start()] = (last.end(), total.normalize(), text[first.start() : last.end()].strip(), j - i)
        i = max(j, i + 1)
    return found


def _native_numbers(text: str) -> list[_Num]:
    found = []
    for m in _NATIVE_NUMBER.finditer(text):
        if m.group(2) == "한" and not m.group(1):
            continue
        tens = {"열": 10, "스물": 20}.get(m.group(1) or "", 0)
        value = tens + (_NATIVE.get(m.group(2)) or 1)
        kind = "times" if m.group(3) == "배" else "plain"
        written = m.group(0).strip()
        found.append(_Num(written, frozenset({Decimal(value)}), False, "", m.start(), m.end(), kind))
    return found


def _decimal(text: str) -> Decimal | None:
    try:
        return Decimal(text.replace(",", "")).normalize()
    except InvalidOperation:  # pragma: no cover - _NUMBER only matches digits
        return None


def _number_words(text: str) -> list[_Num]:
    """English number words as numbers: "three", "twenty-one", "fourteenth", "two-thirds", "twice"."""
    found = []
    for m in re.finditer(r"[a-z]+(?:-[a-z]+)*", text.lower()):
        words = m.group(0).split("-")
        values: list[tuple[int, str]] = []
        if len(words) > 1 and words[0] == "sub" and words[1] in _TIME_UNITS:  # "sub-second" ↔ "1초 미만"
            values.append((1, "plain"))
        k = 0
        while k < len(words):
            word = words[k]
            tens = _TENS.get(word)
            unit = _word_value(words[k + 1]) if tens and k + 1 < len(words) else None
            if tens and unit and unit[0] < 10:
                values.append((tens + unit[0], "plain"))
                k += 2
                continue
            one = _word_value(word)
            if one is not None:
                kind = one[1]
                if kind == "plain" and k + 1 < len(words) and words[k + 1] == "fold":
                    kind = "times"
                values.append((one[0], kind))
            k += 1
        for value, kind in values:
            if kind == "plain" and re.match(r"\s+times\b", text[m.end() : m.end() + 8]):
                kind = "times"
            found.append(_Num(m.group(0), frozenset({Decimal(value)}), False, "", m.start(), m.end(), kind))
    return found


def _word_value(word: str) -> tuple[int, str] | None:
    if word in _TIMES_WORDS:
        return _TIMES_WORDS[word], "times"
    if word.endswith("fold") and word[:-4] in _NUMBER_WORDS:
        return _NUMBER_WORDS[word[:-4]], "times"
    if word in _NUMBER_WORDS:
        return _NUMBER_WORDS[word], "plain"
    if word.endswith("th"):  # fourteenth, twentieth, sixth
        base = word[:-2]
        base = base[:-2] + "y" if base.endswith("ie") else base
        if base in _NUMBER_WORDS:
            return _NUMBER_WORDS[base], "plain"
    return None


# -- tags and keywords --------------------------------------------------------------------------------

_MAX_LISTED_NAMES = 80  # the whole vocabulary, unless it has grown past reason


def validate_tags(tags: Sequence[str], vocab: VocabularyLike) -> tuple[tuple[str, ...], list[str]]:
    """Map tags through the vocabulary: ``(canonical tags, problems)``.

    Aliases become canonical names; duplicates and unknown tags are dropped, order kept, at most 3.
    Unknown tags are a problem only when no known tag remains (``validate_answer`` moves them into the
    answer's new keywords, where the editor sees them).
    """
    if isinstance(tags, str):
        tags = tags.split(",")
    canonical, unknown = canonicalize(vocab, tags)
    if canonical:
        return tuple(canonical[:MAX_TAGS]), []
    listed = ", ".join(vocab.names[:_MAX_LISTED_NAMES]) + (
        ", …" if len(vocab.names) > _MAX_LISTED_NAMES else ""
    )
    choose = f"다음 중에서 1–{MAX_TAGS}개를 고를 것: {listed}"
    if unknown:
        return (), [f"어휘집에 없는 태그만 있음 ({', '.join(unknown)}): {choose}"]
    return (), [f"태그가 없음: {choose}"]


def _clean_keywords(raw: Any, vocab: VocabularyLike) -> tuple[str, ...]:
    """The model's new-keyword suggestions: strings, control characters removed, ≤40 chars, ≤5, and
    not already in the vocabulary (those are tags, not news)."""
    if not isinstance(raw, list):
        return ()
    kept: list[str] = []
    seen: set[str] = set()
    for item in raw:
        if not isinstance(item, str):
            continue
        cleaned = "".join(ch for ch in item if not unicodedata.category(ch).startswith("C"))
        keyword = " ".join(cleaned.split())
        if not keyword or len(keyword) > MAX_KEYWORD_CHARS or keyword.casefold() in seen:
            continue
        if vocab.canonical(keyword) is not None:
            continue
        seen.add(keyword.casefold())
        kept.append(keyword)
        if len(kept) == MAX_NEW_KEYWORDS:
            break
    return tuple(kept)


# -- the day's overview -------------------------------------------------------------------------------

_COUNT = re.compile(r"\s?(?:편|개|건|가지|종)")


def validate_overview(text: str, *, max_sentences: int = 2) -> list[str]:
    """Problems of the day's overview (1–2 sentences of 합니다체 Korean, counts only); [] when fine."""
    text = " ".join(text.split())
    if not text:
        return ["개요가 비어 있음"]
    problems: list[str] = []
    korean, share = _korean(text)
    if not korean:
        problems.append(f"한국어 문장이 아님 (한글 {share:.0%}, 50% 이상이어야 함)")
    if not text.endswith("니다."):
        problems.append("합니다체('…니다.')로 끝나야 함")
    sentences = _sentence_count(text)
    if sentences > max_sentences:
        problems.append(f"문장이 너무 많음 ({sentences}문장, 최대 {max_sentences}문장)")
    problems += _markup_problems(text)
    if _has_control(text):
        problems.append("보이지 않는 제어 문자가 있음")
    # Names with digits ("GLM-5", "3D") are fine; a bare number must be a count ("12편").
    stray = [
        n.text
        for n in _numbers(text)
        if not any(c.isalpha() for c in n.token) and not _COUNT.match(text, n.end)
    ]
    if stray:
        problems.append(f"논문 수 외의 숫자가 있음 ({', '.join(stray)}): 'N편' 같은 개수만 쓸 것")
    return problems


# -- problem classes (for `paper-digest eval`) --------------------------------------------------------------

# The first words of each problem this module writes, and the class they belong to. Order matters: the first
# match wins ("초록이 주장하지 않는 '최초'" before the generic number checks).
_PROBLEM_CLASSES = (
    ("응답에서 완결된 JSON", "format"), ("summary 필드", "format"), ("tags가 문자열", "format"),
    ("요약이 비어", "empty"), ("모델이 초록에서", "declined"), ("줄바꿈", "newline"),
    ("한국어 문장이 아님", "not_korean"), ("너무 짧음", "length"), ("너무 김", "length"),
    ("URL", "markup"), ("Markdown", "markup"), ("HTML", "markup"), ("이모지", "markup"),
    ("요약 전체를 따옴표", "quotes"), ("따옴표가 있음", "quotes"), ("보이지 않는 제어", "control"),
    ("요약이 아니라 지시문", "not_a_summary"), ("두 문장 이상", "two_sentences"), ("두 문장을 쉼표", "comma_splice"),
    ("해라체", "register"), ("합니다체", "register"), ("불필요한 주어", "filler"), ("과장 표현", "hype"),
    ("초록이 주장하지 않는 최고", "sota"), ("초록에 없는 '최첨단'", "sota"), ("초록이 주장하지 않는", "first"),
    ("번역투", "translationese"), ("'…를 통해'", "translationese"), ("띄어쓰기", "spacing"),
    ("초록에 없는 영어 구절", "english"), ("초록에 없는 숫자", "number"), ("숫자의 단위", "unit"),
    ("어휘집에 없는 태그", "tags"), ("태그가 없음", "tags"),
)  # fmt: skip


def problem_class(problem: str) -> str:
    """The class of one problem this module reported ("number", "unit", "sota", …; "other" if unknown)."""
    text = problem.strip()
    return next((name for prefix, name in _PROBLEM_CLASSES if text.startswith(prefix)), "other")
