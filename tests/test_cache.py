"""agent.cache: stable keys, prompt versions, a private JSON-only store that never unpickles."""

from __future__ import annotations

import logging
import os
import pathlib
import sqlite3
import stat
import subprocess
import sys
import traceback
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import diskcache
import pytest

from agent.cache import SCHEMA_VERSION, AnswerCache, cache_key, default_cache_dir, prompt_version
from agent.cli import describe
from agent.errors import CacheError, ConfigError

ROOT = Path(__file__).resolve().parents[1]

KEY_INPUTS: dict[str, Any] = {
    "kind": "summary",
    "paper_id": "2606.01234",
    "abstract": "초록 text",
    "prompt_version": "0123456789abcdef",
    "model": "gpt-4.1-mini",
    "params": {"temperature": 0.2, "max_tokens": 300},
}
ANSWER = {"summary": "대규모 언어 모델의 추론을 강화학습으로 개선합니다.", "tags": ["LLM", "강화학습"]}


class _Planted:
    """Unpickling this creates `marker`: proof that something ran pickle.load on it."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (pathlib.Path.touch, (self.marker,))


# --- cache_key ---------------------------------------------------------------------------------


def test_cache_key_is_pinned_across_processes_and_versions() -> None:
    assert cache_key(**KEY_INPUTS) == "85e470bc6e390812bf62c2c14accfd3aac1e6de309cb83b6067508ac8ec46e33"
    assert cache_key(**KEY_INPUTS, schema_version=SCHEMA_VERSION, extra="") == cache_key(**KEY_INPUTS)


def test_cache_key_ignores_params_order() -> None:
    reordered = {**KEY_INPUTS, "params": {"max_tokens": 300, "temperature": 0.2}}
    assert cache_key(**reordered) == cache_key(**KEY_INPUTS)


@pytest.mark.parametrize(
    "change",
    [
        {"kind": "overview"},
        {"kind": "regenerate"},
        {"paper_id": "2606.01235"},
        {"abstract": "초록 text."},
        {"prompt_version": "0123456789abcdee"},
        {"model": "gpt-4.1"},
        {"params": {"temperature": 0.3, "max_tokens": 300}},
        {"params": {"temperature": 0.2}},
        {"schema_version": SCHEMA_VERSION + 1},
        {"extra": "더 짧게 써 주세요"},
    ],
    ids=lambda c: next(iter(c)),
)
def test_cache_key_changes_with_every_input(change: dict[str, Any]) -> None:
    assert cache_key(**{**KEY_INPUTS, **change}) != cache_key(**KEY_INPUTS)


def test_cache_key_fields_cannot_bleed_into_each_other() -> None:
    a = cache_key(**{**KEY_INPUTS, "paper_id": "1", "abstract": "23"})
    b = cache_key(**{**KEY_INPUTS, "paper_id": "12", "abstract": "3"})
    assert a != b


def test_cache_key_rejects_unknown_kind() -> None:
    with pytest.raises(ValueError, match="unknown cache kind"):
        cache_key(**{**KEY_INPUTS, "kind": "tags"})


# --- prompt_version ----------------------------------------------------------------------------


def _prompts(tmp_path: Path) -> Path:
    d = tmp_path / "prompts"
    (d / "examples").mkdir(parents=True)
    (d / "summary.j2").write_text("요약: {{ abstract }}", encoding="utf-8")
    (d / "examples" / "one.json").write_text('{"summary": "예시"}', encoding="utf-8")
    return d


def test_prompt_version_is_short_hex_and_independent_of_location(tmp_path: Path) -> None:
    a = _prompts(tmp_path / "a")
    b = _prompts(tmp_path / "b")
    v = prompt_version(a)
    assert len(v) == 16 and int(v, 16) >= 0
    assert prompt_version(b) == v


def test_prompt_version_tracks_edits_additions_and_renames(tmp_path: Path) -> None:
    d = _prompts(tmp_path)
    seen = {prompt_version(d)}
    (d / "summary.j2").write_text("요약: {{ abstract }}\n", encoding="utf-8")
    seen.add(prompt_version(d))
    (d / "examples" / "two.json").write_text("{}", encoding="utf-8")
    seen.add(prompt_version(d))
    (d / "examples" / "two.json").rename(d / "examples" / "three.json")
    seen.add(prompt_version(d))
    assert len(seen) == 4


def test_prompt_version_skips_dotfiles(tmp_path: Path) -> None:
    d = _prompts(tmp_path)
    before = prompt_version(d)
    (d / ".summary.j2.swp").write_bytes(b"\x00swap")
    (d / ".git").mkdir()
    (d / ".git" / "HEAD").write_text("ref")
    assert prompt_version(d) == before


def test_prompt_version_needs_prompt_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        prompt_version(tmp_path / "missing")
    with pytest.raises(ConfigError, match="no prompt files"):
        prompt_version(tmp_path)


# --- AnswerCache -------------------------------------------------------------------------------


def test_round_trip_korean_text_survives_reopening(tmp_path: Path) -> None:
    key = cache_key(**KEY_INPUTS)
    with AnswerCache(tmp_path / "cache") as cache:
        assert cache.get(key) is None
        cache.set(key, {**ANSWER, "tuple": ("a", "b")})
        assert cache.get(key) == {**ANSWER, "tuple": ["a", "b"]}
    with AnswerCache(tmp_path / "cache") as cache:
        assert cache.get(key) == {**ANSWER, "tuple": ["a", "b"]}
        assert cache.stats()["hits"] == 1


def test_set_accepts_json_objects_only(tmp_path: Path) -> None:
    with AnswerCache(tmp_path) as cache:
        with pytest.raises(TypeError, match="JSON objects"):
            cache.set("k", ["not", "an", "object"])  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="not JSON-serialisable"):
            cache.set("k", {"when": object()})
        with pytest.raises(TypeError, match="not JSON-serialisable"):
            cache.set("k", {"score": float("nan")})
        assert cache.stats()["entries"] == 0


def test_new_directory_is_private(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        cache = AnswerCache(tmp_path / "deep" / "cache")
    finally:
        os.umask(old)
    cache.set("k", ANSWER)
    cache.close()
    assert stat.S_IMODE((tmp_path / "deep" / "cache").stat().st_mode) == 0o700


def test_existing_directory_loses_group_and_other_bits(tmp_path: Path) -> None:
    d = tmp_path / "cache"
    d.mkdir()
    d.chmod(0o777)
    AnswerCache(d).close()
    assert stat.S_IMODE(d.stat().st_mode) == 0o700


def test_stats_and_clear(tmp_path: Path) -> None:
    with AnswerCache(tmp_path / "cache") as cache:
        cache.set("a", ANSWER)
        cache.set("b", {"summary": "x" * 40_000})  # past diskcache's 32 kB threshold: stored as a file
        cache.set("a", {"summary": "replaced"})
        assert cache.get("a") == {"summary": "replaced"}
        assert cache.get("b") == {"summary": "x" * 40_000}
        assert cache.get("c") is None
        stats = cache.stats()
        assert stats["directory"] == str(tmp_path / "cache")
        assert stats["entries"] == 2
        assert stats["size_bytes"] > 0
        assert (stats["hits"], stats["misses"]) == (2, 1)
        assert cache.clear() == 2
        assert cache.get("a") is None
        assert cache.stats()["entries"] == 0


def test_default_cache_dir_is_the_platform_user_cache(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_cache_dir().name == "paper-digest"
    if sys.platform.startswith("linux"):
        assert default_cache_dir() == tmp_path / "paper-digest"


# --- refusing pickle (CVE-2025-69872) ----------------------------------------------------------


def test_planted_payload_does_run_under_plain_diskcache(tmp_path: Path) -> None:
    """Control: the planted object is a real exploit when read back with diskcache's default Disk."""
    marker = tmp_path / "pwned"
    with diskcache.Cache(str(tmp_path / "cache")) as plain:
        plain.set("k", _Planted(marker))
        plain.get("k")
    assert marker.exists()


@pytest.mark.parametrize("min_file_size", [2**15, 0], ids=["in-row", "in-file"])
def test_pickle_mode_row_is_refused_never_unpickled(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, min_file_size: int
) -> None:
    marker = tmp_path / "pwned"
    directory = tmp_path / "cache"
    key = cache_key(**KEY_INPUTS)
    with diskcache.Cache(str(directory), disk_min_file_size=min_file_size) as plain:
        plain.set(key, _Planted(marker))
        assert plain._sql("SELECT mode FROM Cache").fetchall() == [(diskcache.core.MODE_PICKLE,)]

    with caplog.at_level(logging.WARNING, logger="agent.cache"), AnswerCache(directory) as cache:
        assert cache.get(key) is None
        assert cache.get(key) is None
        stats = cache.stats()
        assert (stats["hits"], stats["misses"], stats["refused"]) == (0, 2, 2)
        cache.set(key, ANSWER)  # a fresh answer replaces the planted row
        assert cache.get(key) == ANSWER
    assert not marker.exists()
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "never unpickled" in warnings[0].getMessage()


def test_pickled_keys_and_values_are_cleared_without_unpickling(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    directory = tmp_path / "cache"
    with diskcache.Cache(str(directory)) as plain:
        plain.set(("tuple", "key"), _Planted(marker))  # key and value both pickled
        plain.set("k", _Planted(marker))
    with AnswerCache(directory) as cache:
        assert cache.stats()["entries"] == 2
        assert cache.clear() == 2
    assert not marker.exists()


def test_rows_that_are_not_json_objects_are_misses(tmp_path: Path) -> None:
    directory = tmp_path / "cache"
    with diskcache.Cache(str(directory)) as plain:
        plain.set("raw-text", "plain text, not compressed JSON")
        plain.set("raw-int", 7)
        insert = "INSERT INTO Cache (key, raw, store_time, mode, value) VALUES (?, 1, 0, ?, ?)"
        plain._sql(insert, ("json-list", diskcache.core.MODE_RAW, zlib.compress(b"[1, 2]")))
        plain._sql(insert, ("garbage", diskcache.core.MODE_RAW, b"\x00not zlib"))
    with AnswerCache(directory) as cache:
        for key in ("raw-text", "raw-int", "json-list", "garbage"):
            assert cache.get(key) is None
        assert cache.stats()["refused"] == 4


def test_planted_file_path_outside_the_cache_is_neither_read_nor_deleted(tmp_path: Path) -> None:
    outside = tmp_path / "precious.txt"
    outside.write_text("keep me")
    directory = tmp_path / "cache"
    AnswerCache(directory).stats()  # creates the database
    con = sqlite3.connect(directory / "cache.db")
    with con:
        con.execute(
            "INSERT INTO Cache (key, raw, store_time, size, mode, filename) VALUES (?, 1, 0, 7, ?, ?)",
            ("k", diskcache.core.MODE_BINARY, "../precious.txt"),
        )
    con.close()
    with AnswerCache(directory) as cache:
        assert cache.get("k") is None
        assert cache.clear() == 1
    assert outside.read_text() == "keep me"


# --- unusable directories ----------------------------------------------------------------------


def _as_unprivileged(cwd: Path, fn: Callable[[], str]) -> str:
    """Run fn in a forked child, as `nobody` when we are root (root ignores permission bits)."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        try:
            os.close(read_fd)
            os.chdir(cwd)  # relative paths from here: nobody cannot traverse root's 0700 tmp dirs
            if os.geteuid() == 0:
                os.setgroups([])
                os.setgid(65534)
                os.setuid(65534)
            out = fn()
        except BaseException:
            out = traceback.format_exc()
        os.write(write_fd, out.encode("utf-8"))
        os._exit(0)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as reader:
        out = reader.read().decode("utf-8")
    os.waitpid(pid, 0)
    return out


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork and POSIX permissions")
@pytest.mark.parametrize("filled", [False, True], ids=["empty", "filled"])
def test_read_only_directory_raises_cache_error(tmp_path: Path, filled: bool) -> None:
    d = tmp_path / "ro"
    d.mkdir()
    if filled:
        with AnswerCache(d) as cache:
            cache.set("k", ANSWER)
    d.chmod(0o555)
    tmp_path.chmod(0o711)  # the unprivileged child must be able to reach d

    def attempt() -> str:
        try:
            AnswerCache(Path("ro")).set("k2", ANSWER)
        except CacheError as exc:
            from agent.cli import describe

            return f"CacheError: {describe(exc)}"
        return "stored"

    try:
        out = _as_unprivileged(tmp_path, attempt)
    finally:
        d.chmod(0o700)
    assert out.startswith("CacheError: cache directory ro is not writable"), out
    assert out.rstrip().endswith("set PAPER_DIGEST_CACHE_DIR or pass --cache-dir.")
    assert "\n" not in out


def test_a_file_where_the_directory_should_be(tmp_path: Path) -> None:
    (tmp_path / "cache").write_text("")
    with pytest.raises(CacheError, match="is not a directory$") as info:
        AnswerCache(tmp_path / "cache")
    assert describe(info.value).endswith("is not a directory; set PAPER_DIGEST_CACHE_DIR or pass --cache-dir.")


def test_corrupted_database_raises_cache_error(tmp_path: Path) -> None:
    d = tmp_path / "cache"
    d.mkdir()
    (d / "cache.db").write_bytes(b"this is not sqlite" * 100)
    with AnswerCache(d) as cache, pytest.raises(CacheError, match=r"unreadable \(file is not a database\)"):
        cache.get("k")


def test_locked_database_raises_instead_of_dropping_the_write(tmp_path: Path) -> None:
    d = tmp_path / "cache"
    with AnswerCache(d, timeout=0.05) as cache:
        cache.set("a", ANSWER)
        other = sqlite3.connect(d / "cache.db", isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(CacheError, match="stayed locked"):
                cache.set("b", ANSWER)
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert cache.get("b") is None
        cache.set("b", ANSWER)
        assert cache.get("b") == ANSWER


# --- import cost -------------------------------------------------------------------------------


def test_cached_path_never_imports_the_llm_stack(tmp_path: Path) -> None:
    code = """
import sys
from pathlib import Path
import agent.cache as c
d = Path(sys.argv[1])
(d / "prompts").mkdir()
(d / "prompts" / "summary.j2").write_text("{{ abstract }}")
key = c.cache_key(kind="summary", paper_id="1", abstract="a", prompt_version=c.prompt_version(d / "prompts"),
                  model="m", params={"temperature": 0.2})
with c.AnswerCache(d / "cache") as cache:
    cache.set(key, {"summary": "요약"})
    assert cache.get(key) == {"summary": "요약"}
heavy = {"openai", "langchain_core", "langsmith", "jinja2", "tiktoken"}
print(sorted(m for m in sys.modules if m.split(".")[0] in heavy))
"""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, env=env, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
