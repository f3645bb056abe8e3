"""Where a day's papers come from: the HF Daily Papers API, or a JSON file in the same format.

Every source returns the raw API items (JSON objects) in the server's order, unparsed; ``[]`` is a day
without papers. Parsing, cleaning and de-duplication by paper id happen later, in ``agent/clean.py``.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import logging
import math
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from agent import __version__
from agent.errors import ConfigError, SourceError, SourceFileError

if TYPE_CHECKING:  # httpx is imported when the API is asked, not for a --source file
    import httpx

__all__ = ["DEFAULT_ENDPOINT", "FileSource", "HFApiSource", "PaperSource", "source_for"]

log = logging.getLogger("paper-digest")

DEFAULT_ENDPOINT = "https://huggingface.co"
API_PATH = "/api/daily_papers"

# Worth another attempt: the server or the network may be fine a moment later.
# draft-ietf-httpapi-ratelimit-headers: `RateLimit: "api";r=0;t=55` (draft 9+, what the Hub sends) or
# `RateLimit: limit=500, remaining=0, reset=55` (earlier drafts); both give seconds until the window resets.
_RATELIMIT_RESET = re.compile(r"(?:^|[;,\s])(?:t|reset)\s*=\s*(\d+(?:\.\d+)?)")


class PaperSource(Protocol):
    def describe(self) -> str:
        """Where the papers come from, for logs and error messages."""
        ...

    def fetch(self, day: dt.date) -> list[dict[str, Any]]:
        """The day's raw API items, in order; ``[]`` for a day without papers."""
        ...


class HFApiSource:
    """``GET {endpoint}/api/daily_papers?date=…``, paged with ``p``/``limit`` and retried with backoff.

    ``transport`` and ``sleep`` are the seams for tests: an ``httpx.MockTransport`` instead of the
    network, a recorder instead of really waiting.
    """

    def __init__(
        self,
        endpoint: str = DEFAULT_ENDPOINT,
        token: str | None = None,
        *,
        timeout: float = 20.0,
        max_attempts: int = 5,
        backoff_s: float = 1.0,
        max_backoff_s: float = 60.0,
        page_limit: int = 100,
        max_pages: int = 20,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not endpoint.startswith(("http://", "https://")):
            raise ConfigError(f"HF endpoint {endpoint!r} is not an http(s) URL; fix HF_ENDPOINT.")
        if min(max_attempts, page_limit, max_pages) < 1:
            raise ValueError("max_attempts, page_limit and max_pages must be at least 1")
        self.endpoint = endpoint.rstrip("/")
        self._token = (token or "").strip() or None
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.page_limit = page_limit
        self.max_pages = max_pages
        self._transport = transport
        self._sleep = sleep
        self._date: str | None = None
        self._deadline: float | None = None  # monotonic time the attempt in progress must end by

    def describe(self) -> str:
        """The API URL, with the date once :meth:`fetch` has been called."""
        url = self.endpoint + API_PATH
        return f"{url}?date={self._date}" if self._date is not None else url

    def fetch(self, day: dt.date) -> list[dict[str, Any]]:
        return self.fetch_date(day.isoformat())

    def fetch_date(self, date: str) -> list[dict[str, Any]]:
        """Like :meth:`fetch`, with ``date`` sent verbatim (the server validates it)."""
        self._date = date
        items: list[dict[str, Any]] = []
        seen: set[str | None] = set()
        page = 0
        with self._client() as client:
            while True:
                batch = self._page(client, date, page)
                ids = {_paper_id(item) for item in batch}
                # An empty page ends the day; a page with no new id means the server ignores `p`.
                if not batch or ids <= seen:
                    return items
                if page == self.max_pages:
                    raise SourceError(
                        f"HF API kept returning new papers past {self.max_pages} pages for date={date}; "
                        "check HF_ENDPOINT or raise max_pages."
                    )
                seen |= ids
                items.extend(batch)
                page += 1

    def _client(self) -> httpx.Client:
        import httpx

        headers = {
            "User-Agent": f"paper-digest/{__version__}",
            "Accept": "application/json",
            # Not httpx's default: once zstandard is importable httpx also offers zstd, which vcrpy
            # cannot decode when recording cassettes.
            "Accept-Encoding": "gzip",
        }
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        client = httpx.Client(
            base_url=self.endpoint,
            headers=headers,
            timeout=self.timeout,
            transport=self._transport,
            follow_redirects=True,  # httpx drops Authorization when a redirect leaves the origin
        )
        if self._transport is None:
            # Every socket read and write of an attempt gets at most what is left of its deadline, so headers
            # trickled a byte at a time cannot outlast it either. The default transport only (no proxy).
            pool = getattr(getattr(client, "_transport", None), "_pool", None)
            if pool is not None and hasattr(pool, "_network_backend"):
                pool._network_backend = _deadline_backend(self._time_left)
        return client

    def _time_left(self) -> float | None:
        return None if self._deadline is None else self._deadline - time.monotonic()

    def _page(self, client: httpx.Client, date: str, page: int) -> list[dict[str, Any]]:
        params = {"date": date, "p": str(page), "limit": str(self.page_limit)}
        body = self._get(client, params, date)
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):  # not JSON, no JSON encoding, a 5000-digit number, deep nesting
            raise SourceError(f"HF API returned a non-JSON body for date={date}; try again later.") from None
        return _check_items(data, f"{self.endpoint}{API_PATH}?date={date}&p={page}")

    def _send(self, client: httpx.Client, params: dict[str, str], date: str) -> tuple[httpx.Response, bytes]:
        """One GET, its (decompressed) body read in chunks and refused past MAX_BODY_BYTES: a small gzip body
        can unpack to gigabytes, so the cap must hold while reading, not after."""
        import httpx

        # `timeout` bounds each read; a server trickling a byte at a time never trips it, so the whole
        # attempt (headers and body) is also held to `timeout` overall, and then it is retried as a timeout.
        deadline = self._deadline = time.monotonic() + self.timeout
        request = client.build_request("GET", API_PATH, params=params)
        try:
            response = client.send(request, stream=True)
        except BaseException:
            self._deadline = None
            raise
        try:
            chunks, size = [], 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > MAX_BODY_BYTES:
                    raise SourceError(
                        f"HF API sent more than {MAX_BODY_BYTES} bytes for date={date}; check HF_ENDPOINT."
                    )
                chunks.append(chunk)
                if time.monotonic() > deadline:
                    raise httpx.ReadTimeout(f"no complete answer within {self.timeout:g}s", request=request)
        finally:
            self._deadline = None
            response.close()
        return response, b"".join(chunks)

    def _get(self, client: httpx.Client, params: dict[str, str], date: str) -> bytes:
        import httpx

        transient = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)
        attempt = 1
        while True:
            try:
                response, body = self._send(client, params, date)
            except transient as exc:
                if attempt >= self.max_attempts:
                    raise SourceError(
                        f"HF API at {self.endpoint} unreachable after {attempt} attempts "
                        f"({type(exc).__name__}); check the network or HF_ENDPOINT."
                    ) from exc
                failure, hinted = type(exc).__name__, None
            except httpx.HTTPError as exc:  # e.g. too many redirects, a corrupt gzip body
                raise SourceError(
                    f"HF API request to {self.endpoint} failed ({type(exc).__name__}: {exc}); check HF_ENDPOINT."
                ) from exc
            else:
                status = response.status_code
                if response.is_success:
                    return body
                if status != 429 and status < 500:
                    raise self._rejected(status, body, date)
                if attempt >= self.max_attempts:
                    raise self._gave_up(status, date)
                failure, hinted = f"HTTP {status}", _server_delay(response)
            if hinted is None:
                hinted = self.backoff_s * 2 ** (attempt - 1)
            delay = min(hinted, self.max_backoff_s)
            attempt += 1
            log.warning(
                "HF API %s for date=%s; retrying in %.1f s (attempt %d of %d)",
                failure,
                date,
                delay,
                attempt,
                self.max_attempts,
            )
            self._sleep(delay)

    def _rejected(self, status: int, body: bytes, date: str) -> SourceError:
        text = body.decode("utf-8", "replace")
        text = text.replace(self._token, "***") if self._token else text
        shown = _one_line(text, 200)
        detail = f"HTTP {status}: {shown}" if shown else f"HTTP {status}"
        hint = {401: "check HF_TOKEN", 403: "check HF_TOKEN", 404: "check HF_ENDPOINT"}.get(status)
        return SourceError(f"HF API rejected date={date} ({detail})" + (f"; {hint}." if hint else "."))

    def _gave_up(self, status: int, date: str) -> SourceError:
        tries = f"after {self.max_attempts} attempts"
        if status == 429:
            advice = "try again in a few minutes" if self._token else "set HF_TOKEN or try again in a few minutes"
            return SourceError(f"HF API at {self.endpoint} is still rate-limiting (HTTP 429) {tries}; {advice}.")
        return SourceError(
            f"HF API at {self.endpoint} answered HTTP {status} for date={date} {tries}; try again later."
        )


class FileSource:
    """A JSON file in the API's format (a bare array of items), e.g. a saved response or a sample.

    The file holds one day, so ``fetch`` ignores its ``day``. A UTF-8 BOM is accepted.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def describe(self) -> str:
        return str(self.path)

    def fetch(self, day: dt.date) -> list[dict[str, Any]]:
        try:
            size = self.path.stat().st_size
            if size > MAX_BODY_BYTES:
                raise SourceFileError(
                    f"source file {self.path} is {size} bytes, over the {MAX_BODY_BYTES}-byte limit", self.path
                )
            raw = self.path.read_bytes()
        except FileNotFoundError:
            raise SourceFileError(f"source file {self.path} does not exist", self.path) from None
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise SourceFileError(f"cannot read source file {self.path} ({reason})", self.path) from exc
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise SourceError(
                f"source file {self.path} is not UTF-8 (bad byte at offset {exc.start}); re-save it as UTF-8."
            ) from exc
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SourceError(
                f"source file {self.path} is not valid JSON ({exc.msg} at line {exc.lineno} column "
                f"{exc.colno}); fix it or save the API response again."
            ) from exc
        except (ValueError, RecursionError) as exc:  # a 5000-digit number, nesting past Python's limit
            reason = "nested too deeply" if isinstance(exc, RecursionError) else _one_line(str(exc), 80)
            raise SourceError(
                f"source file {self.path} is not usable JSON ({reason}); fix it or save the API response again."
            ) from None
        return _check_items(data, str(self.path))


MAX_BODY_BYTES = 50_000_000  # a real day is ~200 KB per 30 papers; anything near this is not a day of papers


def source_for(
    source: str | None, endpoint: str, token: str | None, *, max_attempts: int = 5, backoff_s: float = 1.0
) -> PaperSource:
    """``--source`` omitted → the HF API at ``endpoint``; a path → that JSON file."""
    if source is None:
        return HFApiSource(endpoint, token, max_attempts=max_attempts, backoff_s=backoff_s)
    return FileSource(Path(source))


def _check_items(data: Any, where: str) -> list[Any]:
    """The day's array, items unchecked: agent.clean.normalize warns about and skips unusable items
    one by one, so one broken item does not cost the whole day."""
    if not isinstance(data, list):
        raise SourceError(f"expected a JSON array of papers from {where}, got {_kind(data)}.")
    return data


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return "null"


def _paper_id(item: Any) -> str | None:
    paper = item.get("paper") if isinstance(item, dict) else None
    pid = paper.get("id") if isinstance(paper, dict) else None
    return pid if isinstance(pid, str) else None


def _one_line(text: str, limit: int) -> str:
    printable = "".join(c if c.isprintable() else " " for c in text)
    return " ".join(printable.split())[:limit]


def _server_delay(response: httpx.Response) -> float | None:
    """Seconds the server asks us to wait: ``Retry-After``, else (on 429) the RateLimit headers."""
    headers = response.headers
    retry_after = headers.get("retry-after", "").strip()
    if retry_after:
        seconds = _retry_after_seconds(retry_after)
        if seconds is not None:
            return seconds
    if response.status_code == 429:
        match = _RATELIMIT_RESET.search(headers.get("ratelimit", ""))
        if match:
            return float(match.group(1))
        reset = headers.get("ratelimit-reset", "").strip()
        if re.fullmatch(r"\d+(?:\.\d+)?", reset):
            return float(reset)
    return None


def _retry_after_seconds(value: str) -> float | None:
    """``Retry-After`` is either delay-seconds or an HTTP-date (RFC 9110 §10.2.3)."""
    if re.fullmatch(r"\d+(?:\.\d+)?", value):
        seconds = float(value)
        return seconds if math.isfinite(seconds) else None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # "-0000" parses as naive; HTTP-dates are always GMT
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


def _deadline_backend(time_left: Callable[[], float | None]) -> Any:
    """httpcore's socket backend, each read and write given at most ``time_left()`` seconds (a ReadTimeout
    once none is left): the overall deadline of an attempt, which per-read timeouts alone cannot give."""
    import httpcore

    def limit(timeout: float | None) -> float | None:
        left = time_left()
        if left is None:
            return timeout
        if left <= 0:
            raise httpcore.ReadTimeout("the attempt's deadline passed")
        return left if timeout is None else min(timeout, left)

    class Stream(httpcore.NetworkStream):
        def __init__(self, inner: httpcore.NetworkStream) -> None:
            self._inner = inner

        def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
            return self._inner.read(max_bytes, limit(timeout))

        def write(self, buffer: bytes, timeout: float | None = None) -> None:
            self._inner.write(buffer, limit(timeout))

        def close(self) -> None:
            self._inner.close()

        def start_tls(self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None) -> Any:
            return Stream(self._inner.start_tls(ssl_context, server_hostname, limit(timeout)))

        def get_extra_info(self, info: str) -> Any:
            return self._inner.get_extra_info(info)

    class Backend(httpcore.NetworkBackend):
        def __init__(self) -> None:
            self._inner = httpcore.SyncBackend()

        def connect_tcp(
            self,
            host: str,
            port: int,
            timeout: float | None = None,
            local_address: str | None = None,
            socket_options: Any = None,
        ) -> httpcore.NetworkStream:
            return Stream(self._inner.connect_tcp(host, port, limit(timeout), local_address, socket_options))

        def connect_unix_socket(
            self, path: str, timeout: float | None = None, socket_options: Any = None
        ) -> httpcore.NetworkStream:
            return Stream(self._inner.connect_unix_socket(path, limit(timeout), socket_options))

        def sleep(self, seconds: float) -> None:
            self._inner.sleep(seconds)

    return Backend()
