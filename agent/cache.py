"""The on-disk cache of LLM answers: one JSON object per cache key.

A key is the SHA-256 of everything that shapes an answer (paper id, abstract, prompt version, model,
generation params, schema version). It is computed from plain data and the prompt files' *bytes*, so a
fully cached run never renders a prompt nor imports ``openai``, ``langchain_core`` or ``jinja2``.

Storage is a ``diskcache.Cache`` in a 0700 directory. diskcache unpickles rows stored in pickle mode
whatever ``Disk`` class is configured (CVE-2025-69872, unfixed), so ``_JSONOnlyDisk`` refuses every row
that is not zlib-compressed JSON: a planted or foreign row reads as a miss and is never unpickled.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sqlite3
import stat
import threading
import zlib
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Final

import diskcache
import platformdirs

from agent.errors import CacheError, ConfigError

__all__ = ["SCHEMA_VERSION", "KINDS", "AnswerCache", "cache_key", "default_cache_dir", "prompt_version"]

SCHEMA_VERSION: int = 1  # bump when the stored answer's shape changes
KINDS: Final = frozenset({"summary", "overview", "regenerate", "verify"})  # verify: a --verify verdict

SQLITE_TIMEOUT_S: Final = 30.0
# Values only: keys are stored as plain strings, so this may change without orphaning old rows.
_COMPRESS_LEVEL: Final = 6

logger = logging.getLogger("paper-digest")


def prompt_version(prompts_dir: Path) -> str:
    """First 16 hex digits of a SHA-256 over every prompt file's relative path and bytes.

    Dotfiles and dot-directories (editor swap files, ``.DS_Store``) are skipped so they cannot
    invalidate the cache. Raises ConfigError when the directory is missing or holds no files.
    """
    prompts_dir = Path(prompts_dir)
    if not prompts_dir.is_dir():
        raise ConfigError(f"prompts directory {prompts_dir} does not exist.")
    files = sorted(
        (p.relative_to(prompts_dir).as_posix(), p)
        for p in prompts_dir.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(prompts_dir).parts)
    )
    if not files:
        raise ConfigError(f"prompts directory {prompts_dir} holds no prompt files.")
    digest = hashlib.sha256()
    for rel, path in files:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ConfigError(f"cannot read prompt file {path}: {exc.strerror or exc}.") from exc
        # Length-prefixed fields: no two different trees can produce the same byte stream.
        name = rel.encode("utf-8")
        digest.update(len(name).to_bytes(8, "big") + name + len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.hexdigest()[:16]


def cache_key(
    *,
    kind: str,
    paper_id: str,
    abstract: str,
    prompt_version: str,
    model: str,
    params: Mapping[str, Any],
    schema_version: int = SCHEMA_VERSION,
    extra: str = "",
) -> str:
    """SHA-256 hex of the canonical JSON of every input (stable across processes and Python versions).

    ``params`` must be JSON-serialisable; its key order does not matter. Note that ``1`` and ``1.0``
    are different JSON and so different keys.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown cache kind {kind!r}; expected one of {sorted(KINDS)}")
    payload = {
        "kind": kind,
        "paper_id": paper_id,
        "abstract": abstract,
        "prompt_version": prompt_version,
        "model": model,
        "params": dict(params),
        "schema_version": schema_version,
        "extra": extra,
    }
    canonical = json.dumps(
        payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def default_cache_dir() -> Path:
    return Path(platformdirs.user_cache_dir("paper-digest"))


class _Refused:
    """What ``_JSONOnlyDisk.fetch`` returns for a row it will not decode."""


_REFUSED: Final = _Refused()
_MISS: Final = object()


class _JSONOnlyDisk(diskcache.JSONDisk):
    """Keys as plain strings, values as zlib-compressed JSON; anything else is refused, never decoded."""

    def put(self, key: Any) -> tuple[str, bool]:
        if type(key) is not str:
            raise TypeError(f"cache keys are strings, not {type(key).__name__}")
        return key, True

    def get(self, key: Any, raw: bool) -> Any:
        if not raw:  # a pickled key, written by something else
            raise CacheError(
                f"cache directory {self._directory} holds a pickled key; delete the directory.", elsewhere=False
            )
        return key

    def fetch(self, mode: int, filename: str | None, value: Any, read: bool) -> Any:
        if read or mode not in (diskcache.core.MODE_RAW, diskcache.core.MODE_BINARY):
            return _REFUSED
        if filename is not None and not self._inside(filename):
            return _REFUSED
        try:
            return super().fetch(mode, filename, value, read)
        except (zlib.error, TypeError, ValueError):  # not our encoding: JSON/Unicode errors are ValueErrors
            return _REFUSED

    def remove(self, file_path: str) -> None:
        # A planted row's filename could point outside the cache (e.g. "../../x"); never delete there.
        if file_path and self._inside(file_path):
            super().remove(file_path)

    def _inside(self, filename: str) -> bool:
        root = os.path.realpath(self._directory)
        return os.path.realpath(os.path.join(root, filename)).startswith(root + os.sep)


class AnswerCache:
    """LLM answers on disk, keyed by ``cache_key``. Thread-safe; the database opens on first use."""

    def __init__(self, directory: Path, *, timeout: float = SQLITE_TIMEOUT_S) -> None:
        self.directory = Path(directory).expanduser()
        self.timeout = timeout
        self._cache: diskcache.Cache | None = None
        self._lock = threading.Lock()
        self._hits = 0
        self._misses = 0
        self._refused = 0
        _make_private_dir(self.directory)

    def get(self, key: str) -> dict[str, Any] | None:
        """The stored JSON object, or None on a miss (refused rows count as misses)."""
        cache = self._open()
        try:
            value = cache.get(key, default=_MISS)
        except (sqlite3.Error, OSError, diskcache.Timeout) as exc:
            raise self._error(exc) from exc
        if value is _MISS:
            with self._lock:
                self._misses += 1
            return None
        if not isinstance(value, dict):
            with self._lock:
                self._misses += 1
                self._refused += 1
                first = self._refused == 1
            if first:
                logger.warning(
                    "cache directory %s holds entries that are not plain JSON objects (pickled or corrupt); "
                    "they are ignored, never unpickled; run `paper-digest cache clear` to drop them.",
                    self.directory,
                )
            return None
        with self._lock:
            self._hits += 1
        return value

    def set(self, key: str, value: Mapping[str, Any]) -> None:
        """Store a JSON object under ``key``. Raises TypeError for non-JSON values, CacheError on failure."""
        if not isinstance(value, Mapping):
            raise TypeError(f"cache values are JSON objects, not {type(value).__name__}")
        try:
            # Store exactly what get() will return (e.g. tuples become lists, int keys become strings).
            doc = json.loads(json.dumps(dict(value), ensure_ascii=False, allow_nan=False))
        except (TypeError, ValueError) as exc:
            raise TypeError(f"cache value is not JSON-serialisable: {exc}") from exc
        cache = self._open()
        try:
            stored = cache.set(key, doc)
        except (sqlite3.Error, OSError, diskcache.Timeout) as exc:
            raise self._error(exc) from exc
        if not stored:  # Cache.set returns True today; a False would be a silently dropped write.
            raise CacheError(f"cache directory {self.directory} did not store an answer")

    def stats(self) -> dict[str, Any]:
        cache = self._open()
        try:
            entries = len(cache)  # a counter diskcache keeps in sync with triggers
            size = cache.volume()
        except (sqlite3.Error, OSError) as exc:
            raise self._error(exc) from exc
        with self._lock:
            return {
                "directory": str(self.directory),
                "entries": entries,
                "size_bytes": size,
                "hits": self._hits,
                "misses": self._misses,
                "refused": self._refused,
            }

    def clear(self) -> int:
        """Remove every entry (refused ones too, without decoding them); returns how many."""
        cache = self._open()
        try:
            return int(cache.clear())
        except (sqlite3.Error, OSError, diskcache.Timeout) as exc:
            raise self._error(exc) from exc

    def close(self) -> None:
        with self._lock:
            if self._cache is not None:
                self._cache.close()
                self._cache = None

    def __enter__(self) -> AnswerCache:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"AnswerCache({str(self.directory)!r})"

    def _open(self) -> diskcache.Cache:
        with self._lock:
            if self._cache is None:
                try:
                    self._cache = diskcache.Cache(
                        str(self.directory),
                        timeout=self.timeout,
                        disk=_JSONOnlyDisk,
                        disk_compress_level=_COMPRESS_LEVEL,
                    )
                except (sqlite3.Error, OSError, diskcache.Timeout) as exc:
                    raise self._error(exc) from exc
            return self._cache

    def _error(self, exc: BaseException) -> CacheError:
        where = self.directory
        text = str(exc) or type(exc).__name__
        if isinstance(exc, diskcache.Timeout) or "locked" in text:
            return CacheError(
                f"cache directory {where} stayed locked for {self.timeout:g}s (another paper-digest "
                "process, or it is not writable)",
                remedy="retry",
            )
        if "readonly" in text or "unable to open" in text or isinstance(exc, PermissionError):
            return CacheError(f"cache directory {where} is not writable ({text})")
        if isinstance(exc, sqlite3.DatabaseError):
            return CacheError(f"cache in {where} is unreadable ({text})", remedy="delete")
        return CacheError(f"cache directory {where} is unusable ({text})")


def _make_private_dir(directory: Path) -> None:
    """Create ``directory`` as 0700, or take group/other bits off one we own.

    An existing directory keeps its owner bits, so one its owner made read-only stays read-only.
    """
    try:
        if not directory.exists():
            directory.mkdir(parents=True, mode=0o700)
            os.chmod(directory, 0o700)  # mkdir's mode is filtered by the umask
            return
        st = directory.stat()
        if not stat.S_ISDIR(st.st_mode):
            raise CacheError(f"cache directory {directory} is not a directory")
        if hasattr(os, "getuid") and st.st_uid == os.getuid():
            if st.st_mode & 0o077:
                os.chmod(directory, stat.S_IMODE(st.st_mode) & 0o700)
        elif st.st_mode & 0o022:
            logger.warning(
                "cache directory %s belongs to another user and others can write to it.", directory
            )
    except FileExistsError as exc:  # a concurrent mkdir won the race; nothing to tighten
        if not directory.is_dir():
            raise CacheError(f"cache directory {directory} is not a directory") from exc
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise CacheError(f"cannot create cache directory {directory} ({reason})") from exc
