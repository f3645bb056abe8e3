"""Run the desk under uvicorn (the CLI prints; this module does not)."""

from __future__ import annotations

import errno
import ipaddress
import socket
from collections.abc import Callable

from agent.config import Config
from agent.errors import ConfigError, ListenError
from agent.web.security import is_loopback


def check_bind(host: str, allow_remote: bool) -> None:
    """ConfigError for an address the desk must not bind: a wildcard (the Host check needs the name the
    browser uses), or a non-loopback address without ``allow_remote``."""
    try:
        wildcard = ipaddress.ip_address(host.strip("[]")).is_unspecified
    except ValueError:
        wildcard = False
    if wildcard:
        raise ConfigError(f"cannot bind the desk to {host}: give the one address editors will type in the browser.")
    if not is_loopback(host) and not allow_remote:
        raise ConfigError(
            f"{host} is not a loopback address: anyone who reaches it could review and publish",
            setting="allow_remote",
        )


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to host:port and listening, or ListenError (e.g. the port is taken). Bound here, before
    the CLI announces the desk's address, and handed to uvicorn, so a busy port is one error line and not
    uvicorn's own log after the announcement."""
    bare = host.strip("[]")
    sock = socket.socket(socket.AF_INET6 if ":" in bare else socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does: not TIME_WAIT-blocked
        sock.bind((bare, port))
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        in_use = exc.errno == errno.EADDRINUSE
        reason = "the port is already in use" if in_use else (exc.strerror or str(exc)).lower()
        raise ListenError(bare, port, reason, in_use) from None
    sock.set_inheritable(True)
    return sock


def run(
    cfg: Config, host: str, port: int, *, sock: socket.socket | None = None, on_ready: Callable[[], None] | None = None
) -> None:
    """Serve until interrupted, on ``sock`` (from :func:`listen`) when given. ``on_ready`` runs once the
    socket listens (e.g. to open a browser)."""
    import uvicorn

    from agent.web.app import create_app

    app = create_app(cfg, host=host, port=port)
    config = uvicorn.Config(app, host=host.strip("[]"), port=port, log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    if on_ready is not None:
        original = server.startup

        async def startup(sockets: object = None) -> None:
            await original(sockets)  # type: ignore[arg-type]
            if server.started:
                on_ready()

        server.startup = startup  # type: ignore[method-assign]
    server.run(sockets=[sock] if sock is not None else None)
