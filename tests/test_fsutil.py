"""atomic_write_text: all or nothing, UTF-8 without BOM, newlines untouched."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from agent import fsutil
from agent.fsutil import atomic_write_text


def test_writes_utf8_creating_parents(tmp_path: Path) -> None:
    target = tmp_path / "out" / "drafts" / "2026-06-12-hf-daily-papers.md"
    atomic_write_text(target, "총 **3개**\n---\n")
    assert target.read_bytes() == "총 **3개**\n---\n".encode()
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert os.listdir(target.parent) == [target.name]


def test_replaces_and_keeps_the_existing_mode(tmp_path: Path) -> None:
    target = tmp_path / "post.md"
    target.write_text("old", encoding="utf-8")
    target.chmod(0o600)
    atomic_write_text(target, "new\r\nline\n")
    assert target.read_bytes() == b"new\r\nline\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_failure_leaves_the_old_file_and_no_temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "post.md"
    target.write_text("old", encoding="utf-8")

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(fsutil.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_text(target, "new")
    assert target.read_text(encoding="utf-8") == "old"
    assert os.listdir(tmp_path) == ["post.md"]


def test_unencodable_text_writes_nothing(tmp_path: Path) -> None:
    target = tmp_path / "post.md"
    with pytest.raises(UnicodeEncodeError):
        atomic_write_text(target, "lone surrogate \ud800")
    assert os.listdir(tmp_path) == []
