"""An OpenAI-compatible chat server for tests and benchmarks, built on tests/servers.py's LocalServer.

    with FakeOpenAI(answer=by_title(load_answers())) as fake:
        client = OpenAIChat(model="gpt-4.1-mini", api_key="sk-test-dummy", base_url=fake.base_url)
        fake.queue(Fault.server_error(), Fault.server_error())  # the next two requests fail, then it answers
        ...
        fake.requests          # every ChatRequest received, in order (retries included)
        fake.peak_in_flight    # the most requests it was serving at once

``POST /v1/chat/completions`` answers a realistic ``chat.completion`` (id, created, choices, usage with
token counts); ``GET /v1/models`` lists the model. What it answers comes first from the queue
(``fake.queue(...)``), then from ``answer(request)``. An answer is one of

- ``str``: the message content, as is (Korean JSON, English prose, over-long text — whatever the test needs);
- ``dict``: dumped as JSON into the message content;
- ``Reply``: content plus a finish_reason (``cut_json()`` makes a reply truncated at the token limit);
- ``Fault``: an HTTP error with an OpenAI-style error body (429 + Retry-After, 500, 401, 404 …), a dropped
  connection, a hang longer than the client's timeout, a valid answer trickled out a byte at a time
  (``Fault.trickling``), or any 200 body at all (``Fault.body(None)``, ``Fault.body([])`` …).

Options: ``json_schema=False`` / ``json_object=False`` reject those ``response_format`` types with a 400
like vLLM's; ``latency`` (seconds, or a function of the request) before each answer; ``max_in_flight``
answers 429 + Retry-After beyond that many concurrent requests; ``retry_after`` (seconds) goes on every
429/5xx unless a Fault sets its own (keep it tiny in tests: the SDK sleeps that long before retrying);
``api_key`` set → any other Bearer token gets a 401 like OpenAI's. Responses are deterministic except for
the ``id`` counter, so cassettes recorded against it are stable.
"""

from __future__ import annotations

import json
import re
import threading
import tomllib
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from servers import LocalServer, Request, Response

FIXTURES = Path(__file__).resolve().parent / "fixtures"
ANSWERS = FIXTURES / "answers.toml"
CREATED = 1767225600  # a fixed "created" timestamp (2026-01-01T00:00:00Z)
_DEFAULT = object()  # "use the server's retry_after"


@dataclass(frozen=True)
class Reply:
    content: str
    finish_reason: str = "stop"


@dataclass(frozen=True)
class Fault:
    """What the fake does instead of answering. Build one with the class methods."""

    status: int = 500
    message: str = "The server had an error while processing your request. Sorry about that!"
    type: str = "server_error"
    code: str | None = None
    param: str | None = None
    retry_after: Any = _DEFAULT  # seconds, None for no header, or the server's default
    hang: float = 0.0  # sleep this long, then close the connection without answering
    drop: bool = False  # close the connection without answering
    trickle: float = 0.0  # answer 200 with a valid completion, one byte every `trickle` seconds
    raw: Any = None  # answer 200 with exactly this JSON body (null, [], "x", a completion with bad fields)

    @classmethod
    def rate_limited(cls, retry_after: Any = _DEFAULT) -> Fault:
        return cls(
            429,
            "Rate limit reached for requests. Please try again shortly.",
            "requests",
            "rate_limit_exceeded",
            retry_after=retry_after,
        )

    @classmethod
    def server_error(cls, status: int = 500, retry_after: Any = _DEFAULT) -> Fault:
        return cls(status, retry_after=retry_after)

    @classmethod
    def unauthorized(cls) -> Fault:
        return cls(
            401,
            "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.",
            "invalid_request_error",
            "invalid_api_key",
            retry_after=None,
        )

    @classmethod
    def model_not_found(cls, model: str) -> Fault:
        return cls(
            404,
            f"The model `{model}` does not exist or you do not have access to it.",
            "invalid_request_error",
            "model_not_found",
            retry_after=None,
        )

    @classmethod
    def bad_request(cls, message: str, param: str | None = None) -> Fault:
        return cls(400, message, "invalid_request_error", None, param, retry_after=None)

    @classmethod
    def timeout(cls, seconds: float = 5.0) -> Fault:
        """Hang ``seconds`` (longer than the client's timeout), then hang up."""
        return cls(hang=seconds)

    @classmethod
    def disconnect(cls) -> Fault:
        return cls(drop=True)

    @classmethod
    def trickling(cls, seconds_per_byte: float) -> Fault:
        """A valid answer, sent a byte at a time: every read succeeds, the whole never arrives in time."""
        return cls(status=200, trickle=seconds_per_byte)

    @classmethod
    def body(cls, raw: Any) -> Fault:
        """HTTP 200 with this JSON body instead of a chat completion (``Fault.body(None)`` sends ``null``)."""
        return cls(status=200, raw=_Raw(raw))


@dataclass(frozen=True)
class _Raw:
    value: Any


def paper_answer_for(chat: ChatRequest) -> dict[str, Any]:
    """Some valid-looking answer (what a trickling server eventually sends)."""
    return {"summary": "느린 서버가 보내는 답이다.", "tags": [], "new_keywords": []}


Answer = str | dict[str, Any] | Reply | Fault
AnswerFn = Callable[["ChatRequest"], Answer]


@dataclass
class ChatRequest:
    """One POST /v1/chat/completions as the fake saw it."""

    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list(self.body.get("messages") or [])

    @property
    def model(self) -> str:
        return str(self.body.get("model") or "")

    @property
    def response_format(self) -> str | None:
        """The response_format type: "json_schema", "json_object", or None for plain text."""
        rf = self.body.get("response_format")
        return rf.get("type") if isinstance(rf, dict) else None

    @property
    def last_user(self) -> str:
        users = [m.get("content") or "" for m in self.messages if m.get("role") == "user"]
        return users[-1] if users else ""

    @property
    def paper_title(self) -> str | None:
        """The title of the paper being summarised (a repair turn: the one it repairs), else None."""
        for m in reversed(self.messages):
            if m.get("role") == "user":
                found = re.search(
                    r"<paper_title>\s*(.*?)\s*</paper_title>", m.get("content") or "", re.DOTALL
                )
                if found:
                    return found.group(1)
        return None

    @property
    def is_repair(self) -> bool:
        return "<validation_problems>" in self.last_user

    @property
    def is_overview(self) -> bool:
        return "<summaries>" in self.last_user


def cut_json(answer: str | dict[str, Any], keep: float = 0.5) -> Reply:
    """A JSON answer cut off at the token limit, as a model does when max_tokens runs out."""
    text = answer if isinstance(answer, str) else json.dumps(answer, ensure_ascii=False)
    return Reply(text[: max(1, int(len(text) * keep))], finish_reason="length")


def load_answers(path: Path = ANSWERS) -> dict[str, Any]:
    """tests/fixtures/answers.toml: ``paper`` answers keyed by arXiv id, ``bad`` answers, the ``overview``."""
    return tomllib.loads(path.read_text(encoding="utf-8"))


def paper_answer(entry: Mapping[str, Any]) -> dict[str, Any]:
    """The ideal JSON answer of one ``[paper."<id>"]`` fixture entry."""
    return {
        "summary": entry["summary"],
        "tags": list(entry["tags"]),
        "new_keywords": list(entry.get("new_keywords", [])),
    }


def by_title(answers: Mapping[str, Any], *, unknown: Answer | None = None) -> AnswerFn:
    """An answer function: the fixture answer of the paper whose title is in the request (repairs included),
    the fixture overview for an overview request, else ``unknown`` (default: a loud 400)."""
    papers = {" ".join(e["title"].split()): paper_answer(e) for e in answers.get("paper", {}).values()}
    overview = answers.get("overview", {}).get("text")

    def answer(req: ChatRequest) -> Answer:
        if req.is_overview and overview:
            return {"overview": overview}
        title = req.paper_title
        if title is not None and " ".join(title.split()) in papers:
            return papers[" ".join(title.split())]
        return (
            unknown if unknown is not None else Fault.bad_request(f"fake: no scripted answer for {title!r}")
        )

    return answer


def constant(answer: Answer) -> AnswerFn:
    return lambda req: answer


class FakeOpenAI:
    def __init__(
        self,
        answer: AnswerFn | None = None,
        *,
        json_schema: bool = True,
        json_object: bool = True,
        latency: float | Callable[[ChatRequest], float] = 0.0,
        max_in_flight: int | None = None,
        retry_after: float | None = 0.01,
        api_key: str | None = None,
        model: str = "gpt-4.1-mini",
        prompt_cache: bool = False,
    ) -> None:
        self.answer = answer or by_title(load_answers())
        self.json_schema = json_schema
        self.json_object = json_object
        self.latency = latency
        self.max_in_flight = max_in_flight
        self.retry_after = retry_after
        self.api_key = api_key
        self.model = model
        # Like OpenAI's prompt caching: a request whose prompt_cache_key was seen before reports every message
        # but the last (the shared system + few-shot prefix) as cached_tokens.
        self.prompt_cache = prompt_cache
        self._cache_keys: set[str] = set()
        self.requests: list[ChatRequest] = []
        self.in_flight = 0
        self.peak_in_flight = 0
        self._queue: deque[Answer] = deque()
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._served = 0
        self.server = LocalServer(self._handle)

    # -- lifecycle -------------------------------------------------------------------------------------------
    def __enter__(self) -> FakeOpenAI:
        self.server.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._closing.set()  # wakes handlers sleeping in latency/hang
        self.server.__exit__(*exc)

    @property
    def base_url(self) -> str:
        return f"{self.server.url}/v1"

    def queue(self, *answers: Answer) -> None:
        """Answer the next requests with these, in order, before falling back to ``answer``."""
        with self._lock:
            self._queue.extend(answers)

    def formats(self) -> list[str | None]:
        """The response_format type of every request received, in order."""
        return [r.response_format for r in self.requests]

    # -- the handler (runs on the server's threads) ----------------------------------------------------
    def _handle(self, req: Request) -> Response:
        if req.method == "GET" and req.path.rstrip("/") == "/v1/models":
            return Response(
                200, {"object": "list", "data": [{"id": self.model, "object": "model", "owned_by": "fake"}]}
            )
        if req.method != "POST" or req.path.rstrip("/") != "/v1/chat/completions":
            return _error(Fault(404, f"Invalid URL ({req.method} {req.path})", "invalid_request_error"), None)
        try:
            chat = ChatRequest(req.json(), {k.lower(): v for k, v in req.headers.items()})
        except (ValueError, UnicodeDecodeError):
            return _error(Fault.bad_request("We could not parse the JSON body of your request."), None)

        with self._lock:
            self.requests.append(chat)
            busy = self.max_in_flight is not None and self.in_flight >= self.max_in_flight
            if not busy:
                self.in_flight += 1
                self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        if busy:
            return _error(Fault.rate_limited(), self.retry_after)
        try:
            return self._answer(chat)
        finally:
            with self._lock:
                self.in_flight -= 1

    def _answer(self, chat: ChatRequest) -> Response:
        if self.api_key is not None and chat.headers.get("authorization") != f"Bearer {self.api_key}":
            return _error(Fault.unauthorized(), None)
        fmt = chat.response_format
        if (fmt == "json_schema" and not self.json_schema) or (fmt == "json_object" and not self.json_object):
            # vLLM / llama.cpp style: a top-level error object, no "error" wrapper.
            body = {
                "object": "error",
                "message": f"response_format type '{fmt}' is not supported by this server",
                "type": "BadRequestError",
                "param": "response_format",
                "code": 400,
            }
            return Response(400, body)

        delay = self.latency(chat) if callable(self.latency) else self.latency
        if delay > 0 and self._closing.wait(delay):
            return Response(drop=True)
        with self._lock:
            answer = self._queue.popleft() if self._queue else None
        if answer is None:
            answer = self.answer(chat)
        if isinstance(answer, Fault):
            if answer.hang:
                self._closing.wait(answer.hang)
                return Response(drop=True)
            if answer.drop:
                return Response(drop=True)
            if isinstance(answer.raw, _Raw):
                return Response(200, json.dumps(answer.raw.value).encode(), {"Content-Type": "application/json"})
            if answer.trickle:
                reply = Reply(_content(paper_answer_for(chat)))
                body = self._completion(chat, reply, 0)
                return Response(200, body, trickle=answer.trickle)
            return _error(answer, self.retry_after)
        reply = answer if isinstance(answer, Reply) else Reply(_content(answer))
        with self._lock:
            self._served += 1
            n = self._served
        return Response(200, self._completion(chat, reply, n), {"x-request-id": f"req_fake{n:06d}"})

    def _completion(self, chat: ChatRequest, reply: Reply, n: int) -> dict[str, Any]:
        prompt_tokens = sum(_tokens(str(m.get("content") or "")) + 4 for m in chat.messages)
        completion_tokens = _tokens(reply.content)
        cached = 0
        key = chat.body.get("prompt_cache_key")
        if self.prompt_cache and isinstance(key, str):
            with self._lock:
                seen = key in self._cache_keys
                self._cache_keys.add(key)
            if seen:
                cached = sum(_tokens(str(m.get("content") or "")) + 4 for m in chat.messages[:-1])
        return {
            "id": f"chatcmpl-fake{n:06d}",
            "object": "chat.completion",
            "created": CREATED,
            "model": chat.model or self.model,
            "choices": [
                {
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "content": reply.content,
                        "refusal": None,
                        "annotations": [],
                    },
                    "logprobs": None,
                    "finish_reason": reply.finish_reason,
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
                "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
                "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
            },
            "service_tier": "default",
            "system_fingerprint": "fp_fake",
        }


def _content(answer: str | dict[str, Any]) -> str:
    return answer if isinstance(answer, str) else json.dumps(answer, ensure_ascii=False)


def _tokens(text: str) -> int:
    """A deterministic stand-in for a tokenizer: ~4 chars per token for ASCII, ~1 per Hangul syllable."""
    ascii_chars = sum(1 for c in text if ord(c) < 128)
    return max(1, ascii_chars // 4 + (len(text) - ascii_chars))


def _error(fault: Fault, default_retry_after: float | None) -> Response:
    body = {"error": {"message": fault.message, "type": fault.type, "param": fault.param, "code": fault.code}}
    headers = {}
    retry_after = default_retry_after if fault.retry_after is _DEFAULT else fault.retry_after
    if retry_after is not None and (fault.status == 429 or fault.status >= 500):
        # retry-after-ms carries fractions precisely; retry-after is what most clients read.
        headers["retry-after-ms"] = str(int(retry_after * 1000))
        headers["retry-after"] = f"{retry_after:g}"
    return Response(fault.status, body, headers)
