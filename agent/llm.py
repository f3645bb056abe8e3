"""The one seam to the LLM service: an OpenAI-compatible chat endpoint, through the openai SDK.

    client = LLMClient(model="gpt-4.1-mini", on_request=count)  # key, URL: OPENAI_API_KEY, OPENAI_BASE_URL
    completion = await client.complete_json(messages, schema=schema, schema_name="paper_summary")
    completion.data      # the parsed JSON object, or None when the reply was not one
    await client.aclose()

Output format: a strict ``json_schema`` first; a server that rejects it (vLLM, Ollama and others answer
400 or 422) is asked for a ``json_object``, then for plain text, the prompt itself asking for JSON. The
working mode is found once per client, by the first request, while concurrent first calls wait.

HTTP retries are the SDK's own (connection errors, 408/409/429/5xx, honouring Retry-After); every request
it sends, retries included, is counted through an httpx event hook (``requests_sent``, ``on_request``).

Errors: a rejected key or an unknown model raise ``LLMError`` (no retry can help: stop the run). Anything
the next paper may not hit — the endpoint down, rate-limiting or timing out after the retries, or this one
request refused — raises ``LLMUnavailable``: flag the paper and go on. No message ever holds the key.

``openai`` is imported by the constructor only: importing this module is cheap, and a fully cached run,
which never builds a client, never loads the SDK.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from agent.errors import ConfigError, LLMError
from agent.validate import parse_answer

__all__ = ["MODES", "Completion", "LLMClient", "LLMUnavailable", "Mode", "check_credentials"]

log = logging.getLogger("paper-digest")

Mode = Literal["json_schema", "json_object", "text"]
MODES: tuple[Mode, ...] = ("json_schema", "json_object", "text")

# Local servers (Ollama, vLLM, llama.cpp) need no key, but the SDK refuses to start without one.
_NO_KEY = "no-key"
_KEYLIKE = re.compile(r"\b(?:sk|pk|rk|key)-[A-Za-z0-9_\-*]{6,}|\bBearer\s+\S+", re.IGNORECASE)
_FORMAT_WORDS = ("response_format", "json_schema", "json_object", "structured output", "guided")
_UNSUPPORTED_WORDS = ("not supported", "unsupported", "not implemented", "unknown parameter")


class LLMUnavailable(LLMError):
    """This request got no usable answer (endpoint unreachable, rate-limited, timing out or failing after
    the SDK's retries, or this one request refused); other papers may still succeed."""

    def __init__(self, message: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code  # the last HTTP status, None when no response came


def check_credentials(env: Mapping[str, str] | None = None) -> None:
    """ConfigError unless a key or a base URL (Ollama/vLLM need no key) is set; cheap, imports no SDK."""
    env = os.environ if env is None else env
    if not env.get("OPENAI_API_KEY") and not env.get("OPENAI_BASE_URL"):
        raise ConfigError(
            "no LLM credentials: set OPENAI_API_KEY (and OPENAI_BASE_URL for Ollama/vLLM), or pass --no-llm."
        )


@dataclass(frozen=True, slots=True)
class Completion:
    data: dict[str, Any] | None  # the parsed JSON object, None if the reply didn't parse as one
    text: str  # the raw reply text
    prompt_tokens: int
    completion_tokens: int
    mode: Mode  # the output format that produced it
    finish_reason: str | None = None  # "length" means the reply was cut at the token limit


class _Unsupported(Exception):
    """The server refused the requested output format (internal: triggers the next mode)."""


class LLMClient:
    def __init__(
        self,
        *,
        model: str,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float = 60.0,
        max_retries: int = 3,
        temperature: float = 0.2,
        on_request: Callable[[], None] | None = None,
    ) -> None:
        import openai

        if not model or not model.strip():
            raise ConfigError("no model name: pass --model or set [llm] model in paper-digest.toml.")
        self.model = model
        self._timeout = timeout
        self._max_retries = max_retries
        self._temperature: float | None = temperature
        self._on_request = on_request
        self._sent = 0
        self._mode: Mode | None = None
        self._mode_lock = asyncio.Lock()
        self._refused = False  # the server refused json_schema: probe the other formats one at a time

        base_url = base_url or os.environ.get("OPENAI_BASE_URL") or None
        if not (api_key or os.environ.get("OPENAI_API_KEY")):
            check_credentials({"OPENAI_BASE_URL": base_url or ""})
            api_key = _NO_KEY
        http_client = openai.DefaultAsyncHttpxClient(event_hooks={"request": [self._count_request]})
        self._client = openai.AsyncOpenAI(
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            # vcrpy cannot decode zstd, which httpx offers once `zstandard` is importable.
            default_headers={"Accept-Encoding": "gzip"},
            http_client=http_client,
        )
        self._secret = self._client.api_key if self._client.api_key != _NO_KEY else ""

    @property
    def requests_sent(self) -> int:
        """HTTP requests actually sent, SDK retries included."""
        return self._sent

    @property
    def mode(self) -> Mode | None:
        """The output format this endpoint accepts; None until the first answer."""
        return self._mode

    async def _count_request(self, request: Any) -> None:
        self._sent += 1
        if self._on_request is not None:
            self._on_request()

    async def aclose(self) -> None:
        await self._client.close()

    async def complete_json(
        self, messages: list[dict[str, str]], *, schema: dict[str, Any], schema_name: str
    ) -> Completion:
        """One chat completion asking for a JSON object; ``data`` is None when the reply is not one."""
        if self._mode is None and not self._refused:
            # Optimistic first round: strict json_schema is what OpenAI and most servers accept, so the
            # first calls do not queue behind one probe (that would cost a whole round trip per run).
            try:
                completion = await self._complete(MODES[0], messages, schema, schema_name, probing=True)
            except _Unsupported:
                self._refused = True  # fall through to the one-at-a-time probe of the other formats
            else:
                self._mode = self._mode or MODES[0]
                return completion
        if self._mode is None:
            async with self._mode_lock:
                if self._mode is None:
                    return await self._probe(messages, schema, schema_name, MODES[1:])
        return await self._complete(self._mode, messages, schema, schema_name, probing=False)

    async def _probe(
        self, messages: list[dict[str, str]], schema: dict[str, Any], name: str, modes: tuple[Mode, ...] = MODES
    ) -> Completion:
        for mode in modes:
            try:
                completion = await self._complete(mode, messages, schema, name, probing=True)
            except _Unsupported:
                log.info("the LLM endpoint does not accept %s output; trying the next format", mode)
                continue
            self._mode = mode
            return completion
        raise AssertionError("text mode never raises _Unsupported")  # pragma: no cover

    async def _complete(
        self, mode: Mode, messages: list[dict[str, str]], schema: dict[str, Any], name: str, *, probing: bool
    ) -> Completion:
        import openai

        kwargs: dict[str, Any] = {"model": self.model, "messages": messages}
        if self._temperature is not None:
            kwargs["temperature"] = self._temperature
        if mode == "json_schema":
            kwargs["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": name, "strict": True, "schema": schema},
            }
        elif mode == "json_object":
            kwargs["response_format"] = {"type": "json_object"}
        try:
            response = await self._client.chat.completions.create(**kwargs)
        except openai.APIStatusError as exc:
            text = _error_text(exc)
            if exc.status_code == 400 and self._temperature is not None and "temperature" in text:
                # Reasoning models accept only their default temperature: drop it for this client.
                log.info("the model rejects temperature=%s; sending none", self._temperature)
                self._temperature = None
                return await self._complete(mode, messages, schema, name, probing=probing)
            if probing and mode != "text" and _format_refused(exc.status_code, text):
                raise _Unsupported from exc
            raise self._error(exc) from None
        except openai.APIError as exc:
            raise self._error(exc) from None

        choice = response.choices[0] if response.choices else None
        message = choice.message if choice else None
        reply = (message.content or message.refusal or "") if message else ""
        usage = response.usage
        return Completion(
            data=parse_answer(reply),
            text=reply,
            prompt_tokens=(usage.prompt_tokens or 0) if usage else 0,
            completion_tokens=(usage.completion_tokens or 0) if usage else 0,
            mode=mode,
            finish_reason=choice.finish_reason if choice else None,
        )

    def _error(self, exc: Exception) -> LLMError:
        """One line saying what failed and what to do; never the key, never a traceback."""
        import openai

        retries = f"after {self._max_retries} retries"
        if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
            return LLMError(f"the LLM endpoint rejected the API key (HTTP {exc.status_code}); check OPENAI_API_KEY.")
        if isinstance(exc, openai.NotFoundError):
            return LLMError(
                f"the LLM endpoint does not serve model {self.model!r} (HTTP 404); "
                "pass a model it serves with --model, or check OPENAI_BASE_URL."
            )
        if isinstance(exc, openai.APITimeoutError):
            return LLMUnavailable(
                f"the LLM endpoint did not answer within {self._timeout:g}s ({retries}); "
                "try again later or raise [llm] timeout_s."
            )
        if isinstance(exc, openai.APIConnectionError):
            return LLMUnavailable(f"cannot reach the LLM endpoint ({retries}); check OPENAI_BASE_URL and the network.")
        if isinstance(exc, openai.APIStatusError):
            status = exc.status_code
            if status == 429 and exc.code == "insufficient_quota":
                return LLMError("the LLM account has no quota left (HTTP 429 insufficient_quota); check its billing.")
            if status == 429:
                return LLMUnavailable(
                    f"the LLM endpoint is rate-limiting requests (HTTP 429 {retries}); "
                    "lower --concurrency or try again later.",
                    status,
                )
            if status >= 500:
                return LLMUnavailable(f"the LLM endpoint failed (HTTP {status} {retries}); try again later.", status)
            detail = self._scrub(exc.message)
            return LLMUnavailable(f"the LLM endpoint refused the request (HTTP {status}: {detail}).", status)
        return LLMUnavailable(f"the LLM request failed ({type(exc).__name__}: {self._scrub(str(exc))}).")

    def _scrub(self, text: str, limit: int = 160) -> str:
        text = " ".join(str(text).split())
        if self._secret:
            text = text.replace(self._secret, "***")
        text = _KEYLIKE.sub("***", text)
        return text if len(text) <= limit else text[: limit - 1] + "…"


def _error_text(exc: Any) -> str:
    body = exc.body if isinstance(exc.body, dict | str) else ""
    return f"{exc.message} {json.dumps(body) if isinstance(body, dict) else body}".lower()


def _format_refused(status: int, text: str) -> bool:
    """Does this error mean "I cannot produce that output format"?"""
    if status == 422:  # FastAPI-style servers reject an unknown response_format shape
        return True
    if status in (400, 501):
        return any(w in text for w in _FORMAT_WORDS) or any(w in text for w in _UNSUPPORTED_WORDS)
    return False
