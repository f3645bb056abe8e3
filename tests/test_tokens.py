"""Token counts (exact with the shared tiktoken cache, estimated without it) and prices."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from agent import tokens
from agent.config import DEFAULT_PRICES, Price
from agent.tokens import cost_usd, count_tokens, encoding_name_for, estimate_tokens

ROOT = Path(__file__).resolve().parents[1]
SHARED_CACHE = ROOT.parent / "shared" / "tiktoken_cache"

KOREAN = "ExOPD는 보상 스케일링 계수를 1보다 크게 둔 일반화 온폴리시 증류로 표준 OPD를 일관되게 능가한다."
ENGLISH = "On-policy distillation aligns the student with the teacher's logit distribution."
MESSAGES = [
    {"role": "system", "content": "너는 논문 요약 편집자다."},
    {"role": "user", "content": KOREAN},
    {"role": "assistant", "name": "example", "content": ENGLISH},
]

needs_cache = pytest.mark.skipif(not SHARED_CACHE.is_dir(), reason="../shared/tiktoken_cache not present")


@pytest.fixture(autouse=True)
def fresh_state() -> None:
    tokens._reset()


@pytest.fixture
def shared_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(SHARED_CACHE))


@pytest.mark.parametrize(
    ("model", "encoding"),
    [
        ("gpt-4o", "o200k_base"),
        ("gpt-4o-mini-2024-07-18", "o200k_base"),
        ("gpt-4.1-mini", "o200k_base"),
        ("gpt-5", "o200k_base"),
        ("gpt-5.1", "o200k_base"),
        ("openai/gpt-5-nano", "o200k_base"),
        ("o1", "o200k_base"),
        ("o3-mini", "o200k_base"),
        ("o4-mini", "o200k_base"),
        ("ft:gpt-4o-mini:acme::abc", "o200k_base"),
        ("gpt-4", "cl100k_base"),
        ("gpt-4-turbo", "cl100k_base"),
        ("gpt-3.5-turbo", "cl100k_base"),
        ("llama3.1:8b", None),
        ("o1x", None),
        ("qwen2.5-72b-instruct", None),
    ],
)
def test_encoding_for_model(model: str, encoding: str | None) -> None:
    assert encoding_name_for(model) == encoding


@needs_cache
@pytest.mark.usefixtures("shared_cache")
@pytest.mark.parametrize(("model", "encoding"), [("gpt-4.1-mini", "o200k_base"), ("gpt-4", "cl100k_base")])
@pytest.mark.parametrize("text", [KOREAN, ENGLISH])
def test_exact_count_of_a_string_matches_tiktoken(model: str, encoding: str, text: str) -> None:
    import tiktoken

    assert count_tokens(text, model) == (len(tiktoken.get_encoding(encoding).encode(text)), True)


@needs_cache
@pytest.mark.usefixtures("shared_cache")
def test_exact_count_of_messages_adds_the_chat_framing() -> None:
    import tiktoken

    enc = tiktoken.get_encoding("o200k_base")
    content = sum(len(enc.encode(value)) for message in MESSAGES for value in message.values())
    # 3 per message, 1 for the name, 3 priming the reply (OpenAI cookbook)
    assert count_tokens(MESSAGES, "gpt-4o") == (content + 3 * 3 + 1 + 3, True)
    assert count_tokens([], "gpt-4o") == (3, True)


@needs_cache
@pytest.mark.usefixtures("shared_cache")
def test_special_token_text_in_an_abstract_is_counted_not_rejected() -> None:
    tokens_, exact = count_tokens("an abstract quoting <|endoftext|> verbatim", "gpt-4o")
    assert exact and tokens_ > 5


def test_unknown_model_is_estimated_and_warns_once(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("WARNING", logger="paper-digest"):
        first = count_tokens(KOREAN, "llama3.1:8b")
        second = count_tokens(MESSAGES, "llama3.1:8b")
    assert first == (estimate_tokens(KOREAN), False)
    assert second[1] is False
    assert second[0] == sum(estimate_tokens(v) for m in MESSAGES for v in m.values()) + 3 * 3 + 1 + 3
    warnings = [r for r in caplog.records if r.name == "paper-digest"]
    assert len(warnings) == 1 and "llama3.1:8b" in warnings[0].getMessage()


def test_estimate_is_hangul_aware_and_errs_high() -> None:
    assert estimate_tokens("") == 0
    assert estimate_tokens("abcd" * 10) == 10
    assert estimate_tokens("한국어") == 3
    assert estimate_tokens("日本") == 2  # 6 UTF-8 bytes / 3


@needs_cache
@pytest.mark.usefixtures("shared_cache")
def test_estimate_is_not_below_the_real_count_for_prose() -> None:
    for text in (KOREAN, ENGLISH):
        exact, _ = count_tokens(text, "gpt-4o")
        assert exact <= estimate_tokens(text) <= 3 * exact


_OFFLINE_PROBE = """
import json, logging, sys

attempts = []
def audit(event, args):
    if event in ("socket.connect", "socket.getaddrinfo", "socket.gethostbyname", "urllib.Request"):
        attempts.append(event)
        raise OSError("network disabled in this test")
sys.addaudithook(audit)

records = []
class Keep(logging.Handler):
    def emit(self, record):
        records.append(record.getMessage())
logging.getLogger("paper-digest").addHandler(Keep())

from agent.tokens import count_tokens
first = count_tokens("ExOPD는 표준 OPD를 능가한다.", "gpt-4o")
second = count_tokens([{"role": "user", "content": "hello"}], "gpt-4.1-mini")
print(json.dumps({"first": first, "second": second, "warnings": records, "attempts": attempts,
                  "tiktoken_imported": "tiktoken" in sys.modules}))
"""


def test_missing_bpe_file_is_estimated_offline_with_one_warning(tmp_path: Path) -> None:
    env = {**os.environ, "TIKTOKEN_CACHE_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", _OFFLINE_PROBE], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["first"][1] is False and result["second"][1] is False
    assert result["first"][0] > 0
    assert result["attempts"] == []  # never tried to download the file
    assert len(result["warnings"]) == 1 and "o200k_base" in result["warnings"][0]
    assert result["tiktoken_imported"] is False
    assert list(tmp_path.iterdir()) == []


def test_a_corrupt_cached_file_is_not_trusted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "fb374d419588a4632f3f557e76b4b70aebbca790").write_bytes(b"not a bpe file\n")
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    assert count_tokens("hello", "gpt-4o")[1] is False


def test_an_empty_cache_dir_setting_means_no_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    # tiktoken reads "" as "don't cache" and would download every time
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", "")
    assert count_tokens("hello", "gpt-4o")[1] is False


# -- prices -------------------------------------------------------------------------------------------


def test_cost_arithmetic() -> None:
    # gpt-4.1-mini: $0.40 in, $1.60 out per 1M tokens
    assert cost_usd(1_000_000, 0, "gpt-4.1-mini", DEFAULT_PRICES) == pytest.approx(0.40)
    assert cost_usd(2_000, 500, "gpt-4.1-mini", DEFAULT_PRICES) == pytest.approx(0.0008 + 0.0008)
    assert cost_usd(0, 0, "gpt-5", DEFAULT_PRICES) == 0.0


@pytest.mark.parametrize(
    ("model", "priced_as"),
    [
        ("gpt-4.1-mini-2025-04-14", "gpt-4.1-mini"),  # longest prefix, not "gpt-4.1"
        ("gpt-4.1-2025-04-14", "gpt-4.1"),
        ("gpt-4o-mini", "gpt-4o-mini"),
        ("gpt-4o-2024-08-06", "gpt-4o"),
        ("GPT-5-Nano", "gpt-5-nano"),
    ],
)
def test_cost_prefix_matching(model: str, priced_as: str) -> None:
    assert cost_usd(1000, 1000, model, DEFAULT_PRICES) == cost_usd(1000, 1000, priced_as, DEFAULT_PRICES)


@pytest.mark.parametrize("model", ["llama3.1:8b", "gpt-5.1", "gpt-4", "gpt-4omni"])
def test_cost_unknown_model(model: str) -> None:
    assert cost_usd(1000, 1000, model, DEFAULT_PRICES) is None


def test_cost_uses_the_given_prices() -> None:
    prices = {"local/qwen": Price(0.0, 0.0), "my-model": Price(1.0, 2.0)}
    assert cost_usd(10, 10, "local/qwen", prices) == 0.0
    assert cost_usd(1_000_000, 1_000_000, "my-model:latest", prices) == pytest.approx(3.0)


def test_format_usd_shows_what_a_small_budget_is() -> None:
    from agent.tokens import format_usd

    assert [format_usd(x) for x in (2.5, 0.5, 0.01, 0.001, 0.0015, 0.0)] == [
        "$2.50", "$0.50", "$0.01", "$0.001", "$0.0015", "$0.00"
    ]
