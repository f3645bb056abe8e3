"""Editorial review: state file, merge on re-runs, editor commands, regenerate, races, broken files."""

from __future__ import annotations

import datetime as dt
import difflib
import multiprocessing
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from agent.cli import Given, describe, review_message, review_table
from agent.config import Config
from agent.errors import DigestError, EditRejected, FileChangedError, ReviewError, WriteError
from agent.layout import Layout
from agent.models import Digest, DigestItem, Enrichment, Paper
from agent.pipeline import record_run
from agent.publish import day_blockers
from agent.review import ReviewResult, approve, edit, open_day, regenerate, reject, rows_of
from agent.state import NEEDS_REVIEW_REASON, effective_digest, merge_review
from agent.store import load_review

DAY = dt.date(2026, 6, 12)
ABSTRACT = (
    "We propose {name}, a reinforcement learning method that reshapes rewards for mathematical reasoning "
    "in large language models and improves accuracy on competition benchmarks."
)
ALPHA = "Alpha는 보상 구조를 바꿔 대규모 언어 모델의 수학 추론 정확도를 높이는 강화학습 방법이다."
BETA = "Beta는 경쟁 벤치마크에서 언어 모델의 수학 추론을 개선하는 보상 재설계 방법이다."
GAMMA = "Gamma는 강화학습 보상을 재구성해 대규모 언어 모델의 수학 문제 풀이를 개선한다."
FLAG = "검증 실패: 초록에 없는 숫자"
# id, upvotes, name, the model's summary (None: a flagged answer), tags, new keywords
PAPERS: list[tuple[str, int, str, str | None, tuple[str, ...], tuple[str, ...]]] = [
    ("2606.00001", 90, "Alpha", ALPHA, ("강화학습", "수학"), ("reward shaping",)),
    ("2606.00002", 70, "Beta", BETA, ("강화학습",), ()),
    ("2606.00003", 50, "Gamma", GAMMA, ("수학", "LLM"), ()),
    ("2606.00004", 30, "Delta", None, ("LLM",), ()),
]
EDIT = "편집자가 고친 문장으로 Alpha가 수학 추론 정확도를 끌어올리는 방식을 설명한다."


def make_paper(pid: str, upvotes: int, name: str, abstract: str | None = None) -> Paper:
    return Paper(
        id=pid,
        title=f"{name}: Reward Reshaping for Math Reasoning",
        abstract=abstract or ABSTRACT.format(name=name),
        upvotes=upvotes,
        authors=("Kim", "Lee"),
    )


def make_digest(
    *,
    abstracts: dict[str, str] | None = None,
    summaries: dict[str, str] | None = None,
    drop: tuple[str, ...] = (),
) -> Digest:
    items: list[DigestItem] = []
    for pid, upvotes, name, summary, tags, keywords in PAPERS:
        if pid in drop:
            continue
        summary = (summaries or {}).get(pid, summary)
        if summary is None:
            e = Enrichment(status="flagged", origin="llm", tags=tags, flag_reason=FLAG)
        else:
            e = Enrichment(
                status="summarized", origin="llm", summary=summary, tags=tags, new_keywords=keywords
            )
        paper = make_paper(pid, upvotes, name, (abstracts or {}).get(pid))
        items.append(DigestItem(rank=len(items) + 1, paper=paper, enrichment=e))
    return Digest(date=DAY, items=tuple(items), total=len(PAPERS), overview="강화학습 논문이 많았습니다.")


def said(result: ReviewResult, *, approved_all: bool = False) -> str:
    """What the CLI says about a review command's result."""
    return review_message(result, Given(), approved_all=approved_all)


def show_table(layout: Layout, day: dt.date, cfg: Config) -> str:
    """The review table as the CLI prints it."""
    opened = open_day(layout, day)
    return review_table(day, rows_of(opened, cfg), day_blockers(opened, cfg), layout.review(day), Given())


def make_cfg(out: Path) -> Config:
    return Config(out_dir=out)


def draft(out: Path) -> Path:
    return out / "drafts" / f"{DAY}-hf-daily-papers.md"


def statuses(out: Path) -> dict[str, str]:
    state = load_review(Layout(out), DAY)
    assert state is not None
    return {pid: e.status for pid, e in state.entries.items()}


@pytest.fixture
def out(tmp_path: Path) -> Path:
    record_run(Layout(tmp_path), make_digest(), make_cfg(tmp_path).post)
    return tmp_path


# -- run: snapshot, state, draft --------------------------------------------------------------------


def test_first_run_writes_snapshot_state_and_draft(out: Path) -> None:
    assert open_day(Layout(out), DAY).digest == make_digest()
    assert statuses(out) == {
        "2606.00001": "pending",
        "2606.00002": "pending",
        "2606.00003": "pending",
        "2606.00004": "flagged",
    }
    text = Layout(out).review(DAY).read_text(encoding="utf-8")
    assert '["2606.00001"]\nstatus = "pending"\n' in text
    assert 'new_keywords = [\n    "reward shaping",\n]' in text or 'new_keywords = ["reward shaping"]' in text
    body = draft(out).read_text(encoding="utf-8")
    assert ALPHA in body
    assert FLAG in body  # the flagged paper is marked in the draft


def test_merge_is_idempotent() -> None:
    digest = make_digest()
    once = merge_review(None, digest, now="T1")
    assert merge_review(once, digest, now="T2") == once


def test_edit_survives_nightly_rerun(out: Path) -> None:
    cfg = make_cfg(out)
    edit(Layout(out), DAY, cfg, "2606.00001", summary=EDIT, tags="RL, math")
    # The next night the model answers differently for every paper.
    new_answer = "Alpha는 대규모 언어 모델의 수학 추론을 위한 새로운 보상 설계 강화학습 방법을 제시한다."
    record_run(Layout(out), make_digest(summaries={"2606.00001": new_answer}), cfg.post)

    entry = load_review(Layout(out), DAY).entries["2606.00001"]  # type: ignore[union-attr]
    assert (entry.status, entry.summary, entry.tags) == ("edited", EDIT, ("강화학습", "수학"))
    assert entry.model_summary == ALPHA  # the answer the edit was made against stays pinned
    body = draft(out).read_text(encoding="utf-8")
    assert EDIT in body and new_answer not in body


def test_rerun_updates_pending_answers_but_not_approved_ones(out: Path) -> None:
    cfg = make_cfg(out)
    approve(Layout(out), DAY, cfg, "2606.00002")
    beta2 = "Beta는 경쟁 벤치마크의 수학 문제에서 언어 모델 정확도를 높이는 보상 재설계 기법이다."
    gamma2 = "Gamma는 대규모 언어 모델의 수학 풀이를 위해 강화학습 보상을 다시 구성하는 방법이다."
    record_run(Layout(out), make_digest(summaries={"2606.00002": beta2, "2606.00003": gamma2}), cfg.post)

    state = load_review(Layout(out), DAY)
    assert state is not None
    assert state.entries["2606.00002"].status == "approved"
    assert state.entries["2606.00002"].model_summary == BETA  # what was approved is what is published
    assert state.entries["2606.00003"].model_summary == gamma2
    body = draft(out).read_text(encoding="utf-8")
    assert BETA in body and gamma2 in body and beta2 not in body


def test_abstract_changed_upstream_needs_review_with_old_edit_kept(out: Path) -> None:
    cfg = make_cfg(out)
    edit(Layout(out), DAY, cfg, "2606.00001", summary=EDIT)
    approve(Layout(out), DAY, cfg, "2606.00002")
    changed = {
        "2606.00001": ABSTRACT.format(name="Alpha") + " We also release the code.",
        "2606.00002": ABSTRACT.format(name="Beta") + " Version two fixes an error.",
        # Only reflowed: not a change.
        "2606.00003": ABSTRACT.format(name="Gamma").replace(" ", "\n  ", 3),
    }
    record_run(Layout(out), make_digest(abstracts=changed), cfg.post)

    state = load_review(Layout(out), DAY)
    assert state is not None
    alpha = state.entries["2606.00001"]
    assert (alpha.status, alpha.summary) == ("needs-review", EDIT)
    assert state.entries["2606.00002"].status == "needs-review"
    assert state.entries["2606.00003"].status == "pending"
    body = draft(out).read_text(encoding="utf-8")
    assert f"{NEEDS_REVIEW_REASON} (이전 편집 유지)" in body
    assert EDIT in body

    msg = said(approve(Layout(out), DAY, cfg, "all"), approved_all=True)
    assert msg.startswith(
        "approved 3 paper(s): 2606.00001, 2606.00002, 2606.00003; 1 flagged left (2606.00004)"
    )
    assert statuses(out)["2606.00001"] == "edited"  # approving keeps the editor's text
    assert NEEDS_REVIEW_REASON not in draft(out).read_text(encoding="utf-8")


def test_vanished_paper_is_kept_marked_and_restored(out: Path) -> None:
    cfg = make_cfg(out)
    approve(Layout(out), DAY, cfg, "2606.00003")
    record_run(Layout(out), make_digest(drop=("2606.00003",)), cfg.post)
    assert statuses(out)["2606.00003"] == "vanished"
    assert "Gamma" not in draft(out).read_text(encoding="utf-8")
    with pytest.raises(ReviewError, match=r"paper 2606\.00003 is no longer among the papers of 2026-06-12"):
        approve(Layout(out), DAY, cfg, "2606.00003")

    record_run(Layout(out), make_digest(), cfg.post)
    assert statuses(out)["2606.00003"] == "approved"


def test_reject_leaves_paper_out_of_draft_and_renumbers(out: Path) -> None:
    msg = said(reject(Layout(out), DAY, make_cfg(out), "2606.00002"))
    assert msg.startswith("rejected 2606.00002: left out of the draft and the post.")
    body = draft(out).read_text(encoding="utf-8")
    assert "Beta:" not in body
    assert "\n2. **Gamma" in body and "\n3. **Delta" in body and "\n4. **" not in body


def test_effective_digest_editor_text_wins() -> None:
    digest = make_digest()
    state = merge_review(None, digest)
    entries = dict(state.entries)
    entries["2606.00004"] = replace(entries["2606.00004"], status="edited", summary=EDIT, tags=("LLM",))
    final = effective_digest(digest, replace(state, entries=entries), final=True)
    delta = final.items[3].enrichment
    assert (delta.status, delta.origin, delta.summary, delta.flag_reason) == (
        "summarized",
        "editor",
        EDIT,
        None,
    )


# -- the editor's commands -------------------------------------------------------------------------


def test_edit_validates_like_model_output(out: Path) -> None:
    cfg = make_cfg(out)
    before = (Layout(out).review(DAY).read_bytes(), draft(out).read_bytes())
    with pytest.raises(ReviewError) as bad_summary:
        edit(Layout(out), DAY, cfg, "2606.00001", summary="Alpha improves math reasoning.")
    assert str(bad_summary.value).startswith("summary for 2606.00001 not accepted: 한국어 문장이 아님")
    with pytest.raises(ReviewError) as bad_tag:
        edit(Layout(out), DAY, cfg, "2606.00001", tags="RL, quantum chemistry")
    assert str(bad_tag.value).startswith(
        "tags for 2606.00001 not accepted: tag(s) not in the vocabulary: quantum chemistry "
        "(use names or aliases"
    )
    with pytest.raises(ReviewError, match="give 1–3 tags, not 4"):
        edit(Layout(out), DAY, cfg, "2606.00001", tags=["RL", "math", "LLM", "agents"])
    with pytest.raises(ValueError):  # the CLI says "--edit needs --summary TEXT and/or --tags a,b" (exit 2)
        edit(Layout(out), DAY, cfg, "2606.00001")
    assert (Layout(out).review(DAY).read_bytes(), draft(out).read_bytes()) == before


def test_an_edit_with_a_bad_summary_and_bad_tags_reports_both(out: Path) -> None:
    before = Layout(out).review(DAY).read_bytes()
    with pytest.raises(EditRejected) as info:
        edit(Layout(out), DAY, make_cfg(out), "2606.00001", summary="Alpha improves math reasoning.", tags="없는태그")
    assert info.value.summary_problems[0].startswith("한국어 문장이 아님")
    assert info.value.tag_problems[0].startswith("tag(s) not in the vocabulary: 없는태그")
    message = str(info.value)
    assert message.startswith("summary for 2606.00001 not accepted: 한국어 문장이 아님")
    assert "; tags for 2606.00001 not accepted: tag(s) not in the vocabulary: 없는태그" in message
    assert Layout(out).review(DAY).read_bytes() == before


def test_unknown_id_lists_the_ids_that_exist(out: Path) -> None:
    with pytest.raises(ReviewError) as exc:
        approve(Layout(out), DAY, make_cfg(out), "2606.99999")
    assert describe(exc.value) == (
        "no paper '2606.99999' on 2026-06-12; ids: 2606.00001, 2606.00002, 2606.00003, 2606.00004."
    )


def test_approve_all_leaves_flagged_papers_to_be_approved_by_id(out: Path) -> None:
    cfg = make_cfg(out)
    msg = said(approve(Layout(out), DAY, cfg, "all"), approved_all=True)
    assert msg == (
        "approved 3 paper(s): 2606.00001, 2606.00002, 2606.00003; 1 flagged left (2606.00004): edit, "
        "regenerate, reject, or approve each by id. left to review: 1 flagged."
    )
    msg = said(approve(Layout(out), DAY, cfg, "2606.00004"))
    assert msg == (  # 2606.00004 was flagged with no usable answer: approved as it is, without a summary
        "approved 1 paper(s): 2606.00004. nothing left to review, but 1 of 4 papers have no summary: write them "
        "with --edit ID --summary TEXT, or publish without with `paper-digest publish 2026-06-12 --force`."
    )
    assert set(statuses(out).values()) == {"approved"}
    assert said(approve(Layout(out), DAY, cfg, "2606.00001")).startswith("already approved: 2606.00001.")
    result = reject(Layout(out), DAY, cfg, "2606.00004")
    assert result.publishable and not result.left and result.changed == ("2606.00004",)
    assert said(result).endswith("nothing left to review; publish with `paper-digest publish 2026-06-12`.")


def test_review_table_shows_rank_status_summary_tags_and_new_keywords(out: Path) -> None:
    cfg = make_cfg(out)
    reject(Layout(out), DAY, cfg, "2606.00002")
    edit(Layout(out), DAY, cfg, "2606.00003", summary=EDIT.replace("Alpha", "Gamma"), tags="math")
    table = show_table(Layout(out), DAY, cfg)
    lines = table.splitlines()
    assert lines[0] == "2026-06-12: 3 of 4 papers in the post — 1 pending, 1 edited, 1 rejected, 1 flagged"
    assert "  1  2606.00001    pending       강화학습, 수학" in lines
    assert "  -  2606.00002    rejected      강화학습" in lines
    assert "  2  2606.00003    edited        수학" in lines
    assert "     new keywords: reward shaping" in lines
    assert f"     사유: {FLAG}" in lines
    assert lines[-1] == "left to review: 1 pending, 1 flagged."


# -- regenerate ----------------------------------------------------------------------------------------


class FakeEnricher:
    """Stands in for agent.enrich.Enricher: records what it was asked, answers a fixed summary."""

    def __init__(self, answer: Enrichment) -> None:
        self.answer = answer
        self.calls: list[dict[str, Any]] = []
        self.closed = False

    async def summarize(self, paper: Paper, *, note: str | None = None, use_cache: bool = True) -> Enrichment:
        self.calls.append({"id": paper.id, "note": note, "use_cache": use_cache})
        return self.answer

    async def aclose(self) -> None:
        self.closed = True


REGENERATED = "Alpha는 수학 추론용 보상을 다시 설계해 대규모 언어 모델의 풀이 정확도를 높이는 방법이다."


def test_regenerate_with_note_asks_again_and_comes_back_pending(out: Path) -> None:
    cfg = make_cfg(out)
    edit(Layout(out), DAY, cfg, "2606.00001", summary=EDIT)
    fake = FakeEnricher(
        Enrichment(status="summarized", origin="llm", summary=REGENERATED, tags=("강화학습",))
    )

    msg = said(regenerate(Layout(out), DAY, cfg, "2606.00001", note="  방법 이름을 주어로 쓰기 ", enricher=fake))

    assert fake.calls == [{"id": "2606.00001", "note": "방법 이름을 주어로 쓰기", "use_cache": False}]
    assert fake.closed
    assert msg.startswith(f"regenerated 2606.00001 (pending): {REGENERATED} [강화학습]; replaced your edit: ")
    assert EDIT in msg
    entry = load_review(Layout(out), DAY).entries["2606.00001"]  # type: ignore[union-attr]
    assert (entry.status, entry.model_summary, entry.summary, entry.note) == (
        "pending",
        REGENERATED,
        None,
        "방법 이름을 주어로 쓰기",
    )
    assert REGENERATED in draft(out).read_text(encoding="utf-8")
    # The nightly run asks without the note and gets the old cached answer: the regenerated one stays.
    record_run(Layout(out), make_digest(), cfg.post)
    assert load_review(Layout(out), DAY).entries["2606.00001"].model_summary == REGENERATED  # type: ignore[union-attr]


def test_regenerate_flagged_answer_comes_back_flagged(out: Path) -> None:
    fake = FakeEnricher(Enrichment(status="flagged", origin="llm", flag_reason="검증 실패: 너무 김"))
    msg = said(regenerate(Layout(out), DAY, make_cfg(out), "2606.00002", enricher=fake))
    assert msg.startswith("regenerated 2606.00002: flagged (검증 실패: 너무 김).")
    assert statuses(out)["2606.00002"] == "flagged"
    with pytest.raises(ReviewError, match="^no paper 'nope' on 2026-06-12; ids: "):
        regenerate(Layout(out), DAY, make_cfg(out), "nope", enricher=fake)


def test_regenerate_through_the_real_enricher_sends_the_note(out: Path, tmp_path_factory: Any) -> None:
    import fake_openai

    from agent.cache import AnswerCache
    from agent.enrich import Enricher
    from agent.llm import OpenAIChat
    from agent.models import Usage
    from agent.vocab import load_vocabulary

    answer = {"summary": REGENERATED, "tags": ["강화학습", "수학"], "new_keywords": []}
    note = "보상 설계를 강조해 주세요"
    cfg = make_cfg(out)
    with fake_openai.FakeOpenAI(fake_openai.constant(answer)) as server:
        enricher = Enricher(
            cfg=cfg.llm,
            vocab=load_vocabulary(),
            cache=AnswerCache(tmp_path_factory.mktemp("cache")),
            usage=Usage(),
            version="test-prompts",
            client_factory=lambda llm: OpenAIChat(model=llm.model, api_key="sk-test-dummy", base_url=server.base_url),
        )
        try:
            msg = said(regenerate(Layout(out), DAY, cfg, "2606.00001", note=note, enricher=enricher))
            paper = open_day(Layout(out), DAY).digest.items[0].paper
            cached = enricher.cache.get(enricher.summary_key(paper, note))
            plain = enricher.cache.get(enricher.summary_key(paper))
        finally:
            enricher.cache.close()

    assert len(server.requests) == 1
    assert f"<editor_note>\n{note}\n</editor_note>" in server.requests[0].last_user
    assert msg.startswith(f"regenerated 2606.00001 (pending): {REGENERATED} [강화학습, 수학]")
    assert cached is not None and cached["enrichment"]["summary"] == REGENERATED  # under its own key
    assert plain is None  # the note-less answer's key is untouched


# -- broken review file ------------------------------------------------------------------------------


def test_review_file_syntax_error_names_file_and_line_and_changes_nothing(out: Path) -> None:
    path = Layout(out).review(DAY)
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[7] = 'summary = "따옴표를 닫지 않은 요약'
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    before = (path.read_bytes(), draft(out).read_bytes(), Layout(out).snapshot(DAY).read_bytes())

    with pytest.raises(ReviewError) as exc:
        approve(Layout(out), DAY, make_cfg(out), "all")
    assert describe(exc.value).startswith(f"{path} line 8: invalid TOML: ")
    assert "(column " in describe(exc.value) and describe(exc.value).endswith("; fix the file (nothing was changed).")
    with pytest.raises(ReviewError, match="invalid TOML"):
        record_run(Layout(out), make_digest(), make_cfg(out).post)  # the nightly run refuses too
    assert (path.read_bytes(), draft(out).read_bytes(), Layout(out).snapshot(DAY).read_bytes()) == before


def test_unknown_status_names_file_and_line(out: Path) -> None:
    path = Layout(out).review(DAY)
    text = path.read_text(encoding="utf-8")
    text = text.replace('["2606.00002"]\nstatus = "pending"', '["2606.00002"]\nstatus = "maybe"')
    path.write_text(text, encoding="utf-8")
    line = text.splitlines().index('status = "maybe"') + 1
    before = draft(out).read_bytes()
    with pytest.raises(ReviewError) as exc:
        reject(Layout(out), DAY, make_cfg(out), "2606.00001")
    assert describe(exc.value) == (
        f"{path} line {line}: paper 2606.00002: unknown status 'maybe' "
        "(use one of: pending, approved, edited, rejected, flagged, needs-review, vanished); "
        "fix the file (nothing was changed)."
    )
    assert draft(out).read_bytes() == before


def test_hand_edited_review_file_is_honoured(out: Path) -> None:
    path = Layout(out).review(DAY)
    text = path.read_text(encoding="utf-8").replace(
        '["2606.00003"]\nstatus = "pending"',
        f'["2606.00003"]\nstatus = "edited"\nsummary = "{EDIT}"\ntags = ["math"]',
    )
    path.write_text(text, encoding="utf-8")
    reject(Layout(out), DAY, make_cfg(out), "2606.00004")
    entry = load_review(Layout(out), DAY).entries["2606.00003"]  # type: ignore[union-attr]
    assert (entry.status, entry.tags) == ("edited", ("수학",))  # aliases mapped to the canonical name
    assert EDIT in draft(out).read_text(encoding="utf-8")

    bad = path.read_text(encoding="utf-8").replace('tags = [\n    "수학",\n]', 'tags = ["quantum"]')
    bad = bad.replace('tags = ["수학"]', 'tags = ["quantum"]')
    path.write_text(bad, encoding="utf-8")
    # An unknown tag typed by hand is reported on its entry, not as a broken file (issue 12 item 13).
    table = show_table(Layout(out), DAY, make_cfg(out))
    assert "⚠ 게시 불가 (--edit 2606.00003): tags: tag(s) not in the vocabulary: quantum" in table


def test_no_run_yet_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ReviewError) as exc:
        show_table(Layout(tmp_path), DAY, make_cfg(tmp_path))
    assert describe(exc.value) == (
        f"no run recorded for 2026-06-12: {Layout(tmp_path).snapshot(DAY)} is missing; "
        "run `paper-digest run --date 2026-06-12` first."
    )


# -- two processes, one date ----------------------------------------------------------------------------


def _approve_each(out: str, ids: list[str], start: Any) -> None:
    start.wait(10)
    for pid in ids:
        approve(Layout(Path(out)), DAY, make_cfg(Path(out)), pid)


def _record_runs(out: str, n: int, start: Any) -> None:
    start.wait(10)
    for _ in range(n):
        record_run(Layout(Path(out)), make_digest(), make_cfg(Path(out)).post)


def test_two_processes_racing_on_one_date_lose_nothing(out: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Event()
    workers = [
        ctx.Process(target=_approve_each, args=(str(out), ["2606.00001", "2606.00003"], start)),
        ctx.Process(target=_approve_each, args=(str(out), ["2606.00002", "2606.00004"], start)),
        ctx.Process(target=_record_runs, args=(str(out), 3, start)),  # a nightly run at the same time
    ]
    for w in workers:
        w.start()
    start.set()
    for w in workers:
        w.join(60)
    assert [w.exitcode for w in workers] == [0, 0, 0]
    assert set(statuses(out).values()) == {"approved"}
    assert "검토 필요" not in draft(out).read_text(encoding="utf-8")


# -- write failures: one-line errors, nothing half-updated ----------------------------------------------


def _files(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((out / "drafts").iterdir()) if p.is_file()}


def test_a_draft_that_cannot_be_written_leaves_snapshot_and_state_as_they_were(out: Path) -> None:
    cfg = make_cfg(out)
    approve(Layout(out), DAY, cfg, "2606.00001")
    before = _files(out)
    draft(out).unlink()
    draft(out).mkdir()  # the draft's path is taken by a directory
    before.pop(draft(out).name)

    changed = make_digest(summaries={"2606.00002": BETA.replace("Beta는", "Beta 방법은")})
    with pytest.raises(DigestError) as exc:
        record_run(Layout(out), changed, cfg.post)
    assert describe(exc.value, Given(again="run again", report=True)) == (
        f"cannot write {draft(out)}: Is a directory; nothing was changed; check --out (and --report) and run again."
    )
    assert type(exc.value) is WriteError and exc.value.exit_code == 1 and exc.value.path == draft(out)
    assert _files(out) == before  # snapshot and review state untouched, no temporary files left

    with pytest.raises(DigestError, match=r"^cannot write .*-hf-daily-papers\.md: Is a directory; nothing was changed"):
        reject(Layout(out), DAY, cfg, "2606.00002")  # the editor's commands too
    assert _files(out) == before


def test_a_failed_replace_rolls_back_the_files_already_replaced(out: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from agent import fsutil

    cfg = make_cfg(out)
    before = _files(out)
    real_replace = os.replace

    def replace_but_not_the_draft(src: str, dst: str) -> None:
        if str(dst).endswith("-hf-daily-papers.md"):
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(fsutil.os, "replace", replace_but_not_the_draft)
    with pytest.raises(DigestError, match=r"-hf-daily-papers\.md: No space left on device; nothing was changed"):
        record_run(Layout(out), make_digest(summaries={"2606.00003": BETA}), cfg.post)  # snapshot and draft differ
    assert _files(out) == before


# -- hand saves, comments and the header -----------------------------------------------------------------


@pytest.mark.parametrize("command", ["approve", "run"])
def test_a_hand_save_while_the_lock_is_held_is_not_lost(
    out: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    from agent import fsutil

    path = Layout(out).review(DAY)
    saved = path.read_text(encoding="utf-8").replace(
        '["2606.00002"]\nstatus = "pending"', '["2606.00002"]\nstatus = "rejected"'
    )
    before = _files(out)
    real_stage = fsutil._stage

    def stage_while_the_editor_saves(target: Path, data: bytes) -> str:
        path.write_text(saved, encoding="utf-8")  # the editor's save lands after paper-digest read the file
        return real_stage(target, data)

    monkeypatch.setattr(fsutil, "_stage", stage_while_the_editor_saves)
    with pytest.raises(FileChangedError) as exc:
        if command == "approve":
            approve(Layout(out), DAY, make_cfg(out), "2606.00001")
        else:
            record_run(Layout(out), make_digest(summaries={"2606.00003": BETA}), make_cfg(out).post)
    assert describe(exc.value) == (
        f"{path} changed while paper-digest was writing it; nothing was written; run the command again."
    )
    after = _files(out)
    assert after.pop(path.name) == saved.encode("utf-8")  # the hand save is kept
    before.pop(path.name)
    assert after == before  # snapshot and draft as they were, no temporary files


def test_the_editors_comments_and_formatting_survive_every_rewrite(out: Path) -> None:
    path = Layout(out).review(DAY)
    text = path.read_text(encoding="utf-8").replace('["2606.00002"]\n', '# 저자에게 확인 중\n["2606.00002"]\n')
    text = text.replace('["2606.00003"]\nstatus = "pending"', '["2606.00003"]\nstatus = "pending"   # 내일 다시')
    text += "\n# 파일 끝 메모\n"
    path.write_text(text, encoding="utf-8")
    record_run(Layout(out), make_digest(), make_cfg(out).post)  # a re-run of a cached day
    assert path.read_text(encoding="utf-8") == text

    approve(Layout(out), DAY, make_cfg(out), "2606.00002")  # a change: only that value is rewritten
    edit(Layout(out), DAY, make_cfg(out), "2606.00001", summary=EDIT)
    rewritten = path.read_text(encoding="utf-8")
    for comment in ("# 저자에게 확인 중\n", 'status = "pending"   # 내일 다시\n', "# 파일 끝 메모\n"):
        assert comment in rewritten
    assert "# Comments and formatting survive" in rewritten
    assert statuses(out)["2606.00002"] == "approved" and statuses(out)["2606.00001"] == "edited"
    changed = [line for line in difflib.ndiff(text.splitlines(), rewritten.splitlines()) if line[:1] in "+-"]
    assert all(any(k in line for k in ("status", "updated_at", "summary", "abstract_sha")) for line in changed)


def test_the_header_says_how_to_clear_needs_review(out: Path) -> None:
    header = Layout(out).review(DAY).read_text(encoding="utf-8").split("\n\n")[0]
    assert f"needs-review is cleared with `paper-digest review {DAY} --approve ID`" in header
    assert "a status set by\n# hand on a needs-review paper reverts at the next run." in header


def test_a_hand_approved_entry_with_the_editors_text_is_read_as_edited(out: Path) -> None:
    path = Layout(out).review(DAY)
    text = path.read_text(encoding="utf-8").replace(
        '["2606.00001"]\nstatus = "pending"', f'["2606.00001"]\nstatus = "approved"\nsummary = "{EDIT}"'
    )
    path.write_text(text, encoding="utf-8")
    entry = load_review(Layout(out), DAY).entries["2606.00001"]  # type: ignore[union-attr]
    assert (entry.status, entry.summary) == ("edited", EDIT)
    record_run(Layout(out), make_digest(), make_cfg(out).post)
    body = draft(out).read_text(encoding="utf-8")
    assert EDIT in body and ALPHA not in body


# -- a damaged snapshot -----------------------------------------------------------------------------------


def _damage(out: Path, change: Any) -> Path:
    import json

    path = Layout(out).snapshot(DAY)
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


DAMAGES = {
    "title null": (lambda s: s["papers"][1].update(title=None), "paper 2606.00002: title must be a string, not null"),
    "upvotes a string": (
        lambda s: s["papers"][0].update(upvotes="12"),
        "paper 2606.00001: upvotes must be a whole number, not a string",
    ),
    "abstract missing": (lambda s: s["papers"][2].pop("abstract"), "paper 2606.00003: abstract is missing"),
    "authors a string": (
        lambda s: s["papers"][3].update(authors="Kim"),
        "paper 2606.00004: authors must be a list of strings, not a string",
    ),
    "paper not an object": (lambda s: s["papers"].__setitem__(3, "2606.00004"), "paper #4: must be an object"),
    "enrichment missing": (
        lambda s: s["enrichments"].pop("2606.00002"),
        "paper 2606.00002: its enrichment is missing",
    ),
    "enrichment tags a string": (
        lambda s: s["enrichments"]["2606.00001"].update(tags="RL"),
        "paper 2606.00001: enrichment: tags must be a list of strings, not a string",
    ),
    "enrichment status": (
        lambda s: s["enrichments"]["2606.00003"].update(status="done"),
        "paper 2606.00003: enrichment: unknown status 'done'",
    ),
    "papers missing": (lambda s: s.pop("papers"), "papers is missing"),
    "total a string": (lambda s: s.update(total="4"), "total must be a whole number, not a string"),
}


@pytest.mark.parametrize("damage", list(DAMAGES))
def test_a_damaged_snapshot_names_the_file_and_the_paper(out: Path, damage: str) -> None:
    from agent.publish import publish

    change, problem = DAMAGES[damage]
    path = _damage(out, change)
    cfg = make_cfg(out)
    for command in (
        lambda: show_table(Layout(out), DAY, cfg),
        lambda: approve(Layout(out), DAY, cfg, "all"),
        lambda: publish(Layout(out), DAY, cfg, force=True),
    ):
        with pytest.raises(ReviewError) as exc:
            command()
        message = describe(exc.value)
        assert message.startswith(f"{path}: {problem}")
        assert message.endswith("; re-run `paper-digest run --date 2026-06-12` to rebuild it.")
        assert "\n" not in message
    assert not (out / "_posts").exists()
