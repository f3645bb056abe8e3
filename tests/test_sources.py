"""agent/sources.py: cassettes recorded against LocalServer, live failures that cannot be recorded,
httpx.MockTransport for header arithmetic, and the file source."""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from servers import LocalServer, Request, Response

from agent import __version__, sources
from agent.cli import describe
from agent.errors import ConfigError, SourceError
from agent.sources import FileSource, HFApiSource, source_for

DAY = dt.date(2026, 6, 12)
TOKEN = "hf_TestSecretToken0123456789"
CASSETTES = Path(__file__).resolve().parents[1] / "cassettes" / "test_sources"


def item(pid: str, upvotes: int = 1) -> dict[str, Any]:
    paper = {"id": pid, "title": f"Paper {pid}", "summary": "An abstract.", "upvotes": upvotes, "authors": []}
    return {"paper": paper, "title": f"Paper {pid}", "numComments": 0}


def ids(items: list[dict[str, Any]]) -> list[str]:
    return [i["paper"]["id"] for i in items]


def scripted(*responses: Response) -> Callable[[Request], Response]:
    """Answer with ``responses`` in order, then keep repeating the last one."""
    queue = list(responses)

    def handler(req: Request) -> Response:
        return queue.pop(0) if len(queue) > 1 else queue[0]

    return handler


def api(url: str, sleeps: list[float], **kwargs: Any) -> HFApiSource:
    return HFApiSource(url, sleep=sleeps.append, **kwargs)


def mock(handler: Callable[[httpx.Request], httpx.Response], sleeps: list[float], **kw: Any) -> HFApiSource:
    return HFApiSource("https://hf.test", transport=httpx.MockTransport(handler), sleep=sleeps.append, **kw)


def sent(cassette: Any) -> int:
    """Requests the code made: replayed ones when the cassette was loaded, else recorded ones."""
    return cassette.play_count if cassette.rewound else len(cassette)


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture(scope="module")
def _local_server() -> Iterator[LocalServer]:
    # One server for the module: stopping a LocalServer takes half a second.
    with LocalServer(scripted(Response(500, "no handler set"))) as srv:
        yield srv


@pytest.fixture
def server(_local_server: LocalServer) -> LocalServer:
    """The module's LocalServer with its request log cleared; tests set ``server.handler``."""
    _local_server.requests.clear()
    return _local_server


# --- recorded against LocalServer -------------------------------------------------------------------


@pytest.mark.vcr
def test_retries_503_then_succeeds_after_retry_after(vcr: Any, server: LocalServer, sleeps: list[float]) -> None:
    server.handler = scripted(
        Response(503, "upstream busy", {"Retry-After": "7"}),
        Response(200, [item("2606.00001")]),
        Response(200, []),
    )
    assert ids(api(server.url, sleeps).fetch(DAY)) == ["2606.00001"]
    assert sleeps == [7.0]
    assert sent(vcr) == 3  # 503, page 0, empty page 1


@pytest.mark.vcr
def test_429_honours_retry_after(vcr: Any, server: LocalServer, sleeps: list[float]) -> None:
    limited = {
        "Retry-After": "3",
        "RateLimit": '"api";r=0;t=3',
        "RateLimit-Policy": '"fixed window";"api";q=500;w=300',
    }
    server.handler = scripted(
        Response(429, "Too Many Requests", limited), Response(200, [item("2606.00002")]), Response(200, [])
    )
    assert ids(api(server.url, sleeps).fetch(DAY)) == ["2606.00002"]
    assert sleeps == [3.0]
    assert sent(vcr) == 3


@pytest.mark.vcr
def test_malformed_date_is_rejected_without_retry(vcr: Any, server: LocalServer, sleeps: list[float]) -> None:
    server.handler = scripted(Response(400, {"error": "Invalid date: 2026-13-01"}))
    with pytest.raises(SourceError) as err:
        api(server.url, sleeps).fetch_date("2026-13-01")
    assert str(err.value) == 'HF API rejected date=2026-13-01 (HTTP 400: {"error": "Invalid date: 2026-13-01"}).'
    assert sleeps == []
    assert sent(vcr) == 1


@pytest.mark.vcr
def test_non_json_body(vcr: Any, server: LocalServer, sleeps: list[float]) -> None:
    html = "<html><body>Hugging Face is down for maintenance</body></html>"
    server.handler = scripted(Response(200, html, {"Content-Type": "text/html"}))
    with pytest.raises(SourceError) as err:
        api(server.url, sleeps).fetch(DAY)
    assert str(err.value) == "HF API returned a non-JSON body for date=2026-06-12; try again later."


@pytest.mark.vcr
def test_object_instead_of_array(vcr: Any, server: LocalServer, sleeps: list[float]) -> None:
    server.handler = scripted(Response(200, {"papers": [item("2606.00003")]}))
    with pytest.raises(SourceError) as err:
        api(server.url, sleeps).fetch(DAY)
    where = f"{server.url}/api/daily_papers?date=2026-06-12&p=0"
    assert str(err.value) == f"expected a JSON array of papers from {where}, got an object."


@pytest.mark.vcr
def test_pages_until_an_empty_page(vcr: Any, server: LocalServer, sleeps: list[float]) -> None:
    day = [item(f"2606.0001{n}", upvotes=n) for n in range(4)]

    def handler(req: Request) -> Response:
        page, limit = int(req.query["p"][0]), int(req.query["limit"][0])
        return Response(200, day[page * limit : (page + 1) * limit])

    server.handler = handler
    source = api(server.url, sleeps, page_limit=2)
    assert source.fetch(DAY) == day
    assert source.describe() == f"{server.url}/api/daily_papers?date=2026-06-12"
    assert sent(vcr) == 3  # two full pages and the empty one


@pytest.mark.vcr
def test_empty_day(vcr: Any, server: LocalServer, sleeps: list[float]) -> None:
    server.handler = scripted(Response(200, []))
    assert api(server.url, sleeps).fetch(dt.date(2026, 6, 13)) == []
    assert sent(vcr) == 1


@pytest.mark.vcr
def test_token_is_filtered_from_the_cassette(vcr: Any, server: LocalServer, sleeps: list[float]) -> None:
    server.handler = scripted(Response(200, [item("2606.00004")]), Response(200, []))
    assert ids(api(server.url, sleeps, token=TOKEN).fetch(DAY)) == ["2606.00004"]


def test_cassettes_hold_no_credentials() -> None:
    cassettes = sorted(CASSETTES.glob("*.yaml"))
    assert len(cassettes) == 8, "record the cassettes with --record-mode=once"
    for path in cassettes:
        text = path.read_text(encoding="utf-8")
        assert "authorization" not in text.lower(), path
        assert TOKEN not in text, path
        assert "accept-encoding:\n      - gzip\n" in text, path  # never zstd: vcrpy cannot decode it


# --- live against LocalServer: what a cassette cannot hold ------------------------------------------


def test_request_headers_and_query_with_token(server: LocalServer, sleeps: list[float]) -> None:
    server.handler = scripted(Response(200, []))
    api(server.url, sleeps, token=TOKEN).fetch(DAY)
    (req,) = server.requests
    assert req.path == "/api/daily_papers"
    assert req.query == {"date": ["2026-06-12"], "p": ["0"], "limit": ["100"]}
    assert req.headers["User-Agent"] == f"paper-digest/{__version__}"
    assert req.headers["Accept"] == "application/json"
    assert req.headers["Accept-Encoding"] == "gzip"
    assert req.headers["Authorization"] == f"Bearer {TOKEN}"


def test_no_authorization_without_token(server: LocalServer, sleeps: list[float]) -> None:
    server.handler = scripted(Response(200, []))
    api(server.url, sleeps).fetch(DAY)
    assert "Authorization" not in server.requests[0].headers


def test_read_timeout_is_retried_then_reported(server: LocalServer, sleeps: list[float]) -> None:
    release = threading.Event()

    def stall(req: Request) -> Response:
        release.wait(5)
        return Response(drop=True)

    server.handler = stall
    try:
        with pytest.raises(SourceError) as err:
            api(server.url, sleeps, token=TOKEN, timeout=0.2, max_attempts=2).fetch(DAY)
    finally:
        release.set()
    assert str(err.value) == (
        f"HF API at {server.url} unreachable after 2 attempts (ReadTimeout); check the network or HF_ENDPOINT."
    )
    assert sleeps == [1.0]
    assert len(server.requests) == 2


def test_a_trickling_body_is_held_to_an_overall_deadline(server: LocalServer, sleeps: list[float]) -> None:
    # Issue 12 item 1: every read gets a byte within the read timeout, the whole body never arrives in time.
    server.handler = lambda req: Response(200, [item("2606.00001")] * 20, trickle=0.02)
    started = time.monotonic()
    with pytest.raises(SourceError) as err:
        api(server.url, sleeps, timeout=0.3, max_attempts=2).fetch(DAY)
    assert str(err.value) == (
        f"HF API at {server.url} unreachable after 2 attempts (ReadTimeout); check the network or HF_ENDPOINT."
    )
    assert len(server.requests) == 2 and sleeps == [1.0]
    assert time.monotonic() - started < 10  # the body alone takes 20 s to trickle out


def test_trickled_headers_are_held_to_the_overall_deadline_too(sleeps: list[float]) -> None:
    # A raw server: the status line and headers a byte every 20 ms (3+ s in all), each read well within 0.3 s.
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" + b"X-Pad: " + b"x" * 150 + b"\r\n"
    stop = threading.Event()
    accepted: list[int] = []

    def serve(listener: socket.socket) -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            accepted.append(1)
            with conn:
                for i in range(len(head)):
                    if stop.wait(0.02):
                        return
                    try:
                        conn.sendall(head[i : i + 1])
                    except OSError:
                        break

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        thread = threading.Thread(target=serve, args=(listener,), daemon=True)
        thread.start()
        started = time.monotonic()
        try:
            with pytest.raises(SourceError) as err:
                api(url, sleeps, timeout=0.3, max_attempts=2).fetch(DAY)
        finally:
            stop.set()
            thread.join(5)
    assert str(err.value) == (
        f"HF API at {url} unreachable after 2 attempts (ReadTimeout); check the network or HF_ENDPOINT."
    )
    assert len(accepted) == 2 and sleeps == [1.0]
    # ~0.6 s with the overall deadline; without it each attempt's headers take 4 s to trickle out (8 s in all).
    assert time.monotonic() - started < 6


def test_connection_refused_backs_off_exponentially(sleeps: list[float]) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    with pytest.raises(SourceError) as err:
        api(url, sleeps, token=TOKEN, max_attempts=4, backoff_s=0.5).fetch(DAY)
    assert str(err.value) == (
        f"HF API at {url} unreachable after 4 attempts (ConnectError); check the network or HF_ENDPOINT."
    )
    assert TOKEN not in str(err.value)
    assert sleeps == [0.5, 1.0, 2.0]


def test_dropped_connection_is_retried(server: LocalServer, sleeps: list[float]) -> None:
    server.handler = scripted(Response(drop=True), Response(200, [item("2606.00005")]), Response(200, []))
    assert ids(api(server.url, sleeps).fetch(DAY)) == ["2606.00005"]
    assert sleeps == [1.0]


# --- MockTransport: retry arithmetic and paging edge cases ------------------------------------------


def answers(
    *responses: httpx.Response,
) -> tuple[Callable[[httpx.Request], httpx.Response], list[httpx.Request]]:
    queue, seen = list(responses), []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return queue.pop(0) if len(queue) > 1 else queue[0]

    return handler, seen


def test_backoff_doubles_and_is_capped(sleeps: list[float]) -> None:
    handler, seen = answers(httpx.Response(502, text="bad gateway"))
    with pytest.raises(SourceError) as err:
        mock(handler, sleeps, max_attempts=6, backoff_s=1.0, max_backoff_s=5.0).fetch(DAY)
    assert str(err.value) == (
        "HF API at https://hf.test answered HTTP 502 for date=2026-06-12 after 6 attempts; try again later."
    )
    assert sleeps == [1.0, 2.0, 4.0, 5.0, 5.0]
    assert len(seen) == 6


def test_retry_after_is_capped(sleeps: list[float]) -> None:
    handler, _ = answers(httpx.Response(503, headers={"Retry-After": "3600"}), httpx.Response(200, json=[]))
    mock(handler, sleeps, max_backoff_s=60.0).fetch(DAY)
    assert sleeps == [60.0]


def test_retry_after_http_date(sleeps: list[float]) -> None:
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    handler, _ = answers(httpx.Response(429, headers={"Retry-After": when}), httpx.Response(200, json=[]))
    mock(handler, sleeps).fetch(DAY)
    assert len(sleeps) == 1 and 28.0 <= sleeps[0] <= 30.0


def test_retry_after_in_the_past_means_now(sleeps: list[float]) -> None:
    handler, _ = answers(
        httpx.Response(503, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}),
        httpx.Response(200, json=[]),
    )
    mock(handler, sleeps).fetch(DAY)
    assert sleeps == [0.0]


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"RateLimit": '"api";r=0;t=42', "RateLimit-Policy": '"fixed window";"api";q=500;w=300'}, 42.0),
        ({"RateLimit": "limit=500, remaining=0, reset=17"}, 17.0),
        ({"RateLimit-Limit": "500", "RateLimit-Remaining": "0", "RateLimit-Reset": "9"}, 9.0),
        ({"Retry-After": "soon", "RateLimit": '"api";r=0;t=12'}, 12.0),  # unparsable Retry-After
        ({"RateLimit": "garbage"}, 1.0),  # nothing usable: plain backoff
    ],
)
def test_429_ratelimit_headers(headers: dict[str, str], expected: float, sleeps: list[float]) -> None:
    handler, _ = answers(httpx.Response(429, headers=headers), httpx.Response(200, json=[]))
    mock(handler, sleeps).fetch(DAY)
    assert sleeps == [expected]


def test_ratelimit_header_on_a_5xx_is_not_a_wait_hint(sleeps: list[float]) -> None:
    handler, _ = answers(httpx.Response(500, headers={"RateLimit": '"api";r=400;t=250'}), httpx.Response(200, json=[]))
    mock(handler, sleeps).fetch(DAY)
    assert sleeps == [1.0]


@pytest.mark.parametrize(
    ("token", "advice"),
    [(None, "set HF_TOKEN or try again in a few minutes"), (TOKEN, "try again in a few minutes")],
)
def test_rate_limit_exhausted(token: str | None, advice: str, sleeps: list[float]) -> None:
    handler, _ = answers(httpx.Response(429, headers={"Retry-After": "1"}))
    with pytest.raises(SourceError) as err:
        mock(handler, sleeps, token=token, max_attempts=3).fetch(DAY)
    assert str(err.value) == f"HF API at https://hf.test is still rate-limiting (HTTP 429) after 3 attempts; {advice}."
    assert sleeps == [1.0, 1.0]


def test_bad_token_is_not_retried_nor_echoed(sleeps: list[float]) -> None:
    body = f'{{"error": "Invalid credentials in Authorization header: Bearer {TOKEN}"}}\n\tsee docs'
    handler, seen = answers(httpx.Response(401, text=body))
    with pytest.raises(SourceError) as err:
        mock(handler, sleeps, token=TOKEN).fetch(DAY)
    assert seen[0].headers["Authorization"] == f"Bearer {TOKEN}"
    assert str(err.value) == (
        'HF API rejected date=2026-06-12 (HTTP 401: {"error": "Invalid credentials in Authorization header: '
        'Bearer ***"} see docs); check HF_TOKEN.'
    )
    assert len(seen) == 1 and sleeps == []


def test_token_cut_by_the_200_char_limit_is_still_hidden(sleeps: list[float]) -> None:
    handler, _ = answers(httpx.Response(403, text="x" * 190 + TOKEN))
    with pytest.raises(SourceError) as err:
        mock(handler, sleeps, token=TOKEN).fetch(DAY)
    assert TOKEN[:10] not in str(err.value)
    assert str(err.value).endswith("x***); check HF_TOKEN.")


def test_rejection_body_is_one_line_of_at_most_200_chars(sleeps: list[float]) -> None:
    handler, _ = answers(httpx.Response(404, text="Not\nFound " + "x" * 500))
    with pytest.raises(SourceError) as err:
        mock(handler, sleeps).fetch(DAY)
    message = str(err.value)
    assert "\n" not in message
    body = ("Not Found " + "x" * 500)[:200]
    assert message == f"HF API rejected date=2026-06-12 (HTTP 404: {body}); check HF_ENDPOINT."


def test_server_ignoring_p_stops_after_a_page_with_nothing_new(sleeps: list[float]) -> None:
    handler, seen = answers(httpx.Response(200, json=[item("a"), item("b")]))
    assert ids(mock(handler, sleeps, page_limit=2).fetch(DAY)) == ["a", "b"]
    assert [r.url.params["p"] for r in seen] == ["0", "1"]


def test_items_keep_server_order_across_pages_with_duplicates(sleeps: list[float]) -> None:
    # A paper sliding between pages (upvotes changed) shows up twice; clean.py dedupes, not the source.
    handler, _ = answers(
        httpx.Response(200, json=[item("a"), item("b")]),
        httpx.Response(200, json=[item("b"), item("c")]),
        httpx.Response(200, json=[]),
    )
    assert ids(mock(handler, sleeps, page_limit=2).fetch(DAY)) == ["a", "b", "b", "c"]


def test_too_many_pages(sleeps: list[float]) -> None:
    def endless(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=[item(f"id-{request.url.params['p']}")])

    with pytest.raises(SourceError) as err:
        mock(endless, sleeps, max_pages=3).fetch(DAY)
    assert str(err.value) == (
        "HF API kept returning new papers past 3 pages for date=2026-06-12; check HF_ENDPOINT or raise max_pages."
    )


def test_items_that_are_not_objects_pass_through_to_normalize(sleeps: list[float]) -> None:
    # One broken item must not cost the whole day: agent.clean.normalize warns about it by index.
    handler, _ = answers(httpx.Response(200, json=[item("a"), "b"]), httpx.Response(200, json=[]))
    assert mock(handler, sleeps).fetch(DAY) == [item("a"), "b"]


@pytest.mark.parametrize(
    "body, reason",
    [(b'[{"paper": {"upvotes": ' + b"9" * 5000 + b"}}]", "non-JSON"), (b"[" * 100_000 + b"]" * 100_000, "non-JSON")],
)
def test_unparseable_numbers_and_deep_nesting_are_one_line_errors(
    sleeps: list[float], body: bytes, reason: str
) -> None:
    handler, _ = answers(httpx.Response(200, content=body))
    with pytest.raises(SourceError, match=reason):
        mock(handler, sleeps).fetch(DAY)


def test_an_oversized_body_is_refused(sleeps: list[float], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sources, "MAX_BODY_BYTES", 10)
    handler, _ = answers(httpx.Response(200, json=[item("a")]))
    with pytest.raises(SourceError, match="sent more than 10 bytes"):
        mock(handler, sleeps).fetch(DAY)


def test_a_gzip_bomb_is_refused_while_reading(sleeps: list[float], monkeypatch: pytest.MonkeyPatch) -> None:
    import gzip

    monkeypatch.setattr(sources, "MAX_BODY_BYTES", 1_000_000)
    bomb = gzip.compress(b"[" + b" " * 50_000_000 + b"]")  # ~50 KB on the wire, 50 MB unpacked
    handler, _ = answers(httpx.Response(200, content=bomb, headers={"Content-Encoding": "gzip"}))
    with pytest.raises(SourceError, match="sent more than 1000000 bytes"):
        mock(handler, sleeps).fetch(DAY)


def test_an_oversized_file_is_refused_before_reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sources, "MAX_BODY_BYTES", 10)
    path = tmp_path / "day.json"
    path.write_text("[" + " " * 20 + "]", encoding="utf-8")
    with pytest.raises(SourceError, match="is 22 bytes, over the 10-byte limit"):
        FileSource(path).fetch(DAY)


def test_endpoint_with_a_path_prefix_and_trailing_slash(sleeps: list[float]) -> None:
    handler, seen = answers(httpx.Response(200, json=[]))
    source = HFApiSource("https://mirror.test/hf/", transport=httpx.MockTransport(handler), sleep=sleeps.append)
    assert source.describe() == "https://mirror.test/hf/api/daily_papers"
    source.fetch(DAY)
    assert str(seen[0].url) == "https://mirror.test/hf/api/daily_papers?date=2026-06-12&p=0&limit=100"


def test_endpoint_must_be_http() -> None:
    with pytest.raises(ConfigError, match=r"^HF endpoint 'huggingface.co' is not an http\(s\) URL; fix HF_ENDPOINT\.$"):
        HFApiSource("huggingface.co")


def test_source_for(tmp_path: Path) -> None:
    api_source = source_for(None, "https://hf.test", TOKEN)
    assert isinstance(api_source, HFApiSource)
    assert api_source.describe() == "https://hf.test/api/daily_papers"
    assert TOKEN not in repr(api_source)
    file_source = source_for(str(tmp_path / "day.json"), "https://hf.test", TOKEN)
    assert isinstance(file_source, FileSource)
    assert file_source.describe() == str(tmp_path / "day.json")


# --- the file source --------------------------------------------------------------------------------


def test_file_source_reads_an_api_array(tmp_path: Path) -> None:
    path = tmp_path / "day.json"
    payload = [item("2606.00001"), item("2606.00002")]
    path.write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
    assert FileSource(path).fetch(DAY) == payload


def test_file_source_accepts_a_bom(tmp_path: Path) -> None:
    path = tmp_path / "day.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps([item("2606.00001")]).encode("utf-8"))
    assert ids(FileSource(path).fetch(DAY)) == ["2606.00001"]


def test_file_source_missing(tmp_path: Path) -> None:
    path = tmp_path / "nope.json"
    with pytest.raises(SourceError) as err:
        FileSource(path).fetch(DAY)
    assert describe(err.value) == f"source file {path} does not exist; check --source."
    assert err.value.path == path  # type: ignore[attr-defined]


def test_file_source_unreadable(tmp_path: Path) -> None:
    with pytest.raises(SourceError) as err:
        FileSource(tmp_path).fetch(DAY)
    assert describe(err.value) == f"cannot read source file {tmp_path} (Is a directory); check --source."


def test_file_source_bad_json(tmp_path: Path) -> None:
    path = tmp_path / "day.json"
    path.write_text('[{"paper": {"id": "x"}},\n', encoding="utf-8")
    with pytest.raises(SourceError) as err:
        FileSource(path).fetch(DAY)
    assert str(err.value) == (
        f"source file {path} is not valid JSON (Expecting value at line 2 column 1); "
        "fix it or save the API response again."
    )


def test_file_source_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "day.json"
    path.write_bytes('[{"title": "café"}]'.encode("latin-1"))
    with pytest.raises(SourceError) as err:
        FileSource(path).fetch(DAY)
    assert str(err.value) == f"source file {path} is not UTF-8 (bad byte at offset 15); re-save it as UTF-8."


def test_file_source_object_instead_of_array(tmp_path: Path) -> None:
    path = tmp_path / "day.json"
    path.write_text('{"papers": []}', encoding="utf-8")
    with pytest.raises(SourceError) as err:
        FileSource(path).fetch(DAY)
    assert str(err.value) == f"expected a JSON array of papers from {path}, got an object."


def test_file_source_item_not_an_object_passes_through(tmp_path: Path) -> None:
    path = tmp_path / "day.json"
    path.write_text('[{"paper": {"id": "a"}}, null]', encoding="utf-8")
    assert FileSource(path).fetch(DAY) == [{"paper": {"id": "a"}}, None]


@pytest.mark.parametrize(
    "body, reason",
    [
        ('[{"paper": {"upvotes": ' + "9" * 5000 + "}}]", "not usable JSON (Exceeds the limit"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ],
)
def test_file_source_unparseable_json_is_one_line(tmp_path: Path, body: str, reason: str) -> None:
    path = tmp_path / "day.json"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(SourceError) as err:
        FileSource(path).fetch(DAY)
    assert reason in str(err.value) and "\n" not in str(err.value)


def test_file_source_reads_the_real_payload(real_payload_path: Path) -> None:
    items = FileSource(real_payload_path).fetch(DAY)
    assert len(items) == 30
    assert all(isinstance(i["paper"]["id"], str) for i in items)
