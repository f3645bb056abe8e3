"""The per-date lock: a nightly run and an editor's command never interleave their writes for one date.

Every read-modify-write of a date's snapshot, review state, draft or post happens inside ``date_lock``.
Holders keep it for milliseconds (the LLM is never called under it), so the second process waits briefly
and only gives up, with a LockedError, when the first is really stuck.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from agent.errors import LockedError
from agent.fsutil import atomic_write_text
from agent.layout import STATE_GITIGNORE, Layout

DEFAULT_TIMEOUT = 10.0  # seconds


@contextmanager
def date_lock(layout: Layout, day: dt.date, timeout: float = DEFAULT_TIMEOUT) -> Iterator[Path]:
    """Hold the date's lock file (``layout.lock(day)``; its folder is created, and in the blog layout a
    .gitignore there keeps lock and temporary files out of git); LockedError after ``timeout`` seconds.

    Not re-entrant across calls: take it once around a whole read-modify-write, never in a helper.
    """
    path = layout.lock(day)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        ignore = layout.gitignore()
        if ignore is not None and not ignore.exists():
            atomic_write_text(ignore, STATE_GITIGNORE)
    except OSError as exc:
        raise LockedError(day, path, reason=f"cannot create {path.parent}: {exc.strerror or exc}", folder=True) from exc
    lock = FileLock(path, timeout=timeout, thread_local=False)
    try:
        lock.acquire()
    except Timeout:
        raise LockedError(day, path) from None
    except OSError as exc:  # a lock file of another user (EACCES), a symbolic link there (ELOOP), ...
        raise LockedError(day, path, reason=_lock_problem(path, exc)) from exc
    try:
        yield path
    finally:
        lock.release()


def _lock_problem(path: Path, exc: OSError) -> str:
    if path.is_symlink():
        return "it is a symbolic link"
    if isinstance(exc, PermissionError):
        return "permission denied (it may belong to another user)"
    return exc.strerror or str(exc)
