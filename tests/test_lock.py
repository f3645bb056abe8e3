"""The per-date lock: a second process waits briefly, then gets a clear LockedError; nothing is written."""

from __future__ import annotations

import datetime as dt
import multiprocessing
from pathlib import Path
from typing import Any

import pytest

from agent.cli import describe
from agent.errors import LockedError
from agent.layout import Layout
from agent.lock import date_lock

DAY = dt.date(2026, 6, 12)


def _hold(out: str, held: Any, release: Any) -> None:
    with date_lock(Layout(Path(out)), DAY):
        held.set()
        release.wait(30)


def test_second_process_gets_a_clear_locked_error(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    held, release = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=_hold, args=(str(tmp_path), held, release))
    holder.start()
    try:
        assert held.wait(30)
        with pytest.raises(LockedError) as exc, date_lock(Layout(tmp_path), DAY, timeout=0.2):
            pass
        assert describe(exc.value) == (
            f"another paper-digest process is working on 2026-06-12 (lock {Layout(tmp_path).lock(DAY)}); "
            "try again when it finishes."
        )
        assert exc.value.exit_code == 1
    finally:
        release.set()
        holder.join(30)
    assert holder.exitcode == 0
    with date_lock(Layout(tmp_path), DAY, timeout=1):  # released when the holder finished
        pass


def test_lock_is_per_date_and_released_after_the_block(tmp_path: Path) -> None:
    with date_lock(Layout(tmp_path), DAY) as path:
        assert path == tmp_path / "drafts" / ".2026-06-12.lock"
        with date_lock(Layout(tmp_path), DAY + dt.timedelta(days=1), timeout=0.1):
            pass  # another date is not blocked
    with date_lock(Layout(tmp_path), DAY, timeout=0.1):
        pass


def test_editor_command_waits_then_fails_without_writing(tmp_path: Path) -> None:
    from test_review import draft, make_cfg, make_digest

    from agent.pipeline import record_run
    from agent.review import approve

    record_run(Layout(tmp_path), make_digest(), make_cfg(tmp_path).post)
    before = (Layout(tmp_path).review(DAY).read_bytes(), draft(tmp_path).read_bytes())
    with date_lock(Layout(tmp_path), DAY), pytest.raises(LockedError, match="another paper-digest process"):
        approve(Layout(tmp_path), DAY, make_cfg(tmp_path), "all", lock_timeout=0.1)
    assert (Layout(tmp_path).review(DAY).read_bytes(), draft(tmp_path).read_bytes()) == before
