"""agent/llm.py against tests/fake_openai.py.

Cassette tests were recorded against the fake (``--record-mode=once``) and replay offline (``none``); the
fake still starts, but in replay it receives nothing, so they assert on what the client saw and on the
cassette's requests. What a cassette cannot hold — timeouts, refused connections, concurrent first calls,
an in-flight cap — runs live against the fake on 127.0.0.1. The messages and schema are literals, so
editing a prompt file never invalidates a cassette.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import subprocess
import sys
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import pytest
import yaml
from fake_openai import FakeOpenAI, Fault, Reply, constant, cut_json, load_answers, paper_answer

from agent.cli import describe
from agent.errors import ConfigError, LLMError
from agent.llm import REASONING_ALLOWANCE, ChatReply, LLMUnavailable, OpenAIChat
from agent.validate import parse_answer

ROOT = Path(__file__).resolve().parents[1]
KEY = "sk-test-dummy"
MODEL = "gpt-4.1-mini"
TITLE = "Learning beyond Teacher: Generalized On-Policy Distillation with Reward Extrapolation"
EXPECTED = paper_answer(load_answers()["paper"]["2602.12125"])
MESSAGES = [
    {"role": "system", "content": "Summarise the paper in one Korean sentence. Answer with one JSON object."},
    {
        "role": "user",
        "content": f"<paper_title>\n{TITLE}\n</paper_title>\n\n"
        "<abstract>\nOn-policy distillation (OPD) ...\n</abstract>",
    },
]
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "summary": {"type": "string"},
        "tags": {"type": "array", "items": {"type": "string", "enum": ["지식 증류", "강화학습", "LLM"]}},
        "new_keywords": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["summary", "tags", "new_keywords"],
    "additionalProperties": False,
}

# What agent.enrich sends with every summary request: a cap that fits the longest valid answer, and one key
# for the prompt prefix every paper shares.
MAX_TOKENS = 644
CACHE_KEY = "paper-digest-paper_summary-0123456789abcdef"

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    # Replay needs a key; a real one must never reach a test. Nothing else from the environment either.
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    for name in ("OPENAI_BASE_URL", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID", "OPENAI_CUSTOM_HEADERS"):
        monkeypatch.delenv(name, raising=False)


async def ask(client: OpenAIChat, times: int = 1) -> list[ChatReply]:
    try:
        return [
            await client.complete(
                MESSAGES, schema=SCHEMA, schema_name="paper_summary", max_tokens=MAX_TOKENS, cache_key=CACHE_KEY
            )
            for _ in range(times)
        ]
    finally:
        await client.aclose()


def data(reply: ChatReply) -> Any:
    return json.loads(reply.text)


def formats(cassette: Any) -> list[str | None]:
    """The response_format type of every request in the cassette (recorded or replayed)."""
    bodies = [json.loads(r.body) for r in cassette.requests]
    return [b.get("response_format", {}).get("type") for b in bodies]


# -- cassettes ----------------------------------------------------------------------------------------------


@pytest.mark.vcr
def test_json_schema_answer(vcr: Any) -> None:
    with FakeOpenAI() as fake:
        client = OpenAIChat(model=MODEL, base_url=fake.base_url, max_retries=0)
        (c,) = run(ask(client))
    assert c.mode == "json_schema" and client.mode == "json_schema"
    assert json.loads(c.text) == EXPECTED
    assert c.usage.prompt_tokens > 0 and c.usage.completion_tokens > 0 and c.finish_reason == "stop"
    assert client.requests_sent == 1
    body = json.loads(vcr.requests[0].body)
    assert body["model"] == MODEL and body["temperature"] == 0.2 and body["messages"] == MESSAGES
    assert body["max_tokens"] == MAX_TOKENS and body["prompt_cache_key"] == CACHE_KEY
    assert body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "paper_summary", "strict": True, "schema": SCHEMA},
    }


@pytest.mark.vcr
def test_server_without_json_schema_falls_back_to_json_object_once(vcr: Any) -> None:
    with FakeOpenAI(json_schema=False) as fake:
        client = OpenAIChat(model=MODEL, base_url=fake.base_url, max_retries=0)
        first, second = run(ask(client, times=2))
    assert (first.mode, second.mode) == ("json_object", "json_object")
    assert data(first) == data(second) == EXPECTED
    # One probe with json_schema (refused), then json_object for both answers: the mode is found once.
    assert client.requests_sent == 3
    assert formats(vcr) == ["json_schema", "json_object", "json_object"]


@pytest.mark.vcr
def test_server_without_structured_output_falls_back_to_text(vcr: Any) -> None:
    fenced = "물론이다.\n```json\n" + json.dumps(EXPECTED, ensure_ascii=False) + "\n```"
    with FakeOpenAI(constant(fenced), json_schema=False, json_object=False) as fake:
        client = OpenAIChat(model=MODEL, base_url=fake.base_url, max_retries=0)
        (c,) = run(ask(client))
    assert c.mode == "text" and parse_answer(c.text) == EXPECTED and c.text == fenced
    assert client.requests_sent == 3
    assert formats(vcr) == ["json_schema", "json_object", None]


@pytest.mark.vcr
def test_429_with_retry_after_then_success(vcr: Any) -> None:
    with FakeOpenAI() as fake:
        fake.queue(Fault.rate_limited(retry_after=0.01))
        client = OpenAIChat(model=MODEL, base_url=fake.base_url, max_retries=3)
        (c,) = run(ask(client))
    assert data(c) == EXPECTED
    # Counts, not a stopwatch: 10 ms against the SDK's ~0.5 s backoff has no margin on a busy machine.
    assert client.requests_sent == 2
    assert [r["status"]["code"] for r in vcr.responses] == [429, 200]


@pytest.mark.vcr
def test_500_twice_then_success(vcr: Any) -> None:
    with FakeOpenAI() as fake:
        fake.queue(Fault.server_error(), Fault.server_error())
        client = OpenAIChat(model=MODEL, base_url=fake.base_url, max_retries=3)
        (c,) = run(ask(client))
    assert data(c) == EXPECTED and c.mode == "json_schema"
    assert client.requests_sent == 3


@pytest.mark.vcr
def test_persistent_500_raises_llm_unavailable(vcr: Any) -> None:
    with FakeOpenAI() as fake:
        fake.queue(*[Fault.server_error()] * 3)
        client = OpenAIChat(model=MODEL, base_url=fake.base_url, max_retries=2)
        with pytest.raises(LLMUnavailable) as info:
            run(ask(client))
    assert str(info.value) == "the LLM endpoint failed (HTTP 500 after 2 retries); try again later."
    assert client.requests_sent == 3
    assert client.mode is None  # nothing was learnt: the next paper probes again


@pytest.mark.vcr
def test_401_raises_llm_error_with_the_fixed_message(vcr: Any) -> None:
    with FakeOpenAI(api_key="sk-the-servers-own-key") as fake:
        client = OpenAIChat(model=MODEL, base_url=fake.base_url, max_retries=3)
        with pytest.raises(LLMError) as info:
            run(ask(client))
    assert type(info.value) is LLMError  # not LLMUnavailable: the run must stop
    assert str(info.value) == "the LLM endpoint rejected the API key (HTTP 401); check OPENAI_API_KEY."
    assert client.requests_sent == 1  # a 401 is not retried


@pytest.mark.vcr
def test_unknown_model_raises_llm_error_naming_the_model(vcr: Any) -> None:
    with FakeOpenAI() as fake:
        fake.queue(Fault.model_not_found(MODEL))
        client = OpenAIChat(model=MODEL, base_url=fake.base_url)
        with pytest.raises(LLMError) as info:
            run(ask(client))
    assert type(info.value) is LLMError
    assert MODEL in str(info.value) and "--model" not in str(info.value)  # the CLI names the flag:
    assert describe(info.value).endswith("(HTTP 404); pass a model it serves with --model, or check OPENAI_BASE_URL.")


def test_cassettes_hold_no_credentials() -> None:
    """Every cassette of every test module: no auth header, nothing that looks like a key."""
    secret_headers = {"authorization", "api-key", "x-api-key", "cookie", "set-cookie", "proxy-authorization"}
    keylike = re.compile(r"\bsk-[A-Za-z0-9_\-]{6,}|\bBearer\s+\S+|\bhf_[A-Za-z0-9]{20,}")
    for path in sorted((ROOT / "cassettes").rglob("*")):
        if not path.is_file() or path.suffix not in {".yaml", ".yml", ".json"}:
            continue
        text = path.read_text(encoding="utf-8")
        assert not keylike.search(text), f"{path.relative_to(ROOT)} holds a key-like string"
        data = yaml.safe_load(text) if path.suffix != ".json" else json.loads(text)
        for interaction in (data or {}).get("interactions", []):
            for side in ("request", "response"):
                names = {n.lower() for n in (interaction.get(side, {}).get("headers") or {})}
                leaked = names & secret_headers
                assert not leaked, f"{path.relative_to(ROOT)}: {side} header(s) {sorted(leaked)}"
    for path in (ROOT / "cassettes" / "test_llm").glob("*.yaml"):
        assert "authorization" not in path.read_text(encoding="utf-8").lower(), path.name


# -- live against the fake -------------------------------------------------------------------------


async def ask_together(client: OpenAIChat, n: int) -> list[ChatReply]:
    """``n`` identical calls in flight at once, then the client closed."""
    try:
        return await asyncio.gather(*(client.complete(MESSAGES, schema=SCHEMA, schema_name="s") for _ in range(n)))
    finally:
        await client.aclose()


def test_concurrent_first_calls_settle_the_mode_once() -> None:
    with FakeOpenAI(json_schema=False, latency=0.02) as fake:
        client = OpenAIChat(model=MODEL, base_url=fake.base_url, max_retries=0)

        results = run(ask_together(client, 4))
    # Each first call tries json_schema at once (no round trip lost to a probe where it is supported);
    # the refusals settle the fallback once, under a lock, and every later call uses it directly.
    assert [r.mode for r in results] == ["json_object"] * 4
    assert sorted(fake.formats()) == ["json_object"] * 4 + ["json_schema"] * 4
    assert client.requests_sent == len(fake.requests) == 8


def test_timeout_raises_llm_unavailable() -> None:
    with FakeOpenAI() as fake:
        fake.queue(Fault.timeout(120))
        client = OpenAIChat(model=MODEL, base_url=fake.base_url, timeout=0.2, max_retries=0)
        started = time.perf_counter()
        with pytest.raises(LLMUnavailable, match=r"did not answer within 0\.2s"):
            run(ask(client))
    assert time.perf_counter() - started < 60  # gave up long before the server's 120 s hang ended
    assert client.requests_sent == 1


def test_unreachable_endpoint_raises_llm_unavailable() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = OpenAIChat(model=MODEL, base_url=f"http://127.0.0.1:{port}/v1", max_retries=0)
    with pytest.raises(LLMUnavailable, match="cannot reach the LLM endpoint") as info:
        run(ask(client))
    assert "\n" not in str(info.value)


def test_in_flight_cap_answers_429_and_the_sdk_retries() -> None:
    with FakeOpenAI(max_in_flight=1, latency=0.03, retry_after=0.01) as fake:
        client = OpenAIChat(model=MODEL, base_url=fake.base_url, max_retries=10)

        results = run(ask_together(client, 3))
    assert all(data(r) == EXPECTED for r in results)
    assert fake.peak_in_flight == 1
    assert client.requests_sent == len(fake.requests) > 3


def test_model_rejecting_temperature_is_retried_without_it() -> None:
    refusal = Fault.bad_request(
        "Unsupported value: 'temperature' does not support 0.2 with this model. "
        "Only the default (1) value is supported.",
        param="temperature",
    )
    with FakeOpenAI() as fake:
        fake.queue(refusal)
        client = OpenAIChat(model=MODEL, base_url=fake.base_url, max_retries=0)
        first, second = run(ask(client, times=2))
    assert data(first) == data(second) == EXPECTED
    assert ["temperature" in r.body for r in fake.requests] == [True, False, False]


def test_other_400_is_llm_unavailable_without_the_key() -> None:
    with FakeOpenAI() as fake:
        fake.queue(Fault.bad_request(f"context too long for key {KEY}; Bearer {KEY}"))
        client = OpenAIChat(model=MODEL, base_url=fake.base_url, max_retries=0)
        with pytest.raises(LLMUnavailable) as info:
            run(ask(client))
    message = str(info.value)
    assert message.startswith("the LLM endpoint refused the request (HTTP 400:")
    assert KEY not in message and "Bearer sk" not in message and "\n" not in message


def test_cut_and_non_json_replies_come_back_as_text() -> None:
    with FakeOpenAI() as fake:
        fake.queue(cut_json(EXPECTED), Reply("This paper proposes G-OPD."))
        client = OpenAIChat(model=MODEL, base_url=fake.base_url, max_retries=0)
        cut, english = run(ask(client, times=2))
    assert parse_answer(cut.text) is None and cut.finish_reason == "length" and cut.text.startswith('{"summary"')
    assert parse_answer(english.text) is None and english.text == "This paper proposes G-OPD."


def test_headers_no_compression_and_the_key_as_bearer() -> None:
    with FakeOpenAI() as fake:
        client = OpenAIChat(model=MODEL, base_url=fake.base_url, max_retries=0)
        run(ask(client))
    headers = fake.requests[0].headers
    assert headers["accept-encoding"] == "identity"  # the body cap holds for what is decoded
    assert headers["authorization"] == f"Bearer {KEY}"


def test_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY")
    with pytest.raises(ConfigError, match="set OPENAI_API_KEY"):
        OpenAIChat(model=MODEL)
    # A local server (Ollama, vLLM) needs no key: a base URL alone is enough.
    with FakeOpenAI() as fake:
        monkeypatch.setenv("OPENAI_BASE_URL", fake.base_url)
        client = OpenAIChat(model=MODEL, max_retries=0)
        (c,) = run(ask(client))
    assert data(c) == EXPECTED
    assert fake.requests[0].headers["authorization"] == "Bearer no-key"


def test_importing_the_module_does_not_import_the_sdk() -> None:
    code = "import sys, agent.llm, agent.prompts\nprint('openai' in sys.modules, 'langchain_core' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.split() == ["False", "False"]


# -- issue 12: deadlines, the circuit breaker, malformed answers -------------------------------------------


def test_a_trickling_answer_is_held_to_an_overall_deadline() -> None:
    # Every read gets a byte well within the read timeout; the whole answer would take ~40 s.
    with FakeOpenAI() as fake:
        fake.queue(Fault.trickling(0.05))
        client = OpenAIChat(model=MODEL, base_url=fake.base_url, timeout=0.3, max_retries=0)
        started = time.perf_counter()
        with pytest.raises(LLMUnavailable, match=r"did not answer within 0\.3s") as info:
            run(ask(client))
    assert info.value.kind == "timeout" and info.value.endpoint_down
    assert time.perf_counter() - started < 20


@pytest.fixture
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """The SDK waits 0.5 s, 1 s, 2 s … between retries without a Retry-After; the counts are what matter here."""
    monkeypatch.setattr("openai._base_client.INITIAL_RETRY_DELAY", 0.01)


def test_the_breaker_opens_after_consecutive_attempts_without_an_answer(quick_backoff: None) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = OpenAIChat(model=MODEL, base_url=f"http://127.0.0.1:{port}/v1", max_retries=10, breaker_after=3)

    async def twice() -> list[BaseException]:
        errors: list[BaseException] = []
        try:
            for _ in range(2):
                try:
                    await client.complete(MESSAGES, schema=SCHEMA, schema_name="s")
                except LLMUnavailable as exc:
                    errors.append(exc)
        finally:
            await client.aclose()
        return errors

    first, second = run(twice())
    # Three refused connections, then the SDK's next retry meets the open breaker: 3 sent, not 11.
    assert client.requests_sent == 3
    assert isinstance(first, LLMUnavailable) and first.kind == "breaker" and first.endpoint_down
    assert "3 attempts in a row" in str(first) and "\n" not in str(first)
    assert isinstance(second, LLMUnavailable) and second.kind == "breaker"  # nothing sent at all


def test_an_answer_resets_the_breaker_count(quick_backoff: None) -> None:
    with FakeOpenAI() as fake:
        # Two dropped connections before each answer: four in all, never three in a row.
        fake.queue(Fault.disconnect(), Fault.disconnect(), EXPECTED, Fault.disconnect(), Fault.disconnect())
        client = OpenAIChat(model=MODEL, base_url=fake.base_url, max_retries=2, breaker_after=3)
        first, second = run(ask(client, times=2))
    assert data(first) == data(second) == EXPECTED
    assert client.requests_sent == 6


COMPLETION = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "{}"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 10, "completion_tokens": 2},
}


def _with(path: str, value: Any) -> dict[str, Any]:
    body = json.loads(json.dumps(COMPLETION))
    *parents, last = path.split(".")
    node = body
    for p in parents:
        node = node[int(p)] if p.isdigit() else node[p]
    node[last] = value
    return body


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        "x",
        {"choices": []},
        _with("choices.0.message.content", [{"type": "text", "text": "{}"}]),
        _with("choices.0.message.content", 42),
        _with("usage", "many"),
        _with("usage.prompt_tokens", "10"),
        _with("usage.prompt_tokens", 1e308),
        _with("usage.completion_tokens", -1),
    ],
    ids=["null", "array", "string", "no-choices", "content-list", "content-number", "usage-string",
         "tokens-string", "tokens-1e308", "tokens-negative"],
)
def test_a_malformed_200_is_llm_unavailable_not_a_traceback(body: Any) -> None:
    with FakeOpenAI() as fake:
        fake.queue(Fault.body(body))
        client = OpenAIChat(model=MODEL, base_url=fake.base_url, max_retries=0)
        with pytest.raises(LLMUnavailable, match=r"^the LLM endpoint sent a malformed answer \(") as info:
            run(ask(client))
    assert info.value.kind == "malformed" and not info.value.endpoint_down


def test_cached_prompt_tokens_are_read_from_the_usage_details() -> None:
    body = _with("usage.prompt_tokens_details", {"cached_tokens": 8})
    with FakeOpenAI() as fake:
        fake.queue(Fault.body(body))
        client = OpenAIChat(model=MODEL, base_url=fake.base_url, max_retries=0)
        (reply,) = run(ask(client))
    assert (reply.usage.prompt_tokens, reply.usage.completion_tokens, reply.usage.cached_prompt_tokens) == (10, 2, 8)


def test_max_tokens_and_prompt_cache_key_are_sent_and_dropped_when_refused() -> None:
    with FakeOpenAI() as fake:
        fake.queue(
            Fault.bad_request("Unrecognized request argument supplied: prompt_cache_key", param="prompt_cache_key"),
            Fault.bad_request(
                "Unsupported parameter: 'max_tokens' is not supported with this model. "
                "Use 'max_completion_tokens' instead.",
                param="max_tokens",
            ),
        )
        client = OpenAIChat(model=MODEL, base_url=fake.base_url, max_retries=0)

        async def go() -> ChatReply:
            try:
                return await client.complete(MESSAGES, schema=SCHEMA, schema_name="s", max_tokens=300, cache_key="k")
            finally:
                await client.aclose()

        assert data(run(go())) == EXPECTED
    bodies = [r.body for r in fake.requests]
    assert (bodies[0]["max_tokens"], bodies[0]["prompt_cache_key"]) == (300, "k")
    assert "prompt_cache_key" not in bodies[1] and bodies[1]["max_tokens"] == 300
    assert "max_tokens" not in bodies[2] and bodies[2]["max_completion_tokens"] == 300 + REASONING_ALLOWANCE


@pytest.mark.parametrize(
    ("model", "param"),
    [("gpt-5-mini", "max_completion_tokens"), ("o4-mini", "max_completion_tokens"),
     ("openai/o3", "max_completion_tokens"), ("gpt-5-chat-latest", "max_tokens"), ("gpt-4.1-mini", "max_tokens"),
     ("llama3.1:8b", "max_tokens")],
)  # fmt: skip
def test_reasoning_models_get_max_completion_tokens_with_room_to_think(model: str, param: str) -> None:
    with FakeOpenAI() as fake:
        client = OpenAIChat(model=model, base_url=fake.base_url, max_retries=0)

        async def go() -> ChatReply:
            try:
                return await client.complete(MESSAGES, schema=SCHEMA, schema_name="s", max_tokens=300)
            finally:
                await client.aclose()

        run(go())
    body = fake.requests[0].body
    other = {"max_tokens", "max_completion_tokens"} - {param}
    assert body[param] == 300 + (REASONING_ALLOWANCE if param == "max_completion_tokens" else 0)
    assert not other & set(body)


def test_display_endpoint_never_shows_credentials() -> None:
    from agent.llm import display_endpoint, endpoint_host

    url = "http://user:PASS@llm.internal:8000/v1?api_key=SECRET#frag"
    assert display_endpoint(url) == "http://llm.internal:8000/v1"
    assert endpoint_host({"OPENAI_BASE_URL": url}) == "llm.internal"
    assert endpoint_host({}) == "api.openai.com"


def test_preload_imports_the_sdk_and_the_chat_prompt_classes_in_the_background() -> None:
    # langchain_core.prompts imports its classes lazily: importing the package alone would leave ~0.9 s of
    # imports to the first prompt, after the HF fetch the thread is meant to overlap.
    code = (
        "import sys, agent.llm\n"
        "agent.llm.preload()\n"
        "agent.llm._preloaded.join(60)\n"
        "print('openai' in sys.modules, 'langchain_core.prompts.chat' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.split() == ["True", "True"]
