"""The review desk's routes: server-rendered pages and plain forms over agent.web.desk.

Every action is a POST of a small form that answers with a redirect to the day page (so reloading never
repeats it); a refused action answers the day page itself, with the reason next to the field and the
editor's text kept. The library calls block (file lock, LLM), so they run in the thread pool.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2
from markupsafe import Markup
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from agent.config import Config
from agent.errors import (
    BrokenFileError,
    ConfigError,
    DigestError,
    EditRejected,
    LockedError,
    NoRunError,
    PublishRefused,
    ReviewError,
    StaleError,
    UnknownPaperError,
    WriteError,
)
from agent.layout import layout_for
from agent.web import desk
from agent.web.highlight import faithfulness
from agent.web.security import (
    FORM_TOO_LARGE,
    MAX_FORM_BYTES,
    FormRefused,
    HostCheck,
    allowed_hosts,
    check_form,
    new_token,
)

HERE = Path(__file__).resolve().parent
MAX_LINE_CHARS = 2000  # a line being checked; the house bound is far below

DONE = {
    "approve": "승인했습니다",
    "reject": "제외했습니다",
    "edit": "편집을 저장했습니다",
    "regenerate": "다시 생성했습니다",
    "publish": "게시했습니다",
}


@dataclass
class CardForm:
    """What a refused form sends back to its card: the editor's input and the reasons."""

    summary: str | None = None
    tags: str | None = None
    note: str | None = None
    summary_errors: list[str] = field(default_factory=list)
    tag_errors: list[str] = field(default_factory=list)
    error: str | None = None
    stale: bool = False


def korean(exc: DigestError) -> str:
    """The desk's sentence for a library error (the interface is Korean; the CLI words its own in English).
    Paths, ids and a file's own problem stay as the library gives them."""
    if isinstance(exc, LockedError):
        if exc.held:
            return f"다른 paper-digest 프로세스가 {exc.date} 작업 중입니다 (잠금 파일 {exc.path}). 끝난 뒤 다시 하세요."
        return f"{exc.date}의 잠금 파일 {exc.path}을(를) 쓸 수 없습니다: {exc.reason}"
    if isinstance(exc, NoRunError):
        return f"{exc.date}에는 기록된 실행이 없습니다. 먼저 paper-digest run --date {exc.date}로 초안을 만드세요."
    if isinstance(exc, UnknownPaperError):
        if exc.vanished:
            return f"{exc.paper_id} 논문은 이제 {exc.date}의 논문 목록에 없습니다 (사라짐)."
        return f"{exc.date}에는 {exc.paper_id} 논문이 없습니다."
    if isinstance(exc, BrokenFileError):
        where = f"{exc.path} {exc.line}번째 줄" if exc.line is not None else str(exc.path)
        return f"파일이 손상되었습니다 ({where}): {exc.problem}. 파일을 고친 뒤 다시 하세요 (바뀐 것은 없습니다)."
    if isinstance(exc, WriteError):
        return f"{exc.path}을(를) 쓰지 못했습니다: {exc.reason}. 아무것도 바뀌지 않았습니다."
    return str(exc)


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,  # every payload string is escaped as HTML text
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["faithfulness"] = faithfulness
    return env


def _markdown_html(markdown: str) -> tuple[str, Markup]:
    """The post as the preview shows it: front matter as text, the body through CommonMark with raw HTML
    off (a payload's <script> is text; the post's own entities decode back to the characters)."""
    from markdown_it import MarkdownIt

    front, body = "", markdown
    if markdown.startswith("---\n"):
        end = markdown.find("\n---\n", 4)
        if end != -1:
            front, body = markdown[4:end], markdown[end + 5 :]
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    return front, Markup(md.render(body))  # noqa: S704 - markdown-it escapes text and drops raw HTML


def create_app(
    cfg: Config,
    *,
    host: str = "127.0.0.1",
    port: int = 8765,
    enricher_factory: Callable[[], Any] | None = None,
    token: str | None = None,
) -> Starlette:
    """The desk over ``layout_for(cfg)`` (``--out`` or ``--blog``). ``enricher_factory``: what regenerate
    asks (default: the LLM from the environment). ``token``: the CSRF token (default: a fresh random one)."""
    root = layout_for(cfg)
    csrf = token or new_token()
    hosts = allowed_hosts(host, port)
    env = _environment()

    def page(name: str, status: int = 200, **context: Any) -> HTMLResponse:
        html = env.get_template(name).render(csrf=csrf, root=str(root.root), **context)
        return HTMLResponse(html, status_code=status)

    def error_page(status: int, message: str) -> HTMLResponse:
        return page("error.html", status=status, message=message)

    def parse_day(request: Request) -> dt.date | None:
        try:
            return dt.date.fromisoformat(request.path_params["date"])
        except ValueError:
            return None

    async def read_form(request: Request) -> dict[str, list[str]]:
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_FORM_BYTES:
                raise FormRefused(413, FORM_TOO_LARGE)
        return check_form(request.headers, body, csrf, hosts)

    def day_page(
        day: dt.date, *, status: int = 200, forms: dict[str, CardForm] | None = None, banner: str | None = None,
        done: str | None = None,
    ) -> HTMLResponse:  # fmt: skip
        opened = desk.open_desk_day(root, day, cfg)
        forms = forms or {}
        ids = {c.id for c in opened.cards}
        for pid, form in forms.items():  # a form for a paper the page has no card for: say it on top
            if pid not in ids and form.error:
                banner = form.error
        return page("day.html", status=status, day=opened, forms=forms, banner=banner, done=done)

    async def index(request: Request) -> Response:
        rows = await run_in_threadpool(desk.days, root)
        return page("days.html", days=rows)

    async def show_day(request: Request) -> Response:
        day = parse_day(request)
        if day is None:
            return error_page(404, "그런 날짜는 없습니다.")
        done = None
        action, pid = request.query_params.get("done"), request.query_params.get("id")
        if action in DONE:
            done = DONE[action] + (f": {pid}" if pid else "")
        try:
            return await run_in_threadpool(lambda: day_page(day, done=done))
        except ReviewError as exc:
            return error_page(404, korean(exc))

    async def preview(request: Request) -> Response:
        day = parse_day(request)
        if day is None:
            return error_page(404, "그런 날짜는 없습니다.")
        try:
            opened = await run_in_threadpool(desk.open_desk_day, root, day, cfg)
        except ReviewError as exc:
            return error_page(404, korean(exc))
        front, body = _markdown_html(opened.post_markdown) if opened.post_markdown else ("", Markup(""))
        return page("preview.html", day=opened, front=front, body=body)

    async def check(request: Request) -> Response:
        """The faithfulness aid and the summary check for a line being typed (read-only; the page's script
        asks as the editor types, and swaps the fragment in)."""
        day = parse_day(request)
        pid = request.query_params.get("id", "")
        summary = request.query_params.get("summary", "")
        if day is None:
            return error_page(404, "그런 날짜는 없습니다.")
        if len(summary) > MAX_LINE_CHARS:
            return error_page(413, "문장이 너무 깁니다.")
        try:
            paper, problems = await run_in_threadpool(desk.check_line, root, day, cfg, pid, summary)
        except ReviewError as exc:
            return error_page(404, korean(exc))
        line, abstract = faithfulness(summary.strip(), paper.abstract, paper.title)
        return page("_check.html", line=line, abstract=abstract, problems=problems)

    def done_redirect(day: dt.date, action: str, pid: str | None, anchor: str | None) -> RedirectResponse:
        query = urlencode({"done": action, **({"id": pid} if pid else {})})
        url = f"/day/{day.isoformat()}?{query}" + (f"#p-{anchor}" if anchor else "")
        return RedirectResponse(url, status_code=303)

    def next_open(day: dt.date, after: str) -> str | None:
        """The card to land on after an approve/reject: the next one still open, else the first open one."""
        cards = desk.open_desk_day(root, day, cfg).cards
        ids = [c.id for c in cards]
        open_ids = [c.id for c in cards if c.status in ("pending", "flagged", "needs-review")]
        later = [i for i in open_ids if after in ids and ids.index(i) > ids.index(after)]
        return (later or open_ids or [after])[0]

    async def action(request: Request) -> Response:
        day = parse_day(request)
        name = request.path_params["action"]
        if day is None or name not in DONE:
            return error_page(404, "그런 페이지는 없습니다.")
        try:
            form = await read_form(request)
        except FormRefused as exc:
            return error_page(exc.status, exc.reason)

        def field(key: str) -> str | None:
            values = form.get(key)
            return values[0] if values else None

        pid = field("id") or None
        version = field("version")
        card = CardForm(summary=field("summary"), tags=field("tags"), note=field("note"))

        def run() -> Response:
            if name == "publish":
                desk.publish(root, day, cfg)
                return done_redirect(day, name, None, None)
            if pid is None:
                raise ReviewError("양식에 논문 id가 없습니다.")
            if name == "approve":
                desk.approve(root, day, cfg, [pid], expect_version=version)
                return done_redirect(day, name, pid, next_open(day, pid))
            if name == "reject":
                desk.reject(root, day, cfg, pid, expect_version=version)
                return done_redirect(day, name, pid, next_open(day, pid))
            if name == "edit":
                return save_edit(day, pid, card, version)
            enricher = enricher_factory() if enricher_factory is not None else None
            desk.regenerate(root, day, cfg, pid, card.note, enricher=enricher, expect_version=version)
            return done_redirect(day, name, pid, pid)

        try:
            return await run_in_threadpool(run)
        except PublishRefused as exc:
            banner = "게시하지 않았습니다: " + "; ".join(desk.blocker_text(b) for b in exc.blockers)
            return await run_in_threadpool(lambda: day_page(day, status=400, banner=banner))
        except EditRejected as exc:
            card.summary_errors = list(exc.summary_problems)
            card.tag_errors = list(exc.tag_problems)
            return await run_in_threadpool(lambda: refused(day, pid, card, 400))
        except StaleError:
            card.stale = True
            card.error = (
                "이 날짜의 검토 상태가 페이지를 연 뒤 바뀌었습니다 (다른 창이나 명령이 저장함). "
                "아래는 지금 저장된 내용입니다. 확인하고 다시 하세요."
            )
            return await run_in_threadpool(lambda: refused(day, pid, card, 409))
        except DigestError as exc:
            card.error = korean(exc)
            status = 409 if isinstance(exc, LockedError) else 400 if isinstance(exc, ReviewError | ConfigError) else 500
            return await run_in_threadpool(lambda: refused(day, pid, card, status))

    def refused(day: dt.date, pid: str | None, card: CardForm, status: int) -> Response:
        if pid is None:
            return day_page(day, status=status, banner=card.error)
        return day_page(day, status=status, forms={pid: card})

    def save_edit(day: dt.date, pid: str, card: CardForm, version: str | None) -> Response:
        opened = desk.open_desk_day(root, day, cfg)
        current = next((c for c in opened.cards if c.id == pid), None)
        if current is None:
            raise ReviewError(f"no paper {pid!r} on {day}", day)
        summary = (card.summary or "").strip()
        tags = [t.strip() for t in (card.tags or "").split(",") if t.strip()]
        new_summary = summary if summary != current.summary else None
        new_tags = tags if tuple(tags) != current.row.tags else None
        if new_summary is None and new_tags is None:
            if current.status not in ("pending", "flagged", "needs-review"):
                return done_redirect(day, "edit", pid, pid)
            new_summary = summary  # saving an open paper's line as it is makes it the editor's
        desk.edit(root, day, cfg, pid, summary=new_summary, tags=new_tags, expect_version=version)
        return done_redirect(day, "edit", pid, pid)

    routes = [
        Route("/", index),
        Route("/day/{date}", show_day),
        Route("/day/{date}/preview", preview),
        Route("/day/{date}/check", check),
        Route("/day/{date}/{action}", action, methods=["POST"]),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(routes=routes)
    app.add_middleware(HostCheck, hosts=hosts)
    return app
