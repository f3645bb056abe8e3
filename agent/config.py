"""Configuration: ``paper-digest.toml`` (``--config``, else ./paper-digest.toml when present) over defaults.

Flags beat the environment, which beats the file, which beats the defaults below.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from agent.checks import CheckError, Kind, check, spec_of, toml_line
from agent.errors import ConfigError

DEFAULT_CONFIG_FILE = "paper-digest.toml"
DEFAULT_MODEL = "gpt-4.1-mini"


@dataclass(frozen=True, slots=True)
class Price:
    input_per_mtok: float  # USD per 1M prompt tokens
    output_per_mtok: float  # USD per 1M completion tokens
    cached_input_per_mtok: float | None = None  # USD per 1M prompt tokens read from the prompt cache; None: input


# OpenAI's list prices (cached input: what prompt caching charges for a reused prefix of 1,024+ tokens). They
# price OpenAI's endpoint only: for a local OPENAI_BASE_URL server a model is priced only by [llm.prices].
DEFAULT_PRICES: dict[str, Price] = {
    "gpt-4.1": Price(2.00, 8.00, 0.50),
    "gpt-4.1-mini": Price(0.40, 1.60, 0.10),
    "gpt-4.1-nano": Price(0.10, 0.40, 0.025),
    "gpt-4o": Price(2.50, 10.00, 1.25),
    "gpt-4o-mini": Price(0.15, 0.60, 0.075),
    "gpt-5": Price(1.25, 10.00, 0.125),
    "gpt-5-mini": Price(0.25, 2.00, 0.025),
    "gpt-5-nano": Price(0.05, 0.40, 0.005),
}


@dataclass(frozen=True, slots=True)
class PostConfig:
    author: str = "lim4349"
    categories: tuple[str, ...] = ("Daily Papers", "일간")
    base_tags: tuple[str, ...] = ("huggingface", "papers", "daily", "ai")
    timezone: str = "Asia/Seoul"
    post_time: str = "09:15:00"  # HH:MM:SS in `timezone`
    top_n: int = 0  # 0 = every paper of the day
    # Chirpy front matter, each harmless under a plain theme; leave a name out to drop its line
    # (agent.render.CHIRPY_EXTRAS says what each writes).
    chirpy: tuple[str, ...] = ("image", "pin", "slug")


@dataclass(frozen=True, slots=True)
class LLMConfig:
    model: str = DEFAULT_MODEL
    temperature: float = 0.2
    concurrency: int = 4
    max_retries: int = 3  # the SDK's own retries (connection errors, 408/409/429/5xx, Retry-After)
    timeout_s: float = 60.0
    summary_min_chars: int = 20
    summary_max_chars: int = 120
    budget_usd: float = 0.0  # 0 = no budget
    verify: bool = False  # ask the LLM once more whether each validated line is faithful to its abstract
    prices: dict[str, Price] = field(default_factory=lambda: dict(DEFAULT_PRICES))


@dataclass(frozen=True, slots=True)
class Config:
    post: PostConfig = field(default_factory=PostConfig)
    llm: LLMConfig = field(default_factory=LLMConfig)
    out_dir: Path = Path("outputs")
    hf_endpoint: str = "https://huggingface.co"
    hf_token: str | None = None
    hf_max_attempts: int = 5  # HF API retries on 429/5xx/connection errors (Retry-After honoured)
    hf_backoff_s: float = 1.0  # first wait without a Retry-After; doubles per attempt
    cache_dir: Path | None = None  # None = the platform user cache dir
    blog_dir: Path | None = None  # set: the blog layout there instead of out_dir's (agent.layout)


_SECTIONS: dict[str, dict[str, Kind]] = {
    "post": spec_of(PostConfig),
    "llm": spec_of(LLMConfig, prices="table"),
    "hf": {"endpoint": "str", "max_attempts": "int", "backoff_s": "number"},
    "output": {"dir": "str"},
    "cache": {"dir": "str"},
    "blog": {"dir": "str"},
}
_PRICE_SPEC: dict[str, Kind] = {"input": "number", "output": "number", "cached_input": "number"}


def _sections(raw: dict[str, Any], text: str, where: str) -> dict[str, dict[str, Any]]:
    """Every section of the file checked against _SECTIONS; ConfigError naming the line."""

    def fail(table: str | None, key: str | None, problem: str) -> ConfigError:
        line = toml_line(text, table, key)
        at = f"{where} line {line}" if line else where
        return ConfigError(f"{at}: {f'[{table}] ' if table else ''}{problem}; fix the file.")

    try:
        check(raw, {name: "table" for name in _SECTIONS})
    except CheckError as exc:
        if exc.key is not None and exc.key in _SECTIONS:
            raise fail(None, exc.key, f"[{exc.key}] must be a table of settings") from None
        raise fail(None, exc.key, f"unknown section(s) {', '.join(sorted(set(raw) - set(_SECTIONS)))}") from None
    values: dict[str, dict[str, Any]] = {}
    for name, spec in _SECTIONS.items():
        try:
            values[name] = check(raw.get(name, {}), spec)
        except CheckError as exc:
            raise fail(name, exc.key, str(exc)) from None
    prices: dict[str, Price] = {}
    for model, entry in values["llm"].pop("prices", {}).items():
        try:
            price = check(entry, _PRICE_SPEC, required=("input", "output"))
        except CheckError as exc:
            raise fail("llm.prices", model, f"{model}: {exc} (expected {{input = USD/1M, output = USD/1M}})") from None
        prices[model] = Price(price["input"], price["output"], price.get("cached_input"))
    if prices:
        values["llm"]["prices"] = {**DEFAULT_PRICES, **prices}
    return values


def load_config(path: Path | None = None, env: dict[str, str] | None = None) -> Config:
    env = dict(os.environ) if env is None else env
    explicit = path is not None
    path = path or Path(DEFAULT_CONFIG_FILE)
    raw: dict[str, Any] = {}
    text = ""
    if path.exists():
        try:
            text = path.read_text(encoding="utf-8")
            raw = tomllib.loads(text)
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot read config {path}: {exc}; fix the file.") from exc
        except RecursionError:
            raise ConfigError(f"cannot read config {path}: values nested too deeply; fix the file.") from None
    elif explicit:
        raise ConfigError(f"config file {path} does not exist.")

    where = str(path)
    sections = _sections(raw, text, where)
    post = PostConfig(**sections["post"])
    llm = LLMConfig(**sections["llm"])
    hf, output, cache, blog = sections["hf"], sections["output"], sections["cache"], sections["blog"]
    cfg = Config(
        post=post,
        llm=llm,
        out_dir=Path(output.get("dir", "outputs")),
        hf_endpoint=hf.get("endpoint", "https://huggingface.co"),
        hf_max_attempts=hf.get("max_attempts", 5),
        hf_backoff_s=hf.get("backoff_s", 1.0),
        cache_dir=Path(cache["dir"]) if cache.get("dir") else None,
        blog_dir=Path(blog["dir"]) if blog.get("dir") else None,
    )
    # The environment beats the file.
    if env.get("HF_ENDPOINT"):
        cfg = replace(cfg, hf_endpoint=env["HF_ENDPOINT"])
    if env.get("HF_TOKEN"):
        cfg = replace(cfg, hf_token=env["HF_TOKEN"])
    if env.get("PAPER_DIGEST_CACHE_DIR"):
        cfg = replace(cfg, cache_dir=Path(env["PAPER_DIGEST_CACHE_DIR"]))
    if env.get("PAPER_DIGEST_BLOG_DIR"):
        cfg = replace(cfg, blog_dir=Path(env["PAPER_DIGEST_BLOG_DIR"]))
    if env.get("PAPER_DIGEST_MODEL"):
        cfg = replace(cfg, llm=replace(cfg.llm, model=env["PAPER_DIGEST_MODEL"]))
    _check(cfg, where)
    return cfg


def _check(cfg: Config, where: str) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(cfg.post.timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"{where} [post] timezone {cfg.post.timezone!r} is not a known time zone.") from exc
    try:  # HH:MM[:SS] only: the renderer prints it as is, with the zone's offset after it
        if not re.fullmatch(r"\d\d:\d\d(?::\d\d)?", cfg.post.post_time):
            raise ValueError
        dt.time.fromisoformat(cfg.post.post_time)
    except ValueError:
        raise ConfigError(f"{where} [post] post_time must be a time like 09:15:00.") from None
    llm = cfg.llm
    for name, value, low, high in (
        ("[llm] temperature", llm.temperature, 0.0, 2.0),
        ("[llm] timeout_s", llm.timeout_s, 0.001, 3600.0),
        ("[llm] budget_usd", llm.budget_usd, 0.0, 1e6),
        ("[hf] backoff_s", cfg.hf_backoff_s, 0.0, 600.0),
    ):
        if not (math.isfinite(value) and low <= value <= high):
            raise ConfigError(f"{where} {name} must be a number from {low:g} to {high:g}, not {value!r}.")
    if llm.max_retries < 0:
        raise ConfigError(f"{where} [llm] max_retries must be 0 or more.")
    for model, price in llm.prices.items():
        values = (price.input_per_mtok, price.output_per_mtok, price.cached_input_per_mtok or 0.0)
        if not all(math.isfinite(v) and v >= 0 for v in values):
            raise ConfigError(f"{where} [llm.prices] {model}: prices must be finite and not negative.")
    unknown = sorted(set(cfg.post.chirpy) - {"image", "pin", "slug"})
    if unknown:
        raise ConfigError(f"{where} [post] chirpy: unknown name(s) {', '.join(unknown)}; known: image, pin, slug.")
    if cfg.post.top_n < 0:
        raise ConfigError(f"{where} [post] top_n must be 0 (all) or a positive number.")
    if cfg.hf_max_attempts < 1 or cfg.hf_backoff_s < 0:
        raise ConfigError(f"{where} [hf] max_attempts must be at least 1 and backoff_s not negative.")
    if cfg.llm.concurrency < 1:
        raise ConfigError("concurrency must be at least 1.")
    if not 1 <= cfg.llm.summary_min_chars < cfg.llm.summary_max_chars:
        raise ConfigError(f"{where} [llm] summary_min_chars must be below summary_max_chars.")
