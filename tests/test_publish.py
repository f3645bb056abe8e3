"""publish: the gate, the final post (editor text, rejected papers out, no markers), idempotence."""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import replace
from pathlib import Path

import pytest
from test_review import ABSTRACT, ALPHA, BETA, DAY, EDIT, FLAG, PAPERS, draft, make_cfg, make_digest, said, show_table

from agent.cli import Given, describe
from agent.errors import DigestError, FileChangedError, PublishRefused, ReviewError
from agent.layout import Layout
from agent.models import Enrichment
from agent.pipeline import record_run
from agent.publish import publish
from agent.render import fallback_overview
from agent.review import approve, edit, regenerate, reject
from agent.state import effective_digest
from agent.store import load_review, open_day

POST = f"_posts/{DAY}-hf-daily-papers.md"
PAPERS_ABSTRACT_BETA = ABSTRACT.format(name="Beta")
DELTA = "Delta는 보상을 재설계해 대규모 언어 모델의 수학 추론 정확도를 높이는 방법이다."  # an editor's summary


@pytest.fixture
def out(tmp_path: Path) -> Path:
    record_run(Layout(tmp_path), make_digest(), make_cfg(tmp_path).post)
    return tmp_path


def test_publish_refused_before_review(out: Path) -> None:
    with pytest.raises(PublishRefused) as exc:
        publish(Layout(out), DAY, make_cfg(out))
    assert describe(exc.value) == (
        "2026-06-12: 4 of 4 papers not reviewed yet (3 pending, 1 flagged); "
        "run `paper-digest review 2026-06-12` or pass --force."
    )
    assert exc.value.exit_code == 1
    assert not (out / POST).exists()

    approve(Layout(out), DAY, make_cfg(out), "all")  # the flagged paper still blocks
    with pytest.raises(PublishRefused, match=r"^2026-06-12: 1 of 4 papers not reviewed yet \(1 flagged\)$"):
        publish(Layout(out), DAY, make_cfg(out))


def test_approve_all_then_publish_carries_the_edit(out: Path) -> None:
    cfg = make_cfg(out)
    edit(Layout(out), DAY, cfg, "2606.00001", summary=EDIT, tags="RL")
    approve(Layout(out), DAY, cfg, "all")
    edit(Layout(out), DAY, cfg, "2606.00004", summary=DELTA)

    path = publish(Layout(out), DAY, cfg).post

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
    approve(Layout(out), DAY, cfg, "all")
    edit(Layout(out), DAY, cfg, "2606.00004", summary=DELTA)
    path = publish(Layout(out), DAY, cfg).post
    first, stat = path.read_bytes(), path.stat()
    again = publish(Layout(out), DAY, cfg)
    assert again.post == path and again.post_change == again.data_change == "unchanged"
    assert path.read_bytes() == first
    assert path.stat().st_mtime_ns == stat.st_mtime_ns  # an unchanged post is not rewritten
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # no temp files left


def test_rejected_paper_absent_from_post_and_ranks_renumbered(out: Path) -> None:
    cfg = make_cfg(out)
    reject(Layout(out), DAY, cfg, "2606.00002")
    approve(Layout(out), DAY, cfg, "all")
    edit(Layout(out), DAY, cfg, "2606.00004", summary=DELTA)
    result = publish(Layout(out), DAY, cfg)
    post = result.post.read_text(encoding="utf-8")
    assert "Beta" not in post and BETA not in post
    ranks = [line.split(".")[0] for line in post.splitlines() if line[:1].isdigit()]
    assert ranks == ["1", "2", "3"]
    assert "\n2. **Gamma" in post and "\n3. **Delta" in post
    assert "총 **3개**의 논문이 수집되었습니다." in post  # the count matches what the post lists
    data = json.loads(result.data_file.read_text(encoding="utf-8"))  # and so does the data file's (README)
    assert data["total_papers"] == len(data["papers"]) == 3


def test_force_publishes_unreviewed_papers_without_markers(out: Path) -> None:
    post = publish(Layout(out), DAY, make_cfg(out), force=True).post.read_text(encoding="utf-8")
    assert ALPHA in post
    assert "검토 필요" not in post and "검증 실패" not in post
    assert "\n4. **Delta" in post


def test_everything_rejected_is_refused_even_with_force(out: Path) -> None:
    cfg = make_cfg(out)
    for pid, *_ in PAPERS:
        reject(Layout(out), DAY, cfg, pid)
    with pytest.raises(PublishRefused, match=r"^2026-06-12: every paper is rejected; nothing to publish$"):
        publish(Layout(out), DAY, cfg, force=True)


def test_publish_without_a_run_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ReviewError, match=r"^no run recorded for 2026-06-13: "):
        publish(Layout(tmp_path), dt.date(2026, 6, 13), make_cfg(tmp_path))


# -- the gate checks the text it publishes (the review file is hand-editable) ------------------------


def hand_edit(out: Path, pid: str, **values: object) -> None:
    """Change paper ``pid``'s table in the review file, as an editor with a text editor would."""
    import tomlkit

    path = Layout(out).review(DAY)
    doc = tomlkit.parse(path.read_text(encoding="utf-8"))
    doc[pid].update(values)  # type: ignore[union-attr]
    path.write_text(tomlkit.dumps(doc), encoding="utf-8")


def test_a_hand_edited_summary_that_fails_validation_is_refused_unless_forced(out: Path) -> None:
    cfg = make_cfg(out)
    reject(Layout(out), DAY, cfg, "2606.00004")
    hand_edit(out, "2606.00003", status="edited", summary="Gamma improves math reasoning.")
    approve(Layout(out), DAY, cfg, "all")
    table = show_table(Layout(out), DAY, cfg)
    assert "     ⚠ 게시 불가 (--edit 2606.00003): summary: 한국어 문장이 아님" in table
    assert table.splitlines()[-1] == "left to fix before publishing (--edit): 2606.00003."

    with pytest.raises(PublishRefused) as exc:
        publish(Layout(out), DAY, cfg)
    message = describe(exc.value)
    assert message.startswith("2026-06-12: 1 paper(s) cannot be published as they are (2606.00003: summary: ")
    assert "한국어 문장이 아님" in message and message.endswith("or pass --force.")
    assert "\n" not in message and not (out / POST).exists()

    post = publish(Layout(out), DAY, cfg, force=True).post.read_text(encoding="utf-8")
    assert "Gamma improves" not in post  # forced: the paper without the failing summary
    gamma = post.split("**Gamma")[1].split("\n\n")[0]
    assert "한 줄 요약" not in gamma and "   - 태그: `수학`, `LLM`" in gamma


def test_hand_edited_tags_outside_the_vocabulary_are_refused(out: Path) -> None:
    cfg = make_cfg(out)
    reject(Layout(out), DAY, cfg, "2606.00004")
    hand_edit(out, "2606.00002", status="approved", model_tags=["강화학습", "quantum"])
    approve(Layout(out), DAY, cfg, "all")
    with pytest.raises(PublishRefused, match=r"\(2606\.00002: tags: tag\(s\) not in the vocabulary: quantum "):
        publish(Layout(out), DAY, cfg)
    post = publish(Layout(out), DAY, cfg, force=True).post.read_text(encoding="utf-8")
    assert "quantum" not in post and BETA in post


def test_a_flagged_answer_approved_by_id_is_refused_with_the_reason(tmp_path: Path) -> None:
    cfg = make_cfg(tmp_path)
    english = Enrichment(
        status="flagged", origin="llm", summary="Delta improves math.", tags=("LLM",), flag_reason=FLAG
    )
    digest = make_digest()
    items = tuple(replace(it, enrichment=english) if it.paper.id == "2606.00004" else it for it in digest.items)
    record_run(Layout(tmp_path), replace(digest, items=items), cfg.post)
    assert "     요약: Delta improves math." in show_table(Layout(tmp_path), DAY, cfg)
    approve(Layout(tmp_path), DAY, cfg, "all")
    msg = said(approve(Layout(tmp_path), DAY, cfg, "2606.00004"))
    assert msg.endswith("left to fix before publishing (--edit): 2606.00004.")

    with pytest.raises(PublishRefused, match=r"\(2606\.00004: summary: 한국어 문장이 아님"):
        publish(Layout(tmp_path), DAY, cfg)
    edit(Layout(tmp_path), DAY, cfg, "2606.00004", summary=EDIT.replace("Alpha", "Delta"))
    post = publish(Layout(tmp_path), DAY, cfg).post.read_text(encoding="utf-8")
    assert "Delta improves" not in post and EDIT.replace("Alpha", "Delta") in post


# -- the overview and the count follow what is published -------------------------------------------------


def description(post: str) -> str:
    return post.split('description: "')[1].split('"\n')[0]


def test_the_llm_overview_is_kept_only_while_the_post_lists_the_papers_it_was_written_from(out: Path) -> None:
    cfg = make_cfg(out)
    llm_overview = make_digest().overview
    snapshot = json.loads(Layout(out).snapshot(DAY).read_text(encoding="utf-8"))
    assert snapshot["overview_ids"] == ["2606.00001", "2606.00002", "2606.00003"]  # the summarized ones

    reject(Layout(out), DAY, cfg, "2606.00004")  # the flagged paper the overview did not cover
    approve(Layout(out), DAY, cfg, "all")
    post = publish(Layout(out), DAY, cfg).post.read_text(encoding="utf-8")
    assert description(post) == llm_overview and "총 **3개**" in post

    reject(Layout(out), DAY, cfg, "2606.00002")
    post = publish(Layout(out), DAY, cfg).post.read_text(encoding="utf-8")
    final = effective_digest(open_day(Layout(out), DAY).digest, load_review(Layout(out), DAY), final=True)  # type: ignore[arg-type]
    assert description(post) == fallback_overview(final) != llm_overview
    assert f"\n{llm_overview}\n" not in post and "총 **2개**" in post
    assert llm_overview not in draft(out).read_text(encoding="utf-8")


def test_a_regenerated_paper_the_overview_never_saw_makes_it_stale(out: Path) -> None:
    from test_review import FakeEnricher

    cfg = make_cfg(out)
    answer = Enrichment(status="summarized", origin="llm", summary=EDIT.replace("Alpha", "Delta"), tags=("LLM",))
    regenerate(Layout(out), DAY, cfg, "2606.00004", enricher=FakeEnricher(answer))
    snapshot = json.loads(Layout(out).snapshot(DAY).read_text(encoding="utf-8"))
    assert snapshot["enrichments"]["2606.00004"]["status"] == "summarized"
    assert snapshot["overview_ids"] == ["2606.00001", "2606.00002", "2606.00003"]  # unchanged
    approve(Layout(out), DAY, cfg, "all")
    post = publish(Layout(out), DAY, cfg).post.read_text(encoding="utf-8")
    assert description(post) != make_digest().overview and "총 **4개**" in post


def test_with_top_n_the_count_is_the_days_minus_the_rejected(tmp_path: Path) -> None:
    cfg = make_cfg(tmp_path)
    digest = make_digest()
    record_run(Layout(tmp_path), replace(digest, items=digest.items[:3], total=30), cfg.post)  # top_n = 3 of 30
    reject(Layout(tmp_path), DAY, cfg, "2606.00002")
    approve(Layout(tmp_path), DAY, cfg, "all")
    post = publish(Layout(tmp_path), DAY, cfg).post.read_text(encoding="utf-8")
    assert "총 **29개**의 논문이 수집되었습니다." in post and "\n3. **" not in post


# -- write failures ------------------------------------------------------------------------------------


def test_a_post_path_that_is_a_directory_is_a_one_line_error(out: Path) -> None:
    cfg = make_cfg(out)
    approve(Layout(out), DAY, cfg, "all")
    edit(Layout(out), DAY, cfg, "2606.00004", summary=DELTA)
    (out / POST).mkdir(parents=True)
    with pytest.raises(DigestError) as exc:
        publish(Layout(out), DAY, cfg)
    assert describe(exc.value, Given(again="publish again")) == (
        f"cannot write {out / POST}: Is a directory; nothing was changed; check --out and publish again."
    )
    assert exc.value.exit_code == 1
    assert os.listdir(out / POST) == [] and os.listdir(out / "_posts") == [Path(POST).name]  # no temp files


# -- hand edits the gate must read the editor's way --------------------------------------------------------


def test_a_hand_approved_entry_with_an_editors_summary_publishes_the_editors_text(out: Path) -> None:
    cfg = make_cfg(out)
    hand_edit(out, "2606.00001", status="approved", summary=EDIT, tags=["RL"])
    approve(Layout(out), DAY, cfg, "all")
    edit(Layout(out), DAY, cfg, "2606.00004", summary=DELTA)
    post = publish(Layout(out), DAY, cfg).post.read_text(encoding="utf-8")
    alpha = "1. **Alpha: Reward Reshaping for Math Reasoning** - 👍 90\n"
    assert f"{alpha}   - 한 줄 요약: {EDIT}\n   - 태그: `강화학습`\n" in post
    assert ALPHA not in post
    assert load_review(Layout(out), DAY).entries["2606.00001"].status == "edited"  # type: ignore[union-attr]


def test_needs_review_set_to_approved_by_hand_reverts_and_publish_says_how_to_clear_it(out: Path) -> None:
    cfg = make_cfg(out)
    approve(Layout(out), DAY, cfg, "all")
    edit(Layout(out), DAY, cfg, "2606.00004", summary=DELTA)
    changed = make_digest(abstracts={"2606.00002": PAPERS_ABSTRACT_BETA + " Version two fixes an error."})
    record_run(Layout(out), changed, cfg.post)
    hand_edit(out, "2606.00002", status="approved")
    record_run(Layout(out), changed, cfg.post)  # the next run: the hand-set status does not clear needs-review
    assert load_review(Layout(out), DAY).entries["2606.00002"].status == "needs-review"  # type: ignore[union-attr]

    with pytest.raises(PublishRefused) as exc:
        publish(Layout(out), DAY, cfg)
    assert describe(exc.value) == (
        "2026-06-12: 1 of 4 papers not reviewed yet (1 needs-review); run `paper-digest review 2026-06-12` "
        "and clear needs-review with `paper-digest review 2026-06-12 --approve ID` (a status set by hand in the "
        "review file reverts at the next run), or pass --force."
    )
    approve(Layout(out), DAY, cfg, "2606.00002")
    assert publish(Layout(out), DAY, cfg).post.exists()


# -- the overview follows the text it was written from --------------------------------------------------


@pytest.mark.parametrize("change", ["summary", "tags", "regenerate"])
def test_the_llm_overview_is_dropped_when_a_paper_it_was_written_from_changes(out: Path, change: str) -> None:
    from test_review import REGENERATED, FakeEnricher

    cfg = make_cfg(out)
    reject(Layout(out), DAY, cfg, "2606.00004")  # the post lists exactly the papers the overview was written from
    if change == "summary":
        edit(Layout(out), DAY, cfg, "2606.00001", summary=EDIT)
    elif change == "tags":
        edit(Layout(out), DAY, cfg, "2606.00001", tags="LLM")
    else:
        answer = Enrichment(status="summarized", origin="llm", summary=REGENERATED, tags=("강화학습", "수학"))
        regenerate(Layout(out), DAY, cfg, "2606.00001", enricher=FakeEnricher(answer))
    approve(Layout(out), DAY, cfg, "all")
    llm_overview = make_digest().overview
    post = publish(Layout(out), DAY, cfg).post.read_text(encoding="utf-8")
    assert description(post) != llm_overview and f"\n{llm_overview}\n" not in post
    assert llm_overview not in draft(out).read_text(encoding="utf-8")


def test_a_hand_save_during_publish_writes_no_post(out: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from agent import fsutil

    cfg = make_cfg(out)
    approve(Layout(out), DAY, cfg, "all")
    edit(Layout(out), DAY, cfg, "2606.00004", summary=DELTA)
    path = Layout(out).review(DAY)
    real_stage = fsutil._stage

    def stage_while_the_editor_saves(target: Path, data: bytes) -> str:
        path.write_text(path.read_text(encoding="utf-8") + "# 저장\n", encoding="utf-8")
        return real_stage(target, data)

    monkeypatch.setattr(fsutil, "_stage", stage_while_the_editor_saves)
    with pytest.raises(FileChangedError, match=r"-review\.toml changed while paper-digest was writing it; nothing was"):
        publish(Layout(out), DAY, cfg)
    assert not (out / POST).exists() and os.listdir(out / "_posts") == []
