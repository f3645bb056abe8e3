"""A warm re-run does no work it need not: the review file is parsed once per command, and a draft whose
render stamp (agent.store) matches its inputs and its bytes is not rendered again. Whatever is skipped, the
files come out byte for byte as a full render writes them."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import SAMPLE
from typer.testing import CliRunner

from agent import store
from agent.cli import app
from agent.config import PostConfig
from agent.layout import Layout

DAY = "2026-02-13"


def run(out: Path) -> None:
    args = ["run", "--date", DAY, "--source", str(SAMPLE), "--out", str(out), "--no-llm"]
    result = CliRunner().invoke(app, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output


def test_an_unchanged_draft_is_not_rendered_again_and_a_changed_one_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    draft = out / "drafts" / f"{DAY}-hf-daily-papers.md"
    run(out)
    written = draft.read_bytes()
    try:
        os.getxattr(draft, "user.paper-digest.draft")
    except OSError:
        pytest.skip("no user extended attributes on this file system: every run renders the draft")

    renders: list[int] = []
    parses: list[int] = []
    real_render, real_parse = store.render_draft, store.parse_review
    monkeypatch.setattr(store, "render_draft", lambda *a, **k: renders.append(1) or real_render(*a, **k))
    monkeypatch.setattr(store, "parse_review", lambda *a, **k: parses.append(1) or real_parse(*a, **k))

    run(out)  # nothing changed: no render, the review file parsed once (checked before the fetch, reused)
    assert (renders, len(parses), draft.read_bytes()) == ([], 1, written)

    draft.write_text("edited by hand\n", encoding="utf-8")  # the bytes no longer match the stamp
    run(out)
    assert (len(renders), draft.read_bytes()) == (1, written)

    # The next run fetches at another time: the draft does not show it, so the stamp does not hold it.
    day = store.open_day(Layout(out, blog=False), dt.date.fromisoformat(DAY))
    later = replace(day, digest=replace(day.digest, crawled_at="2030-01-01T00:00:00Z"))
    assert store._render_key(later, PostConfig()) == store._render_key(day, PostConfig())

    review = out / "drafts" / f"{DAY}-review.toml"
    review.write_text(review.read_text("utf-8").replace('status = "pending"', 'status = "rejected"', 1), "utf-8")
    run(out)  # the state changed: rendered again, and the draft shows it
    assert len(renders) == 2 and draft.read_bytes() != written
