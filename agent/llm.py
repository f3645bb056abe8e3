"""The one seam to the LLM service: a ``ChatClient`` (messages + schema in, text + usage out).

    client = make_client(cfg.llm)                        # key, URL: OPENAI_API_KEY, OPENAI_BASE_URL
    reply = await client.complete(messages, schema=schema, schema_name="paper_summary", max_tokens=644,
                                  cache_key="paper-digest-paper_summary-<prompt version>")
    reply.text, reply.usage.prompt_tokens, reply.usage.cached_prompt_tokens, client.requests_sent
    await client.aclose()

Nothing is parsed here: the reply's text goes to agent.validate, once. A new provider is one more class
with ``complete``/``aclose``/``requests_sent``/``endpoint`` and a branch in ``make_client``.

``OpenAIChat`` (the openai SDK) asks for a strict ``json_schema`` first; a server that rejects it (vLLM,
Ollama and others answer 400 or 422) is asked for a ``json_object``, then for plain text, the prompt itself
asking for JSON. The working mode is found once per client, by the first request, while concurrent first
calls wait. An optional parameter the server refuses by name (``temperature`` for reasoning models,
``max_tokens`` where only ``max_completion_tokens`` is accepted, ``prompt_cache_key``) is dropped or renamed
for the rest of the run. Reasoning models (o-series, gpt-5) get ``max_completion_tokens`` from the start, with
``REASONING_ALLOWANCE`` tokens of room beside the answer's cap.

HTTP retries are the SDK's own (connection errors, 408/409/429/5xx, honouring Retry-After). Under the SDK, one
transport (``_transport()``) counts every request it sends, retries included (``requests_sent``), holds every
attempt to an overall deadline of ``timeout`` seconds — headers *and* body: a server trickling a byte at a
time cannot keep a request open past it — refuses bodies over ``MAX_REPLY_BYTES`` (asked for uncompressed,
``Accept-Encoding: identity``, so the cap holds for what is decoded), and trips a circuit breaker after
``breaker_after`` consecutive attempts without any answer (timeouts, refused connections): from then on
nothing is sent, every call fails at once with ``kind="breaker"``.

Errors: a rejected key or an unknown model raise ``LLMError`` (no retry can help: stop the run). Anything the
next paper may not hit raises ``LLMUnavailable`` with a ``kind``: ``unreachable``/``timeout``/``breaker``
(the endpoint itself is failing: ``endpoint_down``), ``server`` (5xx), ``rate_limited`` (429), ``refused``
(another 4xx for this request), ``malformed`` (a 200 whose body is not a chat completion). No message holds
the key; endpoints are shown without userinfo or query (``display_endpoint``).

``openai`` is imported by ``OpenAIChat`` only: importing this module is cheap, and a fully cached run, which
never builds a client, never loads the SDK. ``preload()`` imports it (and the prompt renderer) in a
background thread, to overlap a network wait before the first request.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import os
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol
from urllib.parse import urlsplit

from agent.errors import ConfigError, LLMError, MissingCredentials

if TYPE_CHECKING:
    import httpx2

    from agent.config import LLMConfig

__all__ = [
    "BREAKER_AFTER",
    "MODES",
    "ChatClient",
    "ChatReply",
    "EndpointDown",
    "LLMUnavailable",
    "Mode",
    "OpenAIChat",
    "TokenUsage",
    "check_credentials",
    "display_endpoint",
    "endpoint_host",
    "is_local_endpoint",
    "make_client",
    "mask_key",
    "masked_key",
    "preload",
]

log = logging.getLogger("paper-digest")

Mode = Literal["json_schema", "json_object", "text"]
MODES: tuple[Mode, ...] = ("json_schema", "json_object", "text")
Kind = Literal["unreachable", "timeout", "breaker", "server", "rate_limited", "refused", "malformed"]
Message = Mapping[str, str]

DEFAULT_BASE_URL = "https://api.openai.com/v1"
BREAKER_AFTER = 4  # consecutive attempts without an answer before the breaker opens
MAX_REPLY_BYTES = 1_000_000  # a chat completion capped by max_tokens is a few KB
MAX_TOKEN_COUNT = 100_000_000  # a usage figure above this is not a real count
# Reasoning models (o-series, gpt-5) take max_completion_tokens, which also counts their hidden reasoning: the
# answer's own cap plus this much room to think (billed only as used; an over-long answer is still refused).
REASONING_ALLOWANCE = 4096
_REASONING_MODEL = re.compile(r"^(?:o\d|gpt-5)(?![\w.]*-chat)", re.IGNORECASE)

# Local servers (Ollama, vLLM, llama.cpp) need no key, but the SDK refuses to start without one.
_NO_KEY = "no-key"
_KEYLIKE = re.compile(r"\b(?:sk|pk|rk|key)-[A-Za-z0-9_\-*]{6,}|\bBearer\s+\S+", re.IGNORECASE)
_FORMAT_WORDS = ("response_format", "json_schema", "json_object", "structured output", "guided")
_UNSUPPORTED_WORDS = ("not supported", "unsupported", "not implemented", "unknown parameter", "unrecognized")
_ENDPOINT_DOWN: frozenset[str] = frozenset({"unreachable", "timeout", "breaker"})


class LLMUnavailable(LLMError):
    """This request got no usable answer; other papers may still succeed (unless ``endpoint_down``)."""

    def __init__(
        self, message: str, status_code: int | None = None, *, kind: Kind = "refused", reason: str | None = None
    ) -> None:
        super().__init__(message)
        self.status_code = status_code  # the last HTTP status, None when no response came
        self.kind: Kind = kind
        self.reason = reason or message  # a short "what happened", for the one line after an outage

    @property
    def endpoint_down(self) -> bool:
        """The endpoint itself failed (no answer at all, or the breaker is open), not this one request."""
        return self.kind in _ENDPOINT_DOWN


class EndpointDown(LLMError):
    """The LLM endpoint could not be reached; what was asked is left as it was (exit code 4)."""

    exit_code = 4

    def __init__(self, message: str, *, host: str, reason: str) -> None:
        super().__init__(message)
        self.host = host
        self.reason = reason


@dataclass(frozen=True, slots=True)
class TokenUsage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_prompt_tokens: int = 0  # of prompt_tokens, served from the provider's prompt cache


@dataclass(frozen=True, slots=True)
class ChatReply:
    text: str  # the model's reply, unparsed
    usage: TokenUsage
    finish_reason: str | None = None  # "length": cut at max_tokens
    mode: Mode = "json_schema"  # the output format that produced it


class ChatClient(Protocol):
    """What agent.enrich needs from a provider."""

    model: str

    @property
    def endpoint(self) -> str:
        """Where requests go, for messages: the base URL without userinfo or query."""
        ...

    @property
    def requests_sent(self) -> int:
        """HTTP requests actually sent, retries included."""
        ...

    async def complete(
        self,
        messages: Sequence[Message],
        *,
        schema: Mapping[str, Any],
        schema_name: str,
        max_tokens: int | None = None,
        cache_key: str | None = None,
    ) -> ChatReply:
        """One chat completion asking for a JSON object matching ``schema``. ``cache_key`` names the shared
        prompt prefix for the provider's prompt cache. Raises LLMError / LLMUnavailable."""
        ...

    async def aclose(self) -> None: ...


# -- the environment -------------------------------------------------------------------------------------


def check_credentials(env: Mapping[str, str] | None = None) -> None:
    """MissingCredentials unless a key or a base URL (Ollama/vLLM need no key) is set; cheap, imports no SDK."""
    env = os.environ if env is None else env
    if not env.get("OPENAI_API_KEY") and not env.get("OPENAI_BASE_URL"):
        raise MissingCredentials("no LLM credentials: set OPENAI_API_KEY (and OPENAI_BASE_URL for Ollama/vLLM)")


def base_url(env: Mapping[str, str] | None = None) -> str:
    env = os.environ if env is None else env
    return (env.get("OPENAI_BASE_URL") or "").strip() or DEFAULT_BASE_URL


def display_endpoint(url: str | None = None) -> str:
    """An endpoint URL as logs and messages show it: no userinfo (``user:PASS@``), query or fragment."""
    url = base_url() if url is None else url
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "(an unparsable URL)"
    if not host:
        return "(an unparsable URL)"
    host = f"[{host}]" if ":" in host else host
    return f"{parts.scheme or 'http'}://{host}" + (f":{port}" if port else "") + parts.path


def endpoint_host(env: Mapping[str, str] | None = None) -> str:
    """The endpoint's host name, lower-case: it goes into every cache key, so two servers serving one model
    name do not share answers (the port does not: a local server restarted on another port keeps its cache)."""
    try:
        return (urlsplit(base_url(env)).hostname or "").lower()
    except ValueError:
        return ""


def is_local_endpoint(env: Mapping[str, str] | None = None) -> bool:
    """Is the endpoint on this machine or a private network (Ollama, vLLM, llama.cpp)?"""
    import ipaddress

    try:
        host = (urlsplit(base_url(env)).hostname or "").lower()
    except ValueError:
        return False
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal", ".lan")):
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return bool(host) and "." not in host  # a bare name ("ollama", "vllm") is on the local network
    return ip.is_loopback or ip.is_private or ip.is_link_local


def mask_key(key: str | None) -> str:
    """An API key as logs may show it: its family prefix and last 4 characters (a short one: nothing)."""
    if not key:
        return "(none)"
    if len(key) < 20:  # real keys are 40+ characters; 7 shown characters would be most of a short secret
        return "***"
    return f"{key[:3]}…{key[-4:]}"


def masked_key(env: Mapping[str, str] | None = None) -> str:
    """OPENAI_API_KEY as logs may show it (``mask_key``)."""
    env = os.environ if env is None else env
    return mask_key(env.get("OPENAI_API_KEY"))


def make_client(cfg: LLMConfig, env: Mapping[str, str] | None = None) -> ChatClient:
    """The client for ``cfg``: today always the openai SDK (OpenAI and every OpenAI-compatible server)."""
    env = os.environ if env is None else env
    return OpenAIChat(
        model=cfg.model,
        api_key=env.get("OPENAI_API_KEY") or None,
        base_url=env.get("OPENAI_BASE_URL") or None,
        timeout=cfg.timeout_s,
        max_retries=cfg.max_retries,
        temperature=cfg.temperature,
    )


_preloaded: threading.Thread | None = None


def preload() -> None:
    """Import the SDK and the prompt renderer in a daemon thread (once per process): the first request then
    does not wait for ~1 s of imports when something else (the HF API fetch) is waiting on the network."""
    global _preloaded
    if _preloaded is not None:
        return
    import httpx  # noqa: F401 - the HF fetch needs it first; imported here, before the thread competes for the GIL

    def work() -> None:
        try:
            import openai  # noqa: F401

            # The names agent.prompts renders with: langchain_core.prompts itself imports them lazily.
            from langchain_core.prompts import ChatPromptTemplate, FewShotChatMessagePromptTemplate  # noqa: F401
        except Exception as exc:  # an import error surfaces again, in context, when the client is built
            log.debug("background import failed: %s", exc)

    _preloaded = threading.Thread(target=work, name="paper-digest-preload", daemon=True)
    _preloaded.start()


# -- the openai SDK -----------------------------------------------------------------------------------------


class _Unsupported(Exception):
    """The server refused the requested output format (internal: triggers the next mode)."""


class _Breaker:
    """Consecutive attempts that got no answer at all; open once ``limit`` is reached."""

    def __init__(self, limit: int) -> None:
        self.limit = max(1, limit)
        self.failures = 0
        self.reason: str | None = None  # why it opened; None while closed

    def failed(self, what: str) -> None:
        self.failures += 1
        if self.reason is None and self.failures >= self.limit:
            self.reason = f"{what}, {self.failures} attempts in a row"

    def answered(self) -> None:
        if self.reason is None:
            self.failures = 0


def _transport(timeout: float, breaker: _Breaker, counter: list[int]) -> httpx2.AsyncBaseTransport:
    """The SDK's HTTP transport with the overall deadline, the body cap, the request count and the breaker."""
    import httpx2
    import openai

    class CircuitOpen(openai.OpenAIError):
        """Raised under the SDK, which passes its own errors through without retrying."""

    class TooLarge(openai.OpenAIError):
        pass

    class Transport(httpx2.AsyncBaseTransport):
        circuit_open = CircuitOpen
        too_large = TooLarge

        def __init__(self) -> None:
            limits = httpx2.Limits(max_connections=100, max_keepalive_connections=20)
            self.inner = httpx2.AsyncHTTPTransport(limits=limits)

        async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
            if breaker.reason is not None:
                raise CircuitOpen(breaker.reason)
            counter[0] += 1
            try:
                async with asyncio.timeout(timeout):
                    response = await self.inner.handle_async_request(request)
                    try:
                        chunks, size = [], 0
                        async for chunk in response.aiter_raw():
                            size += len(chunk)
                            if size > MAX_REPLY_BYTES:
                                raise TooLarge(f"the LLM endpoint sent more than {MAX_REPLY_BYTES} bytes")
                            chunks.append(chunk)
                    finally:
                        await response.aclose()
            except TimeoutError:
                breaker.failed(f"no answer within {timeout:g}s")
                raise httpx2.ReadTimeout(f"no complete answer within {timeout:g}s", request=request) from None
            except httpx2.TimeoutException:
                breaker.failed(f"no answer within {timeout:g}s")
                raise
            except (httpx2.ConnectError, httpx2.RemoteProtocolError, httpx2.ReadError) as exc:
                breaker.failed(f"no connection ({type(exc).__name__})")
                raise
            breaker.answered()
            return httpx2.Response(
                response.status_code,
                headers=response.headers,
                stream=httpx2.ByteStream(b"".join(chunks)),
                extensions=response.extensions,
                request=request,
            )

        async def aclose(self) -> None:
            await self.inner.aclose()

    return Transport()


class OpenAIChat:
    """``ChatClient`` over the openai SDK: OpenAI itself or any OpenAI-compatible server."""

    def __init__(
        self,
        *,
        model: str,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float = 60.0,
        max_retries: int = 3,
        temperature: float | None = 0.2,
        breaker_after: int = BREAKER_AFTER,
    ) -> None:
        import openai

        if not model or not model.strip():
            raise ConfigError("no model name", setting="model")
        self.model = model
        self._timeout = timeout
        self._max_retries = max_retries
        self._optional: dict[str, Any] = {} if temperature is None else {"temperature": temperature}
        # OpenAI's reasoning models refuse max_tokens; other servers may not know max_completion_tokens.
        reasoning = bool(_REASONING_MODEL.match(model.strip().rsplit("/", 1)[-1]))
        self._tokens_param = "max_completion_tokens" if reasoning else "max_tokens"
        self._dropped: set[str] = set()  # optional parameters the server refused by name
        self._mode: Mode | None = None
        self._mode_lock = asyncio.Lock()
        self._refused = False  # the server refused json_schema: probe the other formats one at a time
        self._counter = [0]
        self._breaker = _Breaker(breaker_after)

        base_url = base_url or os.environ.get("OPENAI_BASE_URL") or None
        if not (api_key or os.environ.get("OPENAI_API_KEY")):
            check_credentials({"OPENAI_BASE_URL": base_url or ""})
            api_key = _NO_KEY
        self._endpoint = display_endpoint(base_url or DEFAULT_BASE_URL)
        self._transport = _transport(timeout, self._breaker, self._counter)
        http_client = openai.DefaultAsyncHttpxClient(transport=self._transport)
        self._client = openai.AsyncOpenAI(
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            # No compression: the body cap then holds for what is decoded (and vcrpy cannot decode zstd).
            default_headers={"Accept-Encoding": "identity"},
            http_client=http_client,
        )
        self._secret = self._client.api_key if self._client.api_key != _NO_KEY else ""

    @property
    def endpoint(self) -> str:
        return self._endpoint

    @property
    def requests_sent(self) -> int:
        return self._counter[0]

    @property
    def mode(self) -> Mode | None:
        """The output format this endpoint accepts; None until the first answer."""
        return self._mode

    async def aclose(self) -> None:
        await self._client.close()

    async def complete(
        self,
        messages: Sequence[Message],
        *,
        schema: Mapping[str, Any],
        schema_name: str,
        max_tokens: int | None = None,
        cache_key: str | None = None,
    ) -> ChatReply:
        request = _Request(list(messages), dict(schema), schema_name, max_tokens, cache_key)
        if self._mode is None and not self._refused:
            # Optimistic first round: strict json_schema is what OpenAI and most servers accept, so the
            # first calls do not queue behind one probe (that would cost a whole round trip per run).
            try:
                reply = await self._complete(MODES[0], request, probing=True)
            except _Unsupported:
                self._refused = True  # fall through to the one-at-a-time probe of the other formats
            else:
                self._mode = self._mode or MODES[0]
                return reply
        if self._mode is None:
            async with self._mode_lock:
                if self._mode is None:
                    for mode in MODES[1:]:
                        try:
                            reply = await self._complete(mode, request, probing=True)
                        except _Unsupported:
                            log.info("the LLM endpoint does not accept %s output; trying the next format", mode)
                            continue
                        self._mode = mode
                        return reply
        assert self._mode is not None  # text mode never raises _Unsupported
        return await self._complete(self._mode, request, probing=False)

    async def _complete(self, mode: Mode, request: _Request, *, probing: bool) -> ChatReply:
        import openai

        kwargs: dict[str, Any] = {"model": self.model, "messages": request.messages, **self._optional}
        if request.max_tokens is not None:
            reasoning = self._tokens_param == "max_completion_tokens"
            kwargs[self._tokens_param] = request.max_tokens + (REASONING_ALLOWANCE if reasoning else 0)
        if request.cache_key is not None and "prompt_cache_key" not in self._dropped:
            kwargs["prompt_cache_key"] = request.cache_key
        if mode == "json_schema":
            kwargs["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": request.schema_name, "strict": True, "schema": request.schema},
            }
        elif mode == "json_object":
            kwargs["response_format"] = {"type": "json_object"}
        try:
            raw = await self._client.chat.completions.with_raw_response.create(**kwargs)
        except openai.APIStatusError as exc:
            text = _error_text(exc)
            if exc.status_code == 400 and self._adapt(text, kwargs):
                return await self._complete(mode, request, probing=probing)
            if probing and mode != "text" and _format_refused(exc.status_code, text):
                raise _Unsupported from exc
            raise self._error(exc) from None
        except openai.OpenAIError as exc:
            raise self._error(exc) from None
        return _reply(raw.http_response.content, mode)

    def _adapt(self, text: str, sent: Mapping[str, Any]) -> bool:
        """A 400 naming an optional parameter: change it for this client; True when the request is worth
        sending again."""
        if "temperature" in sent and "temperature" in text:
            # Reasoning models accept only their default temperature: drop it for this client.
            log.info("the model rejects temperature=%s; sending none", sent["temperature"])
            self._optional.pop("temperature", None)
            return True
        if self._tokens_param == "max_tokens" and "max_tokens" in sent and "max_tokens" in text:
            # A reasoning model under another name: max_completion_tokens, with room for its reasoning.
            log.info("the model rejects max_tokens; sending max_completion_tokens")
            self._tokens_param = "max_completion_tokens"
            return True
        if "prompt_cache_key" in sent and "prompt_cache_key" in text:
            self._dropped.add("prompt_cache_key")
            return True
        return False

    def _error(self, exc: Exception) -> LLMError:
        """One line saying what failed and what to do; never the key, never a traceback."""
        import openai

        retries = f"after {self._max_retries} retries"
        if isinstance(exc, self._transport.circuit_open):  # type: ignore[attr-defined]
            return LLMUnavailable(
                f"stopped asking the LLM endpoint ({exc}).", kind="breaker", reason=f"stopped asking after {exc}"
            )
        if isinstance(exc, self._transport.too_large):  # type: ignore[attr-defined]
            return LLMUnavailable(f"{exc}; the answer was dropped.", kind="malformed")
        if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
            return LLMError(f"the LLM endpoint rejected the API key (HTTP {exc.status_code}); check OPENAI_API_KEY.")
        if isinstance(exc, openai.NotFoundError):
            return LLMError(f"the LLM endpoint does not serve model {self.model!r} (HTTP 404)", setting="model")
        if isinstance(exc, openai.APITimeoutError):
            return LLMUnavailable(
                f"the LLM endpoint did not answer within {self._timeout:g}s ({retries}); "
                "try again later or raise [llm] timeout_s.",
                kind="timeout",
                reason=f"no answer within {self._timeout:g}s ({retries})",
            )
        if isinstance(exc, openai.APIConnectionError):
            cause = self._scrub(str(exc.__cause__ or "") or type(exc.__cause__).__name__, 80)
            return LLMUnavailable(
                f"cannot reach the LLM endpoint ({retries}); check OPENAI_BASE_URL and the network.",
                kind="unreachable",
                reason=f"{cause or 'no connection'} ({retries})",
            )
        if isinstance(exc, openai.APIStatusError):
            status = exc.status_code
            if status == 429 and exc.code == "insufficient_quota":
                return LLMError("the LLM account has no quota left (HTTP 429 insufficient_quota); check its billing.")
            if status == 429:
                return LLMUnavailable(
                    f"the LLM endpoint is rate-limiting requests (HTTP 429 {retries}); "
                    "lower the concurrency or try again later.",
                    status,
                    kind="rate_limited",
                )
            if status >= 500:
                return LLMUnavailable(
                    f"the LLM endpoint failed (HTTP {status} {retries}); try again later.", status, kind="server"
                )
            detail = self._scrub(exc.message)
            return LLMUnavailable(f"the LLM endpoint refused the request (HTTP {status}: {detail}).", status)
        return LLMUnavailable(f"the LLM request failed ({type(exc).__name__}: {self._scrub(str(exc))}).")

    def _scrub(self, text: str, limit: int = 160) -> str:
        text = " ".join(str(text).split())
        if self._secret:
            text = text.replace(self._secret, "***")
        text = _KEYLIKE.sub("***", text)
        return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True, slots=True)
class _Request:
    messages: list[Message]
    schema: dict[str, Any]
    schema_name: str
    max_tokens: int | None
    cache_key: str | None


def _malformed(what: str) -> LLMUnavailable:
    return LLMUnavailable(f"the LLM endpoint sent a malformed answer ({what}).", 200, kind="malformed")


def _reply(body: bytes, mode: Mode) -> ChatReply:
    """The text and usage of a chat completion body, checked field by field: a 200 whose body is not one
    (``null``, ``[]``, a string, content that is not text, usage that is not a count) is ``malformed``."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise _malformed("not JSON") from None
    if not isinstance(data, dict):
        raise _malformed(f"a JSON {type(data).__name__}, not an object")
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise _malformed("no choices")
    choice = choices[0]
    message = choice.get("message")
    if not isinstance(message, dict):
        raise _malformed("no message")
    content = message.get("content")
    if content is None:
        content = message.get("refusal")
    if content is None:
        content = ""
    if not isinstance(content, str):
        raise _malformed(f"content is a JSON {type(content).__name__}, not text")
    finish = choice.get("finish_reason")
    return ChatReply(
        text=content,
        usage=_usage(data.get("usage")),
        finish_reason=finish if isinstance(finish, str) else None,
        mode=mode,
    )


def _usage(raw: Any) -> TokenUsage:
    if raw is None:
        return TokenUsage()
    if not isinstance(raw, dict):
        raise _malformed("usage is not an object")
    details = raw.get("prompt_tokens_details")
    cached = details.get("cached_tokens") if isinstance(details, dict) else None
    prompt, completion = _count(raw.get("prompt_tokens")), _count(raw.get("completion_tokens"))
    return TokenUsage(prompt, completion, min(_count(cached), prompt))


def _count(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _malformed(f"a token count is {json.dumps(value)[:40]}")
    if not (math.isfinite(value) and 0 <= value <= MAX_TOKEN_COUNT and value == int(value)):
        raise _malformed(f"a token count of {value:g}")
    return int(value)


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
