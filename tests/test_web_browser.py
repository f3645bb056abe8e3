"""The review desk end to end in a real browser: Debian's chromium driven by Playwright, one launch.

`paper-digest serve --blog` runs as a subprocess over a fixture day, its LLM the local fake
(tests/fake_openai.py); an editor (no JavaScript) rejects the hostile paper with a plain form, then (with
JavaScript) fixes the flagged paper's line by typing Korean, toggles its tags, regenerates one paper with a
note, approves the rest with the keyboard (a second tab, now stale, is refused) and publishes. The post
file is checked, and screenshots of the day page are kept in tests/artifacts/ (git-ignored).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import fake_openai
import pytest
from clirun import cli_argv, cli_env
from webday import ALPHA, BETA, DAY, HOSTILE_TITLE, IDS

from agent.config import Config
from agent.layout import Layout
from agent.pipeline import record_run

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
D = DAY.isoformat()
FIXED = "Delta는 언어 모델의 수학 추론을 돕도록 보상을 다시 설계하는 방법이다."
REGENERATED = "Beta는 수학 추론을 돕도록 언어 모델의 보상을 새로 설계하는 방법이다."
NOTE = "보상 설계를 먼저 말해 주세요"

if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} not installed (Debian package chromium; .ci/run installs it)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed (pip install -e '.[dev]')")


def sel(pid: str, inner: str = "") -> str:
    """A CSS selector for a paper's card (ids hold dots, so not ``#p-…``)."""
    return f'[id="p-{pid}"] {inner}'.strip()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def llm() -> Iterator[fake_openai.FakeOpenAI]:
    answer = {"summary": REGENERATED, "tags": ["수학", "강화학습"], "new_keywords": []}
    with fake_openai.FakeOpenAI(fake_openai.constant(answer)) as server:
        yield server


@pytest.fixture
def desk(tmp_path: Path, llm: fake_openai.FakeOpenAI) -> Iterator[tuple[str, Path]]:
    """``(base URL, blog dir)`` of a running ``serve`` over the fixture day, blog layout."""
    from webday import make_digest

    blog = tmp_path / "blog"
    blog.mkdir()
    (blog / "_config.yml").write_text("title: a blog\n", encoding="utf-8")  # serve --blog wants a Jekyll site
    record_run(Layout(blog, blog=True), make_digest(), Config().post)
    port = free_port()
    argv = ["serve", "--blog", str(blog), "--port", str(port), "--cache-dir", str(tmp_path / "cache")]
    proc = subprocess.Popen(
        cli_argv(argv),
        env=cli_env(OPENAI_API_KEY="sk-test-dummy", OPENAI_BASE_URL=llm.base_url),
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(base + "/", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"serve did not start: {proc.stderr.read() if proc.stderr else ''}") from None
                time.sleep(0.05)
        yield base, blog
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_a_whole_day_reviewed_and_published_in_chromium(
    desk: tuple[str, Path], llm: fake_openai.FakeOpenAI
) -> None:
    base, blog = desk
    args = ["--no-sandbox"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=args, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900}, locale="ko-KR")
            alerts: list[str] = []
            page.on("dialog", lambda d: (alerts.append(d.message), d.dismiss()))
            # The hostile payload is text on the day page and in the preview, and nothing runs.
            page.goto(f"{base}/day/{D}/preview")
            assert page.get_by_text(HOSTILE_TITLE.split(" {{")[0]).count() == 1
            page.goto(f"{base}/day/{D}")
            page.screenshot(path=str(_artifact("serve-day.png")))
            assert alerts == []

            # Without JavaScript: plain forms. Reject the hostile paper.
            plain = browser.new_page(java_script_enabled=False)
            plain.goto(f"{base}/day/{D}")
            hostile = plain.locator(sel(IDS[2]))
            assert hostile.locator("h2").inner_text() == HOSTILE_TITLE
            assert not hostile.locator(".chips").is_visible()  # chips need the script; the text field does not
            hostile.get_by_role("button", name="제외").click()
            plain.wait_for_url(f"**/day/{D}?done=reject*")
            assert plain.locator(sel(IDS[2], ".badge")).inner_text() == "rejected"
            plain.close()
            page.reload()

            # The flagged paper: its invented number is red; type a Korean fix and watch the live count.
            delta = page.locator(sel(IDS[3]))
            assert delta.locator("mark.missing").inner_text() == "7"
            editor = delta.locator("textarea")
            editor.click()
            page.keyboard.press("Control+A")
            page.keyboard.press("Delete")
            editor.press_sequentially(FIXED)
            assert delta.locator(".count .n").inner_text() == str(len(FIXED))
            # As the line is typed, the server's check replaces the highlights: the red 7 is gone.
            sync_api.expect(delta.locator(".line")).to_have_text(FIXED)
            assert delta.locator("mark.missing").count() == 0
            assert delta.locator('[data-part="problems"] li').count() == 0
            assert "bad" not in (delta.locator(".count").get_attribute("class") or "")
            # Tags: LLM is there; add 수학 then 강화학습, drop LLM: 수학 becomes the main field.
            chips = delta.locator(".chips")
            for name in ("수학", "강화학습", "LLM"):
                chips.locator(f'[data-tag="{name}"]').click()
            assert delta.locator("input.tags").input_value() == "수학, 강화학습"
            assert chips.locator('[data-tag="수학"]').get_attribute("data-order") == "1"
            page.screenshot(path=str(_artifact("serve-day-editing.png")))
            delta.get_by_role("button", name="편집 저장").click()
            page.wait_for_url(f"**/day/{D}?done=edit*")
            assert page.locator(sel(IDS[3], ".badge")).inner_text() == "edited"

            # Regenerate with a note: the LLM is asked again, the new line comes back pending.
            beta = page.locator(sel(IDS[1]))
            beta.get_by_placeholder("모델에게 줄 메모 (선택)").fill(NOTE)
            beta.get_by_role("button", name="다시 생성").click()
            page.wait_for_url(f"**/day/{D}?done=regenerate*")
            assert page.locator(sel(IDS[1], "textarea")).input_value() == REGENERATED
            assert len(llm.requests) == 1 and NOTE in llm.requests[0].last_user

            # A second tab opened now goes stale once the first one approves.
            other = browser.new_page()
            other.goto(f"{base}/day/{D}")

            # Keyboard: the page starts on the first open card; j/k move, a approves and lands on the next.
            page.goto(f"{base}/day/{D}")
            assert page.locator("article.card.current").get_attribute("id") == f"p-{IDS[0]}"
            page.keyboard.press("j")
            assert page.locator("article.card.current").get_attribute("id") == f"p-{IDS[1]}"
            page.keyboard.press("k")
            page.keyboard.press("e")
            assert page.evaluate("document.activeElement.id") == f"s-{IDS[0]}"
            page.keyboard.press("Escape")
            for expected_next in (IDS[1], None):
                with page.expect_navigation():
                    page.keyboard.press("a")
                if expected_next:
                    assert page.url.endswith(f"#p-{expected_next}")
            badges = [page.locator(sel(pid, ".badge")).inner_text() for pid in IDS]
            assert badges == ["approved", "approved", "rejected", "edited"]

            # The stale tab's reject is refused with the current state shown; nothing changes.
            other.locator(sel(IDS[1])).get_by_role("button", name="제외").click()
            other.wait_for_load_state()
            assert "페이지를 연 뒤 바뀌었습니다" in other.locator(sel(IDS[1], ".banner.error")).inner_text()
            assert other.locator(sel(IDS[1], ".badge")).inner_text() == "approved"
            other.close()

            publish = page.get_by_role("button", name="게시", exact=True)
            assert publish.is_enabled()
            page.screenshot(path=str(_artifact("serve-day-reviewed.png")))
            publish.click()
            page.wait_for_url(f"**/day/{D}?done=publish*")
            assert alerts == []
        finally:
            browser.close()

    layout = Layout(blog, blog=True)
    post = layout.post(DAY).read_text(encoding="utf-8")
    assert FIXED in post and ALPHA in post and REGENERATED in post and BETA not in post
    assert "   - 태그: `수학`, `강화학습`" in post
    assert "prompt injection" not in post  # the rejected paper
    assert layout.data_file(DAY).exists()
    assert not layout.draft(DAY).exists()


def _artifact(name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / name


def test_artifacts_are_git_ignored() -> None:
    root = Path(__file__).resolve().parents[1]
    if shutil.which("git") is None or not (root / ".git").exists():
        pytest.skip("not a git checkout")
    result = subprocess.run(
        ["git", "check-ignore", "-q", "tests/artifacts/serve-day.png"], cwd=root, capture_output=True
    )
    assert result.returncode == 0
