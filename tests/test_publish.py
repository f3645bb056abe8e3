"""publish: the gate, the final post (editor text, rejected papers out, no markers), idempotence."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from test_review import ALPHA, BETA, DAY, EDIT, PAPERS, draft, make_cfg, make_digest

from agent.errors import PublishRefused, ReviewError
from agent.publish import publish
from agent.review import approve, edit, record_run, reject

POST = f"_posts/{DAY}-hf-daily-papers.md"


@pytest.fixture
def out(tmp_path: Path) -> Path:
    record_run(tmp_path, make_digest(), make_cfg(tmp_path).post)
    return tmp_path


def test_publish_refused_before_review(out: Path) -> None:
    with pytest.raises(PublishRefused) as exc:
        publish(out, DAY, make_cfg(out))
    assert str(exc.value) == (
        "2026-06-12: 4 of 4 papers not reviewed yet (3 pending, 1 flagged); "
        "run `paper-digest review 2026-06-12` or pass --force."
    )
    assert exc.value.exit_code == 1
    assert not (out / POST).exists()

    approve(out, DAY, make_cfg(out), "all")  # the flagged paper still blocks
    with pytest.raises(PublishRefused, match=r"^2026-06-12: 1 of 4 papers not reviewed yet \(1 flagged\); "):
        publish(out, DAY, make_cfg(out))


def test_approve_all_then_publish_carries_the_edit(out: Path) -> None:
    cfg = make_cfg(out)
    edit(out, DAY, cfg, "2606.00001", summary=EDIT, tags="RL")
    approve(out, DAY, cfg, "all")
    approve(out, DAY, cfg, "2606.00004")

    path = publish(out, DAY, cfg)

    assert path == out / POST
    post = path.read_text(encoding="utf-8")
    assert post.startswith('---\ntitle: "Hugging Face Daily Papers - 2026-06-12"\n')
    alpha = "1. **Alpha: Reward Reshaping for Math Reasoning** - 👍 90\n"
    assert f"{alpha}   - 한 줄 요약: {EDIT}\n   - 태그: `강화학습`\n" in post
    assert ALPHA not in post  # the model's sentence the editor replaced
    assert BETA in post
    assert "검토 필요" not in post and "요약 대기" not in post  # no review markers
    # The draft still exists and is untouched by publishing.
    assert draft(out).exists()


def test_publish_is_idempotent(out: Path) -> None:
    cfg = make_cfg(out)
    approve(out, DAY, cfg, "2606.00001,2606.00002,2606.00003,2606.00004")
    path = publish(out, DAY, cfg)
    first, stat = path.read_bytes(), path.stat()
    assert publish(out, DAY, cfg) == path
    assert path.read_bytes() == first
    assert path.stat().st_mtime_ns == stat.st_mtime_ns  # an unchanged post is not rewritten
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # no temp files left


def test_rejected_paper_absent_from_post_and_ranks_renumbered(out: Path) -> None:
    cfg = make_cfg(out)
    reject(out, DAY, cfg, "2606.00002")
    approve(out, DAY, cfg, "all")
    approve(out, DAY, cfg, "2606.00004")
    post = publish(out, DAY, cfg).read_text(encoding="utf-8")
    assert "Beta" not in post and BETA not in post
    ranks = [line.split(".")[0] for line in post.splitlines() if line[:1].isdigit()]
    assert ranks == ["1", "2", "3"]
    assert "\n2. **Gamma" in post and "\n3. **Delta" in post
    assert "총 **4개**의 논문이 수집되었습니다." in post  # collected that day, rejected included


def test_force_publishes_unreviewed_papers_without_markers(out: Path) -> None:
    post = publish(out, DAY, make_cfg(out), force=True).read_text(encoding="utf-8")
    assert ALPHA in post
    assert "검토 필요" not in post and "검증 실패" not in post
    assert "\n4. **Delta" in post


def test_everything_rejected_is_refused_even_with_force(out: Path) -> None:
    cfg = make_cfg(out)
    for pid, *_ in PAPERS:
        reject(out, DAY, cfg, pid)
    with pytest.raises(PublishRefused, match=r"^2026-06-12: every paper is rejected; nothing to publish\.$"):
        publish(out, DAY, cfg, force=True)


def test_publish_without_a_run_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ReviewError, match=r"^no run recorded for 2026-06-13: "):
        publish(tmp_path, dt.date(2026, 6, 13), make_cfg(tmp_path))
