"""What keeps a local review desk from being driven by another web page.

- ``Host`` must name the address the server is bound to: a page on ``evil.example`` that re-points its DNS
  at 127.0.0.1 (DNS rebinding) sends ``Host: evil.example`` and gets a 421, never a page or an action.
- Every POST carries the desk's CSRF token (random per server start, in every form): another site can make
  the browser send a form here but cannot read the token. A cross-site ``Origin``/``Sec-Fetch-Site`` is
  refused too, and only small url-encoded forms are read.
- Every response forbids inline and foreign scripts, framing and sniffing (Content-Security-Policy), so
  even a payload that slipped past escaping could not run.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlsplit

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_FORM_BYTES = 64 * 1024
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")

SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        b"form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),  # not no-referrer: then a form POST says "Origin: null"
    (b"cache-control", b"no-store"),
]


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def allowed_hosts(host: str, port: int) -> frozenset[str]:
    """The ``Host`` header values the desk answers: the bound address (and the loopback names when it is
    loopback), with the port, and without it only for port 80."""
    names = set(LOOPBACK_NAMES) if is_loopback(host) else set()
    names.add(f"[{host}]" if ":" in host and not host.startswith("[") else host)
    values = {f"{n}:{port}" for n in names}
    if port == 80:
        values |= names
    return frozenset(v.lower() for v in values)


def new_token() -> str:
    return secrets.token_urlsafe(32)


class HostCheck:
    """ASGI middleware: 421 unless the Host header is one of ``hosts``; security headers on every response."""

    def __init__(self, app: ASGIApp, hosts: Iterable[str]) -> None:
        self.app = app
        self.hosts = frozenset(h.lower() for h in hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        host = Headers(scope=scope).get("host", "").lower()
        if host not in self.hosts:
            body = "잘못된 주소로 온 요청입니다 (421): 이 검토 데스크는 시작할 때 정한 주소로만 응답합니다.\n".encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 421,
                    "headers": [(b"content-type", b"text/plain; charset=utf-8"), *SECURITY_HEADERS],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        await self.app(scope, receive, send_with_headers)


FORM_TOO_LARGE = "양식이 너무 큽니다."


class FormRefused(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status, self.reason = status, reason


def check_form(headers: Headers, body: bytes, token: str, hosts: frozenset[str]) -> dict[str, list[str]]:
    """The POSTed form's fields (every value, in order), or FormRefused: wrong type or size, a cross-site
    request, or a missing or wrong CSRF token."""
    if headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        raise FormRefused(403, "다른 사이트에서 보낸 요청이라 거부했습니다. 검토 데스크의 페이지에서 다시 하세요.")
    origin = headers.get("origin")
    if origin is not None and (urlsplit(origin).netloc.lower() not in hosts):
        raise FormRefused(403, "다른 출처(origin)에서 보낸 요청이라 거부했습니다. 검토 데스크 페이지에서 다시 하세요.")
    ctype = headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/x-www-form-urlencoded":
        raise FormRefused(415, "일반 양식(form)으로 보낸 요청만 받습니다.")
    if len(body) > MAX_FORM_BYTES:
        raise FormRefused(413, FORM_TOO_LARGE)
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        raise FormRefused(400, "양식이 UTF-8이 아닙니다.") from None
    form: dict[str, list[str]] = {}
    for key, value in pairs:
        form.setdefault(key, []).append(value)
    sent = (form.get("csrf") or [""])[0]
    if not hmac.compare_digest(sent.encode(), token.encode()):
        raise FormRefused(403, "보안 토큰(CSRF)이 없거나 맞지 않습니다. 페이지를 새로 고친 뒤 다시 하세요.")
    return form
