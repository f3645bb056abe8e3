"""The review desk's routes through Starlette's TestClient: every action, and every refusal."""

from __future__ import annotations

import contextlib
import html
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient
from webday import ALPHA, DAY, GAMMA, IDS, make_day

from agent.layout import Layout
from agent.models import Enrichment, Paper
from agent.store import load_review
from agent.web.app import create_app

TOKEN = "test-token"
BASE = "http://127.0.0.1:8765"
D = DAY.isoformat()


class FakeEnricher:
    def __init__(self, answer: Enrichment) -> None:
        self.answer = answer
        self.calls: list[tuple[str, str | None, bool]] = []

    async def summarize(self, paper: Paper, *, note: str | None = None, use_cache: bool = True) -> Enrichment:
        self.calls.append((paper.id, note, use_cache))
        return self.answer

    async def aclose(self) -> None:
        pass


REGENERATED = "Beta는 경쟁 수학 벤치마크를 위한 보상 재설계로 언어 모델의 추론을 개선하는 방법이다."


@pytest.fixture
def out(tmp_path: Path) -> Path:
    make_day(tmp_path)
    return tmp_path


@pytest.fixture
def fake() -> FakeEnricher:
    return FakeEnricher(Enrichment(status="summarized", origin="llm", summary=REGENERATED, tags=("수학",)))


@pytest.fixture
def client(out: Path, fake: FakeEnricher) -> Iterator[TestClient]:
    from agent.config import Config

    app = create_app(Config(out_dir=out), token=TOKEN, enricher_factory=lambda: fake)
    with TestClient(app, base_url=BASE) as c:
        yield c


def statuses(out: Path) -> dict[str, str]:
    state = load_review(Layout(out), DAY)
    assert state is not None
    return {pid: e.status for pid, e in state.entries.items()}


def version(client: TestClient) -> str:
    m = re.search(r'name="version" value="([0-9a-f]+)"', client.get(f"/day/{D}").text)
    assert m
    return m.group(1)


def post(client: TestClient, action: str, **fields: Any) -> Any:
    data = {"csrf": TOKEN, "version": version(client), **fields}
    return client.post(f"/day/{D}/{action}", data=data, follow_redirects=False)


def card(page: str, pid: str) -> str:
    """The HTML of one paper's card."""
    start = page.index(f'id="p-{pid}"')
    end = page.find("<article", start)
    return page[start : end if end != -1 else len(page)]


# -- pages ----------------------------------------------------------------------------------------------


def test_days_lists_each_date_with_its_counts(client: TestClient) -> None:
    page = client.get("/").text
    assert f'href="/day/{D}"' in page
    assert re.search(r'<td class="n pending">3</td>\s*<td class="n flagged">1</td>', page)


def test_a_day_with_a_broken_review_file_is_listed_with_the_problem(client: TestClient, out: Path) -> None:
    Layout(out).review(DAY).write_text('["2606.00001"]\nstatus = "maybe"\n', encoding="utf-8")
    page = client.get("/").text
    assert re.search(r'<td colspan="6" class="problem">[^<]*line 2[^<]*maybe', page)
    assert "2번째 줄" in client.get(f"/day/{D}").text


def test_day_page_shows_each_paper_in_rank_order_with_what_the_editor_needs(client: TestClient) -> None:
    page = client.get(f"/day/{D}").text
    assert [page.index(f'id="p-{pid}"') for pid in IDS] == sorted(page.index(f'id="p-{pid}"') for pid in IDS)
    alpha = card(page, IDS[0])
    assert "Alpha: Reward Reshaping" in alpha and "좋아요 90" in alpha and "Kim 외 1명" in alpha
    assert 'href="https://arxiv.org/abs/2606.00001"' in alpha
    assert f">{ALPHA}</textarea>" in alpha
    assert f'<span class="n">{len(ALPHA)}</span>자 (허용 20–120자)' in alpha
    assert 'value="강화학습, 수학"' in alpha and 'data-tag="멀티모달"' in alpha
    assert "reward shaping" in alpha  # the model's new keyword
    assert '<span class="k">reinforcement learning</span><span class="k">&lt;i&gt;hf&lt;/i&gt;</span>' in alpha
    delta = card(page, IDS[3])
    assert "사유: 검증 실패: 초록에 없는 숫자 7" in delta and "flagged" in delta
    # Publish is disabled, with the reason.
    assert re.search(r'<button type="submit" class="primary" disabled[^>]*>게시</button>', page)
    assert "게시할 수 없음: 3 pending, 1 flagged" in page


def test_faithfulness_marks_the_lines_numbers_and_names_in_the_abstract_too(client: TestClient) -> None:
    alpha = card(client.get(f"/day/{D}").text, IDS[0])
    assert alpha.count('data-k="w:qwen2.5-7b"') == 2  # in the line and in the abstract
    assert alpha.count('data-k="n:24"') == 2
    delta = card(client.get(f"/day/{D}").text, IDS[3])
    assert '<mark class="hl num missing" data-k="n:7" title="초록에 없는 숫자">7</mark>' in delta


def test_a_line_being_typed_is_checked_and_highlighted_without_writing(client: TestClient, out: Path) -> None:
    before = Layout(out).review(DAY).read_bytes()
    line = "<b>Alpha</b>는 Qwen2.5-7B로 정확도를 37% 높인다."
    r = client.get(f"/day/{D}/check", params={"id": IDS[0], "summary": line})
    assert r.status_code == 200
    assert "<b>" not in r.text and "&lt;/" in r.text and "HTML 태그가 있음 (&lt;b&gt;)" in r.text
    assert '<mark class="hl num missing" data-k="n:37" title="초록에 없는 숫자">37%</mark>' in r.text
    assert r.text.count('data-k="w:qwen2.5-7b"') == 2  # the line and the abstract
    problems = re.search(r'<template data-part="problems">(.*?)</template>', r.text, re.S)
    assert problems and "초록에 없는 숫자: 37" in problems.group(1)
    ok = client.get(f"/day/{D}/check", params={"id": IDS[0], "summary": ALPHA}).text
    assert '<template data-part="problems"></template>' in ok
    assert client.get(f"/day/{D}/check", params={"id": "nope", "summary": "x"}).status_code == 404
    assert client.get(f"/day/{D}/check", params={"id": IDS[0], "summary": "가" * 2001}).status_code == 413
    assert Layout(out).review(DAY).read_bytes() == before


def test_preview_renders_the_post_as_html(client: TestClient) -> None:
    page = client.get(f"/day/{D}/preview").text
    assert "<h1>Hugging Face Daily Papers - 2026-06-12</h1>" in page
    assert "<strong>Alpha: Reward Reshaping</strong>" in page
    assert "아직 게시할 수 없습니다" in page


@pytest.mark.parametrize("path", ["/", f"/day/{D}", f"/day/{D}/preview"])
def test_a_hostile_payload_is_text_on_every_page(client: TestClient, path: str) -> None:
    page = client.get(path).text
    for raw in ("<script>alert", "<img src=x", "onerror=alert(1)>", 'href="javascript:', "<b>bold</b>"):
        assert raw not in page
    scripts = re.findall(r"<script[^>]*>", page)
    assert scripts == ['<script src="/static/desk.js" defer>']
    if path != "/":
        assert "&lt;script&gt;alert(" in page
        assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_every_response_forbids_inline_scripts_and_framing(client: TestClient) -> None:
    r = client.get(f"/day/{D}")
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff"
    assert client.get("/static/desk.js").status_code == 200


def test_unknown_date_or_page(client: TestClient) -> None:
    assert client.get("/day/2026-06-13").status_code == 404
    assert client.get("/day/not-a-date").status_code == 404


# -- actions ----------------------------------------------------------------------------------------------


def test_approve_goes_to_the_next_open_card(client: TestClient, out: Path) -> None:
    assert '<td class="n pending">3</td>' in client.get("/").text
    r = post(client, "approve", id=IDS[0])
    assert r.status_code == 303
    assert r.headers["location"] == f"/day/{D}?done=approve&id={IDS[0]}#p-{IDS[1]}"
    assert statuses(out)[IDS[0]] == "approved"
    assert "승인했습니다: 2606.00001" in client.get(r.headers["location"]).text
    assert re.search(r'<td class="n pending">2</td>.*<td class="n approved">1</td>', client.get("/").text, re.S)


def test_reject_leaves_the_paper_out(client: TestClient, out: Path) -> None:
    assert post(client, "reject", id=IDS[2]).status_code == 303
    assert statuses(out)[IDS[2]] == "rejected"
    assert "<script>" not in client.get(f"/day/{D}/preview").text


def test_edit_saves_korean_text_and_tags_in_order(client: TestClient, out: Path) -> None:
    text = "Alpha는 Qwen2.5-7B의 보상을 바꿔 수학 추론 정확도를 24% 끌어올리는 방법이다."
    r = post(client, "edit", id=IDS[0], summary=text, tags="수학, 강화학습")
    assert r.status_code == 303
    entry = load_review(Layout(out), DAY).entries[IDS[0]]  # type: ignore[union-attr]
    assert (entry.status, entry.summary, entry.tags) == ("edited", text, ("수학", "강화학습"))


def test_an_invalid_summary_is_refused_next_to_the_field_and_the_text_kept(client: TestClient, out: Path) -> None:
    before = Layout(out).review(DAY).read_bytes()
    r = post(client, "edit", id=IDS[0], summary="Too short, and English.", tags="수학")
    assert r.status_code == 400
    alpha = card(r.text, IDS[0])
    assert ">Too short, and English.</textarea>" in alpha
    errors = "".join(re.findall(r'<ul class="errors"[^>]*>(.*?)</ul>', alpha, re.S))
    assert "한국어 문장이 아님" in errors
    assert Layout(out).review(DAY).read_bytes() == before


@pytest.mark.parametrize("tags", ["수학, 강화학습, LLM, 추론", "수학, 없는태그"])
def test_bad_tags_are_refused_next_to_the_field(client: TestClient, out: Path, tags: str) -> None:
    before = Layout(out).review(DAY).read_bytes()
    r = post(client, "edit", id=IDS[0], summary=ALPHA, tags=tags)
    assert r.status_code == 400
    alpha = card(r.text, IDS[0])
    assert f'value="{tags}"' in alpha
    errors = "".join(re.findall(r'<ul class="errors"[^>]*>(.*?)</ul>', alpha, re.S))
    assert "give 1–3 tags, not 4" in errors or "없는태그" in errors
    assert Layout(out).review(DAY).read_bytes() == before


def test_a_bad_summary_and_bad_tags_are_both_shown(client: TestClient, out: Path) -> None:
    r = post(client, "edit", id=IDS[0], summary="Too short, and English.", tags="수학, 없는태그")
    assert r.status_code == 400
    errors = re.findall(r'<ul class="errors"[^>]*>(.*?)</ul>', card(r.text, IDS[0]), re.S)
    assert any("한국어 문장이 아님" in e for e in errors) and any("없는태그" in e for e in errors)


def test_an_unknown_paper_id_is_said_on_top(client: TestClient, out: Path) -> None:
    r = post(client, "approve", id="2606.99999")
    assert r.status_code == 400
    assert '<p class="banner error" role="alert">2026-06-12에는 2606.99999 논문이 없습니다.' in r.text


def test_regenerate_asks_with_the_note_and_comes_back_pending(
    client: TestClient, out: Path, fake: FakeEnricher
) -> None:
    r = post(client, "regenerate", id=IDS[1], note="벤치마크 이름을 넣어 주세요")
    assert r.status_code == 303
    assert fake.calls == [(IDS[1], "벤치마크 이름을 넣어 주세요", False)]
    entry = load_review(Layout(out), DAY).entries[IDS[1]]  # type: ignore[union-attr]
    assert (entry.status, entry.model_summary, entry.note) == ("pending", REGENERATED, "벤치마크 이름을 넣어 주세요")


def test_regenerate_without_credentials_says_so_and_never_shows_a_secret(
    out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agent.config import Config

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    app = create_app(Config(out_dir=out, hf_token="hf_SECRETTOKEN123"), token=TOKEN)
    with TestClient(app, base_url=BASE) as c:
        r = post(c, "regenerate", id=IDS[1], note="")
        assert r.status_code == 400
        assert "no LLM credentials" in card(r.text, IDS[1])
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-SECRETKEY987")
        pages = [c.get(p).text for p in ("/", f"/day/{D}", f"/day/{D}/preview")]
    assert not any("SECRET" in p for p in [r.text, *pages])


def test_publish_is_refused_while_blocked_then_writes_the_post(client: TestClient, out: Path) -> None:
    r = post(client, "publish")
    assert r.status_code == 400
    assert "게시하지 않았습니다: 3 pending, 1 flagged (검토 전 4/4편)" in r.text
    assert not Layout(out).post(DAY).exists()
    for pid in IDS[:3]:
        assert post(client, "approve", id=pid).status_code == 303
    assert post(client, "reject", id=IDS[3]).status_code == 303
    page = client.get(f"/day/{D}").text
    assert re.search(r'<button type="submit" class="primary" >게시</button>', page)
    r = post(client, "publish")
    assert r.status_code == 303
    text = Layout(out).post(DAY).read_text(encoding="utf-8")
    assert ALPHA in text and GAMMA in text and "Delta" not in text
    assert "게시됨" in client.get(f"/day/{D}").text


# -- refusals ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data, headers, status",
    [
        ({"id": IDS[0]}, {}, 403),  # no token
        ({"id": IDS[0], "csrf": "wrong"}, {}, 403),
        ({"id": IDS[0], "csrf": TOKEN}, {"origin": "http://evil.example"}, 403),
        ({"id": IDS[0], "csrf": TOKEN}, {"sec-fetch-site": "cross-site"}, 403),
    ],
)
def test_a_post_without_the_token_or_from_another_site_changes_nothing(
    client: TestClient, out: Path, data: dict[str, str], headers: dict[str, str], status: int
) -> None:
    before = Layout(out).review(DAY).read_bytes()
    r = client.post(f"/day/{D}/approve", data=data, headers=headers, follow_redirects=False)
    assert r.status_code == status
    assert "거부했습니다" in r.text or "보안 토큰(CSRF)이 없거나 맞지 않습니다" in r.text  # the interface's language
    assert Layout(out).review(DAY).read_bytes() == before


def test_only_small_plain_forms_are_read(client: TestClient, out: Path) -> None:
    r = client.post(f"/day/{D}/approve", json={"csrf": TOKEN, "id": IDS[0]}, follow_redirects=False)
    assert r.status_code == 415
    r = client.post(f"/day/{D}/edit", data={"csrf": TOKEN, "id": IDS[0], "summary": "가" * 70_000})
    assert r.status_code == 413
    assert statuses(out)[IDS[0]] == "pending"


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8765", "127.0.0.1:9999", "localhost"])
def test_a_foreign_host_header_is_refused(client: TestClient, out: Path, host: str) -> None:
    refused = client.get(f"/day/{D}", headers={"host": host})
    assert refused.status_code == 421 and "잘못된 주소로 온 요청입니다" in refused.text
    r = client.post(f"/day/{D}/approve", data={"csrf": TOKEN, "id": IDS[0]}, headers={"host": host})
    assert r.status_code == 421
    assert statuses(out)[IDS[0]] == "pending"


def test_loopback_names_with_the_port_are_accepted(client: TestClient) -> None:
    for host in ("localhost:8765", "127.0.0.1:8765", "[::1]:8765"):
        assert client.get("/", headers={"host": host}).status_code == 200


def test_a_stale_form_is_refused_with_the_current_text(client: TestClient, out: Path) -> None:
    old = version(client)
    mine = "Alpha는 내가 먼저 고친 문장으로 Qwen2.5-7B의 수학 정확도를 24% 높인다고 설명한다."
    theirs = "Alpha는 다른 창에서 고친 문장으로 Qwen2.5-7B의 수학 추론을 24% 개선하는 방법이다."
    assert post(client, "edit", id=IDS[0], summary=theirs, tags="수학").status_code == 303
    data = {"csrf": TOKEN, "version": old, "id": IDS[0], "summary": mine, "tags": "수학"}
    r = client.post(f"/day/{D}/edit", data=data, follow_redirects=False)
    assert r.status_code == 409
    alpha = card(r.text, IDS[0])
    assert "페이지를 연 뒤 바뀌었습니다" in alpha
    assert f">{theirs}</textarea>" in alpha  # the current text, to start again from
    assert f"내가 쓴 글 (저장 안 됨): {mine}" in alpha  # and the editor's, not lost
    assert load_review(Layout(out), DAY).entries[IDS[0]].summary == theirs  # type: ignore[union-attr]
    r = client.post(f"/day/{D}/approve", data={**data, "id": IDS[1]}, follow_redirects=False)
    assert r.status_code == 409
    assert statuses(out)[IDS[1]] == "pending"


def test_every_write_takes_the_dates_lock(client: TestClient, out: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import agent.lock
    import agent.review

    held = agent.lock.date_lock(Layout(out), DAY)

    @contextlib.contextmanager
    def quick(root: Layout, day: Any, timeout: float = 0) -> Iterator[Path]:
        with agent.lock.date_lock(root, day, 0.2) as path:
            yield path

    monkeypatch.setattr(agent.review, "date_lock", quick)
    v = version(client)
    with held:
        r = client.post(f"/day/{D}/approve", data={"csrf": TOKEN, "version": v, "id": IDS[0]})
    assert r.status_code == 409
    assert "다른 paper-digest 프로세스가 2026-06-12 작업 중입니다" in html.unescape(r.text)
    assert statuses(out)[IDS[0]] == "pending"


# -- the command ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args, message",
    [
        (["--host", "192.0.2.10"], "is not a loopback address"),
        (["--host", "0.0.0.0", "--allow-remote"], "cannot bind the desk to 0.0.0.0"),
    ],
)
def test_serve_binds_loopback_unless_told_otherwise(tmp_path: Path, args: list[str], message: str) -> None:
    from typer.testing import CliRunner

    from agent.cli import app

    result = CliRunner().invoke(app, ["serve", "--out", str(tmp_path), *args])
    assert result.exit_code == 2
    assert message in result.output


def test_serve_warns_when_told_to_bind_another_address(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    import agent.web.server
    from agent.cli import app

    bound: list[tuple[str, int]] = []
    sock = object()  # 192.0.2.10 is not this machine's: the bind itself is faked
    monkeypatch.setattr(agent.web.server, "listen", lambda host, port: sock)
    monkeypatch.setattr(
        agent.web.server, "run", lambda cfg, host, port, sock=None, on_ready=None: bound.append((host, port))
    )
    result = CliRunner().invoke(app, ["serve", "--out", str(tmp_path), "--host", "192.0.2.10", "--allow-remote"])
    assert result.exit_code == 0
    assert bound == [("192.0.2.10", 8765)]
    assert "warning: the desk on 192.0.2.10 is reachable from other machines, without a login." in result.output


def test_the_hosts_the_desk_answers() -> None:
    from agent.web.security import allowed_hosts

    assert allowed_hosts("127.0.0.1", 8765) == {"127.0.0.1:8765", "localhost:8765", "[::1]:8765"}
    assert allowed_hosts("::1", 9000) == {"127.0.0.1:9000", "localhost:9000", "[::1]:9000"}
    assert allowed_hosts("192.0.2.10", 80) == {"192.0.2.10:80", "192.0.2.10"}


def test_serve_on_a_busy_port_is_one_error_line_before_any_announcement(tmp_path: Path) -> None:
    import socket

    from typer.testing import CliRunner

    from agent.cli import app

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = CliRunner().invoke(app, ["serve", "--out", str(tmp_path), "--port", str(port)])
    assert result.exit_code == 1, result.output
    assert result.output.splitlines() == [
        f"error: cannot listen on 127.0.0.1:{port}: the port is already in use; stop the program using it "
        "(another desk?) or pick another port with --port N."
    ]
