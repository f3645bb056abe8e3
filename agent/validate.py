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
from dataclasses import dataclass
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
    if raw_tags is None or isinstance(raw_tags, str):
        tags, tag_problems = validate_tags(raw_tags or "", vocab)
    elif isinstance(raw_tags, list):
        tags, tag_problems = validate_tags([t for t in raw_tags if isinstance(t, str)], vocab)
    else:
        tags, tag_problems = (), ["tags가 문자열 목록이 아님"]
    problems += tag_problems

    keywords = _clean_keywords(answer.get("new_keywords"), vocab)
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
_HYPE = re.compile(r"혁신적|획기적|놀라운|놀랍|압도적|전례\s?없|혁명적|게임\s?체인저|괄목할")
_FIRST = re.compile(r"최초")
_FIRST_CLAIM = re.compile(r"\b(?:the|a) first\b|\bfirst (?:to|time)\b|\bpioneer", re.IGNORECASE)
_SOTA = re.compile(
    r"(?<![A-Za-z])SOTA(?![A-Za-z])|state[- ]of[- ]the[- ]art"
    r"|최고\s?(?:의\s)?(?:성능|수준)|최첨단|세계\s?최고",
    re.IGNORECASE,
)
_SOTA_CLAIM = re.compile(r"state[- ]of[- ]the[- ]art|\bSOTA\b|\bbest\b", re.IGNORECASE)
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
    korean, share = _korean(text)
    if not korean:
        problems.append(f"한국어 문장이 아님 (한글 {share:.0%}, 50% 이상이어야 함)")
    if len(text) < min_chars:
        problems.append(f"너무 짧음 ({len(text)}자, 최소 {min_chars}자)")
    elif len(text) > max_chars:
        problems.append(f"너무 김 ({len(text)}자, 최대 {max_chars}자)")
    problems += _markup_problems(text)
    core = text  # what the style checks read: the sentence inside any wrapping quotes
    if len(text) > 2 and text[0] in _QUOTES and text.rstrip(".")[-1] == _QUOTES[text[0]]:
        problems.append("요약 전체를 따옴표로 감쌈: 따옴표 없이 쓸 것")
        core = text.strip(_QUOTE_CHARS + ".") + "."
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

    invented = invented_numbers(text, abstract)
    if invented:
        problems.append(f"초록에 없는 숫자: {', '.join(invented)} (초록의 숫자만 그대로 쓸 것)")
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
    hype = _HYPE.search(text)
    if hype:
        problems.append(f"과장 표현 '{hype.group(0)}'")
    if _FIRST.search(text) and not _FIRST_CLAIM.search(abstract):
        problems.append("초록이 주장하지 않는 '최초' 표현")
    sota = _SOTA.search(text)
    if sota and not _SOTA_CLAIM.search(abstract):
        problems.append(f"초록이 주장하지 않는 최고 성능 표현 '{sota.group(0)}'")
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


def _markup_problems(text: str) -> list[str]:
    problems: list[str] = []
    url = _URL.search(text)
    if url:
        problems.append(f"URL이 있음 ({url.group(0)}): 링크 없이 쓸 것")
    for pattern, label in _MARKDOWN:
        found = pattern.search(text)
        if found:
            problems.append(f"Markdown 문법이 있음 ({label or found.group(0).strip()}): 일반 텍스트로 쓸 것")
            break
    html = _HTML.search(text)
    if html:
        problems.append(f"HTML 태그가 있음 ({html.group(0)})")
    emoji = next((ch for ch in text if _is_emoji(ch)), None)
    if emoji:
        problems.append(f"이모지가 있음 ({emoji})")
    return problems


def hangul_share(text: str) -> float:
    """Hangul syllables as a share of all letters (Latin names and acronyms count as letters)."""
    letters = hangul = 0
    for ch in text:
        if _is_hangul(ch):
            hangul += 1
            letters += 1
        elif unicodedata.category(ch).startswith("L"):
            letters += 1
    return hangul / letters if letters else 0.0


def _korean(text: str) -> tuple[bool, float]:
    """Whether ``text`` is a Korean sentence, and its Hangul share of letters (URLs left out).

    Hangul must be at least half the letters. A sentence dense with names ("GLM-5는 SWE-bench Verified와
    Terminal-Bench 2.0에서 …") may fall below that and still be Korean: it passes when most words hold
    Hangul and every Latin-only word looks like a name or acronym (has a capital or a digit), which an
    English sentence never does.
    """
    text = _URL.sub(" ", text)
    share = hangul_share(text)
    if share >= MIN_HANGUL_SHARE:
        return True, share
    words = [w for w in text.split() if any(ch.isalpha() for ch in w)]
    korean = [w for w in words if any(_is_hangul(ch) for ch in w)]
    names = all(re.search(r"[A-Z0-9]", w) for w in words if w not in korean and re.search(r"[A-Za-z]", w))
    return bool(words) and 2 * len(korean) >= len(words) and names, share


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


_ABBREVIATIONS = ("vs", "al", "e.g", "i.e", "etc", "cf", "approx", "fig", "no")
_SENTENCE_END = re.compile(r"[.!?。](?=\s+\S)|[가-힣][.!?](?=[가-힣A-Za-z])")


def _sentence_count(text: str) -> int:
    """Sentences in ``text``: ends followed by more text, plus the last one. Decimals do not end one."""
    count = 1
    for end in _SENTENCE_END.finditer(text):
        stop = end.end() - 1
        before = text[:stop].rsplit(None, 1)[-1].lower() if text[:stop].strip() else ""
        if before.rstrip(".") in _ABBREVIATIONS:
            continue
        count += 1
    return count


def _comma_splice(text: str) -> str | None:
    """A clause closed with a declarative '…다,' and glued to the next ("…를 제안한다, 또한 …")."""
    for match in re.finditer(r"([가-힣])다,\s", text):
        syllable = match.group(1)
        if syllable in "는었았였했있없겠" or _jongseong(syllable) == 4:  # 4 = ㄴ: 한다, 보인다, 된다
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
_KOREAN_SCALE = {"천": 3, "만": 4, "억": 8, "조": 12}
_SMALL_NUMBERS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen twenty"
)
_NUMBER_WORDS = {word: n for n, word in enumerate(_SMALL_NUMBERS.split())} | {
    "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
    "hundred": 100, "thousand": 1000, "twice": 2, "double": 2, "doubles": 2, "triple": 3, "dozen": 12,
    # ordinals and fractions: "two-thirds" ↔ "3분의 2", "the third stage" ↔ "3단계"
    "first": 1, "half": 2, "halves": 2, "third": 3, "thirds": 3, "quarter": 4, "quarters": 4,
    "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10,
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Num:
    text: str
    values: frozenset[Decimal]  # the value and its scaled forms ("2.1B" → 2.1 and 2.1e9)
    glued: bool  # part of a name: Latin letters before it in the same token ("GPT-4o", "Qwen2.5")
    token: str  # the Latin/digit run holding it
    end: int  # where that run ends in the text


def invented_numbers(summary: str, abstract: str) -> list[str]:
    """Numbers in ``summary`` that ``abstract`` does not state, as written in the summary.

    A name that contains digits ("GLM-5", "Qwen2.5-7B", "3D") is fine when the abstract has it verbatim.
    Otherwise a standalone number must be a standalone number of the abstract (24% ↔ "24%", "1,000" ↔
    "1000", "3.5배" ↔ "3.5x", "2.1B" ↔ "2.1 billion", "3만" ↔ "30K", "3개" ↔ "three"); digits of a
    name only need to appear somewhere in the abstract.
    """
    source = _numbers(abstract)
    standalone: set[Decimal] = set().union(*(n.values for n in source if not n.glued))
    standalone |= _number_words(abstract)
    anywhere: set[Decimal] = standalone.union(*(n.values for n in source))
    invented: list[str] = []
    for num in _numbers(summary, korean_scale=True):
        if any(c.isalpha() for c in num.token) and _verbatim(num.token, abstract):
            continue
        pool = anywhere if num.glued else standalone
        if not num.values & pool and num.text not in invented:
            invented.append(num.text)
    return invented


def _numbers(text: str, *, korean_scale: bool = False) -> list[_Num]:
    found: list[_Num] = []
    for token in _TOKEN.finditer(text):
        word = token.group(0)
        for number in _NUMBER.finditer(word):
            value = _decimal(number.group(0))
            if value is None:
                continue
            values = {value}
            after_in_token = word[number.end() :]
            after_token = text[token.end() :]
            unit = _UNIT.match(after_in_token)
            if unit and len(unit.group(0)) == 1 and unit.group(0).lower() in _LATIN_SCALE:
                values.add(value.scaleb(_LATIN_SCALE[unit.group(0).lower()]))
            if not after_in_token:
                words = _WORD_SCALE.match(after_token)
                if words:
                    values.add(value.scaleb(_WORD_SCALES[words.group(1).lower()]))
                if korean_scale and after_token[:1] in _KOREAN_SCALE:
                    values.add(value.scaleb(_KOREAN_SCALE[after_token[0]]))
            glued = any(c.isalpha() for c in word[: number.start()])
            found.append(_Num(number.group(0), frozenset(values), glued, word, token.end()))
    return found


def _decimal(text: str) -> Decimal | None:
    try:
        return Decimal(text.replace(",", "")).normalize()
    except InvalidOperation:  # pragma: no cover - _NUMBER only matches digits
        return None


def _number_words(text: str) -> set[Decimal]:
    values: set[Decimal] = set()
    for word in re.findall(r"[a-z]+", text.lower()):
        n = _NUMBER_WORDS.get(word.removesuffix("fold"))
        if n is not None:
            values.add(Decimal(n))
    return values


def _verbatim(token: str, text: str) -> bool:
    return re.search(rf"(?<![A-Za-z0-9]){re.escape(token)}(?![A-Za-z0-9])", text, re.IGNORECASE) is not None


# -- tags and keywords --------------------------------------------------------------------------------

_MAX_LISTED_NAMES = 80  # the whole vocabulary, unless it has grown past reason


def validate_tags(tags: Sequence[str], vocab: VocabularyLike) -> tuple[tuple[str, ...], list[str]]:
    """Map tags through the vocabulary: ``(canonical tags, problems)``.

    Aliases become canonical names; duplicates and unknown tags are dropped, order kept, at most 3.
    Unknown tags are a problem only when no known tag remains.
    """
    if isinstance(tags, str):
        tags = tags.split(",")
    canonical, unknown = canonicalize(vocab, tags)
    if canonical:
        return tuple(canonical[:MAX_TAGS]), []
    listed = ", ".join(vocab.names[:_MAX_LISTED_NAMES]) + (
        ", …" if len(vocab.names) > _MAX_LISTED_NAMES else ""
    )
    choose = f"다음 중에서 1–3개를 고를 것: {listed}"
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
