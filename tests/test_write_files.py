"""fsutil.write_files (several files as one change) and fsutil.unwritable (the check run does before fetching)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agent import fsutil
from agent.errors import DigestError, FileChangedError
from agent.fsutil import unwritable, write_files


def test_writes_every_file_creating_parents(tmp_path: Path) -> None:
    a, b = tmp_path / "drafts" / "a.json", tmp_path / "drafts" / "b.md"
    write_files([(a, "{}\n"), (b, "총 **3개**\n")])
    assert a.read_text(encoding="utf-8") == "{}\n" and b.read_text(encoding="utf-8") == "총 **3개**\n"
    assert sorted(os.listdir(a.parent)) == ["a.json", "b.md"]


def test_a_failure_restores_the_files_already_replaced_and_removes_new_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old, new, bad = tmp_path / "old.json", tmp_path / "new.toml", tmp_path / "bad.md"
    old.write_text("old\n", encoding="utf-8")
    bad.write_text("bad before\n", encoding="utf-8")
    real_replace = os.replace

    def failing(src: str, dst: str) -> None:
        if str(dst) == str(bad):
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(fsutil.os, "replace", failing)
    with pytest.raises(DigestError) as exc:
        write_files([(old, "changed\n"), (new, "created\n"), (bad, "x\n")])
    assert str(exc.value) == f"cannot write {bad}: No space left on device; nothing was changed"
    assert old.read_text(encoding="utf-8") == "old\n" and not new.exists()
    assert sorted(os.listdir(tmp_path)) == ["bad.md", "old.json"]  # no temporary files


def test_a_parent_that_is_a_file_names_it(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("", encoding="utf-8")
    target = tmp_path / "file" / "post.md"
    with pytest.raises(DigestError, match=rf"^cannot write {target}: .*; nothing was changed$"):
        write_files([(target, "x")])


def test_unwritable_says_why_without_creating_anything(tmp_path: Path) -> None:
    (tmp_path / "dir").mkdir()
    (tmp_path / "file").write_text("", encoding="utf-8")
    assert unwritable(tmp_path / "dir") == "it is a directory"
    assert unwritable(tmp_path / "file" / "deep" / "r.json") == f"{tmp_path / 'file'} is not a directory"
    assert unwritable(tmp_path / "new" / "deeper" / "r.json") is None
    assert unwritable(Path("relative.json")) is None
    assert sorted(os.listdir(tmp_path)) == ["dir", "file"]


def test_unchanged_files_are_left_alone(tmp_path: Path) -> None:
    same, changed = tmp_path / "same.md", tmp_path / "changed.md"
    write_files([(same, "같은 내용\n"), (changed, "old\n")])
    inode = same.stat().st_ino
    write_files([(same, "같은 내용\n"), (changed, "new\n")])
    assert same.stat().st_ino == inode  # not replaced: a re-run of a cached day writes nothing new
    assert changed.read_text(encoding="utf-8") == "new\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["changed.md", "same.md"]


def test_the_same_target_twice_is_a_programming_error(tmp_path: Path) -> None:
    target = tmp_path / "drafts" / "d.md"
    with pytest.raises(ValueError, match=r"d\.md is given more than once"):
        write_files([(target, "draft\n"), (tmp_path / "x" / ".." / "drafts" / "d.md", "report\n")])
    assert os.listdir(tmp_path) == []  # checked before anything is staged


def test_a_file_saved_by_hand_since_it_was_read_stops_the_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    review, draft = tmp_path / "r.toml", tmp_path / "d.md"
    review.write_text("as read\n", encoding="utf-8")
    draft.write_text("old draft\n", encoding="utf-8")
    real_stage = fsutil._stage

    def stage_while_the_editor_saves(path: Path, data: bytes) -> str:
        review.write_text("saved by hand\n", encoding="utf-8")
        return real_stage(path, data)

    monkeypatch.setattr(fsutil, "_stage", stage_while_the_editor_saves)
    with pytest.raises(FileChangedError) as exc:
        write_files([(review, "merged\n"), (draft, "new draft\n")], expect={review: b"as read\n"})
    assert str(exc.value) == (
        f"{review} changed while paper-digest was writing it; nothing was written"
    )
    assert review.read_text(encoding="utf-8") == "saved by hand\n"
    assert draft.read_text(encoding="utf-8") == "old draft\n"
    assert sorted(os.listdir(tmp_path)) == ["d.md", "r.toml"]  # no temporary files

    new = tmp_path / "new.toml"  # absent when read (None), created meanwhile
    new.write_text("created by hand\n", encoding="utf-8")
    with pytest.raises(FileChangedError, match="changed while paper-digest was writing it"):
        write_files([(draft, "newer draft\n")], expect={new: None})
    assert draft.read_text(encoding="utf-8") == "old draft\n"
