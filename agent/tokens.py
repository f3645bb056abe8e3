"""Token counts and prices for the budget and the run report.

Counting is exact with tiktoken when the model's encoding is known and its BPE file is already on disk.
Otherwise it falls back to an estimate and says so once per process: these machines are offline, and
tiktoken would otherwise try to download the file at first use.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import tempfile
import threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from agent.config import DEFAULT_PRICES, Price

if TYPE_CHECKING:
    import tiktoken

log = logging.getLogger("paper-digest")

# Longest prefix wins; a prefix must be followed by the end of the name or a separator ("gpt-4" is not
# a prefix of "gpt-4o"). Mirrors tiktoken.model without importing tiktoken to ask.
_ENCODING_PREFIXES: dict[str, str] = {
    "gpt-5": "o200k_base",
    "gpt-4.5": "o200k_base",
    "gpt-4.1": "o200k_base",
    "gpt-4o": "o200k_base",
    "chatgpt-4o": "o200k_base",
    "o1": "o200k_base",
    "o3": "o200k_base",
    "o4": "o200k_base",
    "gpt-4": "cl100k_base",
    "gpt-3.5": "cl100k_base",
}

# Where tiktoken_ext.openai_public loads each file from, and the sha256 it insists on. tiktoken caches
# a file as sha1(url) in its cache dir; a missing or mismatching file makes it fetch the URL.
_BPE_FILES: dict[str, tuple[str, str]] = {
    "o200k_base": (
        "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
        "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
    ),
    "cl100k_base": (
        "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
        "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
    ),
}

# OpenAI cookbook: every message costs 3 tokens of framing, a "name" 1 more, and the reply is primed
# with 3 (<|start|>assistant<|message|>).
_TOKENS_PER_MESSAGE = 3
_TOKENS_PER_NAME = 1
_REPLY_PRIMING = 3

_lock = threading.Lock()
_encodings: dict[str, tiktoken.Encoding | None] = {}  # None: tried, not available in this process
_warned = False


def encoding_name_for(model: str) -> str | None:
    """The tiktoken encoding of an OpenAI model name (``openai/`` and ``ft:`` forms too), else None."""
    name = model.strip().lower().rsplit("/", 1)[-1].removeprefix("ft:")
    match = _longest_prefix(name, _ENCODING_PREFIXES, separators="-.:_@")
    return _ENCODING_PREFIXES[match] if match else None


def count_tokens(messages: Sequence[Mapping[str, str]] | str, model: str) -> tuple[int, bool]:
    """Prompt tokens of chat ``messages`` (or of one plain string) for ``model``: ``(tokens, exact)``.

    ``exact`` is False when the count is an estimate: the model's encoding is unknown or its BPE file
    is not in the tiktoken cache. The first estimate of the process logs a warning saying why.
    """
    texts, overhead = _texts(messages)
    encoding_name = encoding_name_for(model)
    encoding = _encoding(encoding_name) if encoding_name else None
    if encoding is None:
        if encoding_name is None:
            _warn_once(f"no tokenizer known for model {model!r}; token counts are estimates")
        else:
            _warn_once(
                f"tiktoken file for {encoding_name} is not cached (set TIKTOKEN_CACHE_DIR to a directory "
                "holding it); token counts are estimates"
            )
        return overhead + sum(estimate_tokens(t) for t in texts), False
    return overhead + sum(len(encoding.encode(t, disallowed_special=())) for t in texts), True


def estimate_tokens(text: str) -> int:
    """A tokenizer-free estimate that errs high: ~4 ASCII characters a token, a Hangul syllable a token
    (o200k needs ~0.7, cl100k ~1.3), other characters a token per 3 UTF-8 bytes."""
    ascii_chars = hangul = other_bytes = 0
    for ch in text:
        if ch < "\x80":
            ascii_chars += 1
        elif "\uac00" <= ch <= "\ud7a3":
            hangul += 1
        else:
            other_bytes += len(ch.encode("utf-8", "surrogatepass"))
    return math.ceil(ascii_chars / 4 + hangul + other_bytes / 3)


def cost_usd(
    prompt_tokens: int,
    completion_tokens: int,
    model: str,
    prices: Mapping[str, Price],
    cached_prompt_tokens: int = 0,
) -> float | None:
    """USD for one model's usage, or None when ``prices`` has no entry for it. ``cached_prompt_tokens`` (part
    of ``prompt_tokens``) are priced at the cached-input rate when the table has one.

    An exact name wins; else the longest priced name that prefixes ``model`` up to a dated or tagged
    suffix ("gpt-4.1-mini-2025-04-14" → "gpt-4.1-mini"). A dot does not count as a separator, so
    "gpt-5.1" is not priced as "gpt-5": an unknown cost is better than a wrong one.
    """
    price = prices.get(model)
    if price is None:
        lowered = {name.lower(): p for name, p in prices.items()}
        match = _longest_prefix(model.strip().lower(), lowered, separators="-:@")
        if match is None:
            return None
        price = lowered[match]
    cached = min(max(cached_prompt_tokens, 0), prompt_tokens)
    cached_rate = price.input_per_mtok if price.cached_input_per_mtok is None else price.cached_input_per_mtok
    return (
        (prompt_tokens - cached) * price.input_per_mtok
        + cached * cached_rate
        + completion_tokens * price.output_per_mtok
    ) / 1_000_000


def format_usd(amount: float) -> str:
    """Dollars for a person: cents from a cent up ("$1.50"), else the digits that matter ("$0.001", not "$0.00")."""
    if amount >= 0.01 or amount == 0:
        return f"${amount:.2f}"
    small = f"{amount:.6f}".rstrip("0").rstrip(".")
    return f"${small}" if small != "0" else f"${amount:.1e}"


def prices_for_endpoint(prices: Mapping[str, Price], *, local: bool) -> Mapping[str, Price]:
    """The price table that applies at an endpoint. OpenAI's list prices (``DEFAULT_PRICES``) say nothing
    about a server on this machine or the local network: there, only prices the user set count — a model
    not in the built-in table, or one priced differently from it."""
    if not local:
        return prices
    return {name: p for name, p in prices.items() if DEFAULT_PRICES.get(name) != p}


def _texts(messages: Sequence[Mapping[str, str]] | str) -> tuple[list[str], int]:
    if isinstance(messages, str):
        return [messages], 0
    texts: list[str] = []
    overhead = _REPLY_PRIMING
    for message in messages:
        overhead += _TOKENS_PER_MESSAGE
        for key, value in message.items():
            texts.append(value if isinstance(value, str) else str(value))
            if key == "name":
                overhead += _TOKENS_PER_NAME
    return texts, overhead


def _longest_prefix(name: str, table: Mapping[str, object], *, separators: str) -> str | None:
    best: str | None = None
    for prefix in table:
        fits = name == prefix or (name.startswith(prefix) and name[len(prefix)] in separators)
        if fits and (best is None or len(prefix) > len(best)):
            best = prefix
    return best


def _encoding(name: str) -> tiktoken.Encoding | None:
    with _lock:
        if name not in _encodings:
            _encodings[name] = _load(name)
        return _encodings[name]


def _load(name: str) -> tiktoken.Encoding | None:
    if not _bpe_file_cached(name):
        return None
    try:
        import tiktoken
    except ImportError:
        return None
    try:
        return tiktoken.get_encoding(name)
    except Exception as exc:  # a corrupt or unreadable file: estimate rather than fail the run
        log.debug("cannot load tiktoken encoding %s: %s", name, exc)
        return None


def _bpe_file_cached(name: str) -> bool:
    """Whether tiktoken can load ``name`` from its cache alone, by tiktoken.load's own rules."""
    if name not in _BPE_FILES:
        return False
    url, sha256 = _BPE_FILES[name]
    if "TIKTOKEN_CACHE_DIR" in os.environ:
        cache_dir = os.environ["TIKTOKEN_CACHE_DIR"]
    elif "DATA_GYM_CACHE_DIR" in os.environ:
        cache_dir = os.environ["DATA_GYM_CACHE_DIR"]
    else:
        cache_dir = os.path.join(tempfile.gettempdir(), "data-gym-cache")
    if not cache_dir:  # "" turns tiktoken's cache off: every load is a download
        return False
    path = os.path.join(cache_dir, hashlib.sha1(url.encode()).hexdigest())
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return False
    return hashlib.sha256(data).hexdigest() == sha256


def _warn_once(message: str) -> None:
    global _warned
    with _lock:
        if _warned:
            return
        _warned = True
    log.warning(message)


def _reset() -> None:
    """Forget loaded encodings and the warning (tests)."""
    global _warned
    with _lock:
        _encodings.clear()
        _warned = False
