from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
REAL_PAYLOAD = SHARED / "fixtures" / "hf_daily_papers_2026-06-12.json"
SAMPLE = ROOT / "samples" / "hf_daily_papers_2026-02-13.json"

# tiktoken downloads BPE files at first use; the test machines are offline.
if (SHARED / "tiktoken_cache").is_dir():
    os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(SHARED / "tiktoken_cache"))

# Response headers that identify an account or a request; never stored in a cassette.
_DROP_RESPONSE_HEADERS = {"set-cookie", "openai-organization", "openai-project", "x-request-id", "cf-ray"}


def _scrub_response(response: dict) -> dict:
    headers = response.get("headers", {})
    for name in list(headers):
        if name.lower() in _DROP_RESPONSE_HEADERS:
            del headers[name]
    return response


@pytest.fixture(scope="module")
def vcr_config() -> dict:
    return {
        "filter_headers": ["authorization", "api-key", "x-api-key", "cookie", "openai-organization"],
        # Not the host: cassettes recorded against a local server on a random port replay anywhere.
        "match_on": ["method", "path", "query", "body"],
        "before_record_response": _scrub_response,
        "decode_compressed_response": True,
    }


@pytest.fixture(scope="module")
def vcr_cassette_dir(request: pytest.FixtureRequest) -> str:
    return str(ROOT / "cassettes" / request.module.__name__.split(".")[-1])


@pytest.fixture
def real_payload_path() -> Path:
    if not REAL_PAYLOAD.exists():
        pytest.skip(f"reference payload {REAL_PAYLOAD} not present (it lives in ../shared)")
    return REAL_PAYLOAD
