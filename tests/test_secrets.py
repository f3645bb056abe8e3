"""Secrets and the cache's trust boundary, through the real CLI.

- A run with a random API key and ``-v`` (the server even echoes the key back in an error), then a run
  whose key is refused: the key is in none of the outputs, the cache directory (decoded values
  included), stdout/stderr, the report, a cassette recorded with the project's VCR settings, or the
  committed cassettes.
- A pickle-mode row planted in the cache under a real key of the run is refused — read as a miss, so the
  paper is asked again — and never unpickled (its payload would create a marker file).
"""

from __future__ import annotations

import asyncio
import json
import pickle
import secrets
import sqlite3
import string
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import vcr
from clirun import cli_env, run_cli
from fake_openai import FakeOpenAI, Fault, by_title, load_answers

from agent.llm import OpenAIChat

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples" / "hf_daily_papers_2026-02-13.json"
DATE = "2026-02-13"
ANSWERS = load_answers()
MODE_PICKLE = 4  # diskcache.core.MODE_PICKLE


def random_key() -> str:
    return "sk-" + "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(40))


def forms(key: str) -> list[bytes]:
    """The key, and the parts of it a partial leak would show."""
    return [key.encode(), key[3:].encode(), key[-16:].encode(), key[:19].encode()]


def file_blobs(directory: Path) -> Iterator[tuple[str, bytes]]:
    for path in sorted(directory.rglob("*")):
        if path.is_file():
            yield str(path), path.read_bytes()


def cache_blobs(directory: Path) -> Iterator[tuple[str, bytes]]:
    """Every key and value row of the diskcache database, decompressed where it is zlib (JSONDisk)."""
    with sqlite3.connect(directory / "cache.db") as db:
        for rowid, key, value in db.execute("SELECT rowid, key, value FROM Cache"):
            yield f"cache row {rowid} key", str(key).encode()
            if isinstance(value, bytes):
                yield f"cache row {rowid} value", value
                try:
                    inflated = zlib.decompress(value)
                except zlib.error:
                    continue
                yield f"cache row {rowid} value (inflated)", inflated
            elif value is not None:
                yield f"cache row {rowid} value", str(value).encode()


def leaks(key: str, blobs: Iterator[tuple[str, bytes]]) -> list[str]:
    return [where for where, data in blobs for form in forms(key) if form in data]


def test_the_api_key_is_nowhere(tmp_path: Path, vcr_config: dict[str, Any]) -> None:
    key = random_key()
    out, cache = tmp_path / "out", tmp_path / "cache"
    echoed = Fault.bad_request(f"Invalid request for API key {key}; see https://example.invalid/{key}")
    with FakeOpenAI(by_title(ANSWERS), api_key=key, retry_after=0.01) as fake:
        fake.queue(echoed)  # the first request: its paper is flagged with the (scrubbed) reason
        env = cli_env(OPENAI_API_KEY=key, OPENAI_BASE_URL=fake.base_url)
        args = ["run", "--date", DATE, "--source", str(SAMPLE), "--out", str(out), "--cache-dir", str(cache)]
        ok = run_cli([*args, "--report", str(tmp_path / "r.json"), "-v"], env, tmp_path)
        # The key did reach the server (FakeOpenAI answers 401 to any other Bearer token).
        assert all(r.headers.get("authorization") == f"Bearer {key}" for r in fake.requests)

        # A cassette recorded with the project's VCR settings while sending the key.
        async def ask() -> None:
            client = OpenAIChat(model="gpt-4.1-mini", api_key=key, base_url=fake.base_url, max_retries=0)
            try:
                messages = [{"role": "user", "content": "<paper_title>Voxtral Realtime</paper_title>"}]
                await client.complete(messages, schema={"type": "object"}, schema_name="s")
            finally:
                await client.aclose()

        cassette = tmp_path / "cassettes" / "secrets.yaml"
        with vcr.VCR(**vcr_config).use_cassette(str(cassette), record_mode="all"):
            asyncio.run(ask())

    assert ok.returncode == 0, ok.stderr
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert report["flagged"] == 1 and report["summarized"] == 9
    assert cassette.exists()

    # The same key refused by the server: the run stops with a one-line error that does not hold it.
    refusing = FakeOpenAI(by_title(ANSWERS), api_key=random_key())
    with refusing:
        env = cli_env(OPENAI_API_KEY=key, OPENAI_BASE_URL=refusing.base_url)
        args = ["run", "--date", DATE, "--source", str(SAMPLE), "--out", str(tmp_path / "out2")]
        denied = run_cli([*args, "--cache-dir", str(tmp_path / "cache2"), "-v"], env, tmp_path)
    assert denied.returncode == 1
    assert "OPENAI_API_KEY" in denied.stderr

    outputs: list[tuple[str, bytes]] = [
        *file_blobs(tmp_path / "out"),
        *file_blobs(cache),
        *cache_blobs(cache),
        *file_blobs(tmp_path / "cassettes"),
        *file_blobs(ROOT / "cassettes"),
        ("report", (tmp_path / "r.json").read_bytes()),
        ("stdout", ok.stdout.encode()),
        ("stderr", ok.stderr.encode()),
        ("refused: stdout", denied.stdout.encode()),
        ("refused: stderr", denied.stderr.encode()),
        *file_blobs(tmp_path / "cache2"),
    ]
    if (tmp_path / "out2").exists():
        outputs += list(file_blobs(tmp_path / "out2"))
    assert leaks(key, iter(outputs)) == []
    assert b"authorization" not in cassette.read_bytes().lower()
    # The scrubbed refusal did reach the draft, so the scan above looked at text that once held the key.
    draft = (out / "drafts" / f"{DATE}-hf-daily-papers.md").read_text(encoding="utf-8")
    assert "Invalid request for API key" in draft


class _Payload:
    """Unpickling this creates ``marker``: proof that a planted row was executed."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (open, (str(self.marker), "w"))


def test_a_planted_pickle_row_is_refused_and_never_executed(tmp_path: Path) -> None:
    out, cache = tmp_path / "out", tmp_path / "cache"
    args = ["run", "--date", DATE, "--source", str(SAMPLE), "--out", str(out), "--cache-dir", str(cache)]
    args += ["--report", str(tmp_path / "r.json")]
    with FakeOpenAI(by_title(ANSWERS)) as fake:
        env = cli_env(OPENAI_API_KEY="sk-test-dummy", OPENAI_BASE_URL=fake.base_url)
        first = run_cli(args, env, tmp_path)
        assert first.returncode == 0, first.stderr
        assert len(fake.requests) == 11

        # Two real summary keys of the run: one row's value becomes an inline pickle, the other's a
        # pickle file next to the database (diskcache's file mode) — what an attacker with write access
        # to the cache directory would plant (CVE-2025-69872).
        markers = [tmp_path / "pwned-inline", tmp_path / "pwned-file"]
        with sqlite3.connect(cache / "cache.db") as db:
            rows = [
                (rowid, key)
                for rowid, key, value in db.execute("SELECT rowid, key, value FROM Cache ORDER BY rowid")
                if "enrichment" in json.loads(zlib.decompress(value))
            ]
            assert len(rows) == 10
            (inline_id, _), (file_id, _) = rows[0], rows[1]
            db.execute(
                "UPDATE Cache SET mode = ?, value = ?, filename = NULL WHERE rowid = ?",
                (MODE_PICKLE, pickle.dumps(_Payload(markers[0])), inline_id),
            )
            (cache / "planted.val").write_bytes(pickle.dumps(_Payload(markers[1])))
            db.execute(
                "UPDATE Cache SET mode = ?, value = NULL, filename = ? WHERE rowid = ?",
                (MODE_PICKLE, "planted.val", file_id),
            )

        before = len(fake.requests)
        second = run_cli(args, env, tmp_path)
        again = len(fake.requests) - before

    assert second.returncode == 0, second.stderr
    assert not any(m.exists() for m in markers), "a planted pickle was unpickled"
    # Both planted rows read as misses: their two papers were asked again; the rest (and the overview,
    # whose inputs did not change) came from the cache.
    assert again == 2
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert (report["summarized"], report["llm_requests"], report["cache_hits"]) == (10, 2, 9)
    assert "never unpickled" in second.stderr  # the editor is told once what was ignored
    # The fresh answers replaced the planted rows.
    with sqlite3.connect(cache / "cache.db") as db:
        assert db.execute("SELECT count(*) FROM Cache WHERE mode = ?", (MODE_PICKLE,)).fetchone() == (0,)
