"""File writes that never leave a half-written draft, post or report behind."""

from __future__ import annotations

import contextlib
import glob
import os
import stat
import tempfile
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from agent.errors import FileChangedError, WriteError


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` as UTF-8 (no BOM, newlines untouched) to ``path`` atomically.

    The text goes to a temporary file in the same directory, is flushed to disk, then renamed over
    ``path``: readers (and a crash) see the old file or the new one, never a mix. Parent directories
    are created; the temporary file is removed if anything fails.
    """
    _write_bytes(Path(path), text.encode("utf-8"))


def _write_bytes(path: Path, data: bytes) -> None:
    tmp = _stage(path, data)
    try:
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def write_files(
    files: Sequence[tuple[Path, str]],
    *,
    expect: Mapping[Path, bytes | None] | None = None,
    remove: Sequence[Path] = (),
) -> None:
    """Write several files as one change: every file is staged (written to a temporary file beside it)
    before the first is replaced, and if a replacement fails, the files already replaced get their old
    content back. An OSError becomes a WriteError naming the path and the reason.

    ``expect``: files a person may save meanwhile (the review file), with the bytes they held when read
    (None: absent). Checked right before the first replacement; if one changed, FileChangedError and nothing
    is written, so a hand save is never overwritten. ``remove``: files deleted as part of the change (after
    the writes; put back if a later step fails). The same target twice is a ValueError (a bug)."""
    twice = [p for p, n in Counter(os.path.realpath(p) for p, _ in files).items() if n > 1]
    if twice:
        raise ValueError(f"write_files: {twice[0]} is given more than once")
    staged: list[tuple[Path, str, bytes | None]] = []  # target, temporary file, old content (None: new)
    replaced: list[tuple[Path, bytes | None]] = []
    current: Path | None = None
    try:
        for current, text in files:
            data = text.encode("utf-8")
            old = _old_content(current)
            if old == data:  # unchanged (a re-run of a cached day): no temporary file, no fsync
                continue
            staged.append((current, _stage(current, data), old))
        for current, before in (expect or {}).items():
            if _old_content(current) != before:
                raise FileChangedError(current)
        for current, tmp, old in staged:
            os.replace(tmp, current)
            replaced.append((current, old))
        for current in remove:
            old = _old_content(current)
            if old is not None:
                os.unlink(current)
                replaced.append((current, old))
    except BaseException as exc:
        for path, old in reversed(replaced):
            with contextlib.suppress(OSError):
                if old is None:
                    os.unlink(path)
                else:
                    _write_bytes(path, old)  # a replaced file's old content, or a removed file back
        for _, tmp, _ in staged:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        if isinstance(exc, OSError):
            raise WriteError(current or Path(exc.filename or "."), _reason(exc, current)) from exc
        raise
    for directory in dict.fromkeys(path.parent for path, _ in replaced):
        _fsync_dir(directory)


def sweep_temp_files(paths: Iterable[Path]) -> list[Path]:
    """Remove the temporary files that writes of ``paths`` left behind when the process was killed
    (``.<name>.<random>.tmp`` beside each, as ``_stage`` makes them); returns the ones removed. Call it
    holding the lock that covers those writes, so no write in progress loses its file."""
    removed: list[Path] = []
    for path in paths:
        try:
            stale = list(path.parent.glob(f".{glob.escape(path.name)}.*.tmp"))
        except OSError:
            continue
        for tmp in stale:
            with contextlib.suppress(OSError):  # best effort: gone already, or not ours to remove
                tmp.unlink()
                removed.append(tmp)
    return removed


def unwritable(path: Path) -> str | None:
    """Why ``path`` cannot be written as a file (it is a directory, a parent is a file or read-only), or
    None when it looks writable. Checks without creating anything, so a run can fail before it starts."""
    try:
        if path.is_dir():
            return "it is a directory"
        folder = path.parent
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
        if not folder.is_dir():
            return f"{folder} is not a directory"
        if not os.access(folder, os.W_OK | os.X_OK):
            return f"{folder} is not writable"
    except OSError as exc:
        return _reason(exc, path)
    return None


def _reason(exc: OSError, path: Path | None) -> str:
    reason = exc.strerror or str(exc)
    if exc.filename is not None and str(exc.filename) != str(path):
        reason += f" ({exc.filename})"
    return reason


def _old_content(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def _stage(path: Path, data: bytes) -> str:
    """``data`` in a temporary file beside ``path`` (parents created), flushed, with the mode ``path`` has."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        mode = 0o644  # mkstemp makes 0600; a post must stay readable by the blog's build
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return tmp


def _fsync_dir(directory: Path) -> None:
    # Makes the rename itself durable on POSIX; not possible (nor needed) everywhere.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
