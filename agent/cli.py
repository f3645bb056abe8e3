"""The thin CLI: parse options, call one library function, map DigestError to a one-line message and exit code.

Exit codes (fixed contract): 0 draft written; 1 run failed, nothing written or overwritten; 2 usage/config
error; 3 only with --strict, when any paper is flagged (after merging the review state: a paper the editor
rejected, approved or edited is not; one that needs review again is); 4 the draft was written but the LLM
endpoint failed during the run (unreachable, or the circuit breaker opened) — takes precedence over 3;
`review --regenerate` during such an outage exits 4 too, changing nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from agent.config import Config, load_config
from agent.errors import ConfigError, DigestError, Interrupted, SourceDateError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    # Plain help: Typer's rich panels print "<bool>" beside every flag, though a flag takes no value.
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
    help="Turn Hugging Face Daily Papers into an enriched Korean Jekyll/Chirpy post.",
)
cache_app = typer.Typer(no_args_is_help=True, help="Inspect or clear the LLM answer cache.")
app.add_typer(cache_app, name="cache")

log = logging.getLogger("paper-digest")

ConfigOpt = Annotated[
    Path | None, typer.Option("--config", help="Config file (default ./paper-digest.toml).")
]
OutOpt = Annotated[Path | None, typer.Option("--out", help="Output directory (default ./outputs).")]
BlogOpt = Annotated[
    Path | None,
    typer.Option(
        "--blog",
        help="A Jekyll blog directory: draft in _drafts/, state in .paper-digest/, post in _posts/ "
        "(or PAPER_DIGEST_BLOG_DIR, or [blog] dir).",
    ),
]
CacheDirOpt = Annotated[
    Path | None,
    typer.Option(
        "--cache-dir", help="Cache directory (or PAPER_DIGEST_CACHE_DIR; default the user cache dir)."
    ),
]
VerboseOpt = Annotated[
    bool, typer.Option("--verbose", "-v", help="Log each step and LLM request (keys masked).")
]


def _show_version(value: bool) -> None:
    if value:
        from agent import __version__

        typer.echo(f"paper-digest {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_show_version, is_eager=True, help="Show the version and exit."),
    ] = False,
) -> None:
    """Turn Hugging Face Daily Papers into an enriched Korean Jekyll/Chirpy post."""


def _fail(exc: DigestError, hint: str | None = None) -> NoReturn:
    message = " ".join(str(exc).split())  # always one line
    if hint:
        message = f"{message}; {hint}"
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(exc.exit_code)


def _setup_logging(verbose: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    log.handlers[:] = [handler]
    log.setLevel(logging.DEBUG if verbose else logging.WARNING)
    log.propagate = False


def _parse_date(value: str | None, tz: str) -> dt.date:
    from agent.pipeline import today_in

    if value is None:
        return today_in(tz)
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"--date {value!r} is not a date; use YYYY-MM-DD.") from None


def _load(config: Path | None, out: Path | None, cache_dir: Path | None, blog: Path | None = None) -> Config:
    from dataclasses import replace

    if out is not None and blog is not None:
        raise ConfigError("give --out or --blog, not both.")
    cfg = load_config(config)
    if out is not None:  # a flag beats a blog dir from the environment or the config file
        cfg = replace(cfg, out_dir=out, blog_dir=None)
    if blog is not None:
        cfg = replace(cfg, blog_dir=blog)
    if cache_dir is not None:
        cfg = replace(cfg, cache_dir=cache_dir)
    return cfg


@app.command()
def run(
    date: Annotated[
        str | None,
        typer.Option("--date", help="YYYY-MM-DD (default: the day a --source file lists, else today in Asia/Seoul)."),
    ] = None,
    source: Annotated[
        str | None, typer.Option("--source", help="A JSON file in the API's shape instead of the HF API.")
    ] = None,
    force_date: Annotated[
        bool, typer.Option("--force-date", help="Date the post --date though the --source file lists another day.")
    ] = False,
    out: OutOpt = None,
    blog: BlogOpt = None,
    no_llm: Annotated[bool, typer.Option("--no-llm", help="No summaries; tags from keyword rules.")] = False,
    concurrency: Annotated[
        int | None, typer.Option("--concurrency", min=1, max=64, help="LLM requests in flight (default 4).")
    ] = None,
    model: Annotated[
        str | None, typer.Option("--model", help="LLM model name (or PAPER_DIGEST_MODEL).")
    ] = None,
    report: Annotated[Path | None, typer.Option("--report", help="Write the run's JSON report here.")] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Exit 3 when any paper still needs review (flagged or needs-review).")
    ] = False,
    budget_usd: Annotated[
        float | None,
        typer.Option("--budget-usd", min=0, help="Stop sending LLM requests once this is spent."),
    ] = None,
    cache_dir: CacheDirOpt = None,
    config: ConfigOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Fetch the day's papers, enrich them, and write the draft post."""
    from agent.pipeline import RunOptions, run_digest, with_overrides

    _setup_logging(verbose)
    try:
        cfg = _load(config, out, cache_dir, blog)
        cfg = with_overrides(cfg, model=model, concurrency=concurrency, budget_usd=budget_usd)
        day = None if date is None and source is not None else _parse_date(date, cfg.post.timezone)
        opts = RunOptions(
            date=day, source=source, force_date=force_date, no_llm=no_llm, report=report,
            progress=sys.stderr.isatty(),
        )  # fmt: skip
        result = run_digest(opts, cfg)
    except KeyboardInterrupt as exc:
        _interrupted(exc)
    except SourceDateError as exc:
        if exc.asked is None:
            _fail(exc, "pass --date YYYY-MM-DD.")
        _fail(exc, f"drop --date to use {exc.listed}, or pass --force-date to date the post {exc.asked} anyway.")
    except DigestError as exc:
        _fail(exc)
    typer.echo(
        f"{result.draft}: {result.papers} papers, {result.summarized} summarized, {result.flagged} flagged, "
        f"{result.llm_requests} LLM requests, {result.cache_hits} cache hits, ${result.cost_usd:.4f}"
    )
    if result.llm_endpoint_error:  # takes precedence over --strict's 3
        typer.echo(f"error: {result.llm_endpoint_error}", err=True)
        raise typer.Exit(4)
    if strict and result.flagged:
        typer.echo(
            f"error: {result.flagged} paper(s) flagged; review them with `paper-digest review {result.date}`.",
            err=True,
        )
        raise typer.Exit(3)


@app.command()
def review(
    date: Annotated[str, typer.Argument(help="The post's date, YYYY-MM-DD.")],
    approve: Annotated[str | None, typer.Option("--approve", help="Approve a paper id, or 'all'.")] = None,
    reject: Annotated[str | None, typer.Option("--reject", help="Leave a paper out of the post.")] = None,
    edit: Annotated[str | None, typer.Option("--edit", help="Replace a paper's summary and/or tags.")] = None,
    summary: Annotated[str | None, typer.Option("--summary", help="With --edit: the one-liner.")] = None,
    tags: Annotated[str | None, typer.Option("--tags", help="With --edit: vocabulary tags, a,b.")] = None,
    regenerate: Annotated[str | None, typer.Option("--regenerate", help="Ask the LLM again.")] = None,
    note: Annotated[str | None, typer.Option("--note", help="With --regenerate: a note for the LLM.")] = None,
    out: OutOpt = None,
    blog: BlogOpt = None,
    cache_dir: CacheDirOpt = None,
    config: ConfigOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """List the day's papers with their review status, or approve / reject / edit / regenerate one."""
    from agent import review as rv
    from agent.layout import layout_for

    _setup_logging(verbose)
    try:
        cfg = _load(config, out, cache_dir, blog)
        layout = layout_for(cfg)
        day = _parse_date(date, cfg.post.timezone)
        if sum(a is not None for a in (approve, reject, edit, regenerate)) > 1:
            raise ConfigError("give one of --approve, --reject, --edit, --regenerate at a time.")
        if (summary is not None or tags is not None) and edit is None:
            raise ConfigError("--summary and --tags go with --edit ID.")
        if note is not None and regenerate is None:
            raise ConfigError("--note goes with --regenerate ID.")
        if approve is not None:
            message = rv.approve(layout, day, cfg, approve)
        elif reject is not None:
            message = rv.reject(layout, day, cfg, reject)
        elif edit is not None:
            message = rv.edit(layout, day, cfg, edit, summary=summary, tags=tags)
        elif regenerate is not None:
            message = rv.regenerate(layout, day, cfg, regenerate, note=note)
        else:
            message = rv.review_table(layout, day, cfg)
    except DigestError as exc:
        _fail(exc)
    typer.echo(message)


@app.command()
def publish(
    date: Annotated[str, typer.Argument(help="The post's date, YYYY-MM-DD.")],
    out: OutOpt = None,
    blog: BlogOpt = None,
    force: Annotated[
        bool,
        typer.Option("--force", help="Publish even with unreviewed papers or failed checks (such text is left out)."),
    ] = False,
    config: ConfigOpt = None,
) -> None:
    """Write the reviewed post to _posts/ (and its _data/papers file); refuses while papers are unreviewed."""
    from agent.layout import layout_for
    from agent.publish import publish as publish_day

    try:
        cfg = _load(config, out, None, blog)
        path = publish_day(layout_for(cfg), _parse_date(date, cfg.post.timezone), cfg, force=force)
    except DigestError as exc:
        _fail(exc)
    typer.echo(str(path))


@app.command()
def serve(
    out: OutOpt = None,
    blog: BlogOpt = None,
    host: Annotated[str, typer.Option("--host", help="Address to bind (default 127.0.0.1: this machine only).")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port (default 8765).")] = 8765,
    open_browser: Annotated[bool, typer.Option("--open", help="Open the desk in the default browser.")] = False,
    allow_remote: Annotated[
        bool, typer.Option("--allow-remote", help="Allow a non-loopback --host (anyone reaching it can publish).")
    ] = False,
    cache_dir: CacheDirOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Review days in the browser: a local desk over the same review and publish functions."""
    from agent.layout import layout_for
    from agent.web.security import is_loopback
    from agent.web.server import check_bind
    from agent.web.server import run as run_desk

    try:
        cfg = _load(config, out, cache_dir, blog)
        check_bind(host, allow_remote)
    except DigestError as exc:
        _fail(exc)
    url = f"http://{f'[{host}]' if ':' in host and not host.startswith('[') else host}:{port}/"
    if not is_loopback(host):
        typer.echo(f"warning: the desk on {host} is reachable from other machines, without a login.", err=True)
    typer.echo(f"review desk for {layout_for(cfg).root}: {url} (Ctrl-C to stop)", err=True)

    def opened() -> None:
        if open_browser:
            import webbrowser

            webbrowser.open(url)

    run_desk(cfg, host, port, on_ready=opened)


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="The Jekyll blog's folder (default: here).")] = Path("."),
    force: Annotated[bool, typer.Option("--force", help="Replace files init wrote before.")] = False,
    install_url: Annotated[
        str | None, typer.Option("--install-url", help="The paper-digest repository the workflows install.")
    ] = None,
    ref: Annotated[str | None, typer.Option("--ref", help="The tag or commit they install (pinned).")] = None,
    budget_usd: Annotated[
        float | None, typer.Option("--budget-usd", min=0, help="Default LLM budget per nightly run (USD).")
    ] = None,
) -> None:
    """Set a blog repository up: paper-digest.toml and the nightly review / publish workflows."""
    from agent import init as ini

    try:
        result = ini.init_blog(
            directory,
            install_url=install_url or ini.DEFAULT_INSTALL_URL,
            ref=ref or ini.DEFAULT_REF,
            budget_usd=ini.DEFAULT_BUDGET_USD if budget_usd is None else budget_usd,
            force=force,
        )
    except ini.InitRefused as exc:
        names = ", ".join(map(str, exc.paths))
        typer.echo(f"error: {names} exist(s) already in {directory}; pass --force to replace them.", err=True)
        raise typer.Exit(1) from None
    except DigestError as exc:
        _fail(exc)
    replaced = f" (replaced: {', '.join(map(str, result.replaced))})" if result.replaced else ""
    if result.pages_workflow:
        pages = f"publish starts {result.pages_workflow} after its push (a push by the workflow token starts none)."
    else:
        pages = (
            "with 'Deploy from a branch' the site rebuilds from the default branch; with an Actions\n"
            "     Pages workflow, give it a workflow_dispatch trigger and run init --force so publish starts it."
        )
    typer.echo(
        f"wrote {', '.join(map(str, result.written))} in {directory}{replaced}\n"
        f"The workflows install {result.install} (--install-url / --ref, or PAPER_DIGEST_INSTALL in both files).\n"
        "\n"
        "In the repository's GitHub settings, before the first nightly run:\n"
        "  1. Secrets and variables > Actions: the secret OPENAI_API_KEY; optional variables OPENAI_BASE_URL\n"
        "     (another OpenAI-compatible endpoint), PAPER_DIGEST_MODEL, PAPER_DIGEST_BUDGET_USD.\n"
        "  2. Actions > General > Workflow permissions: 'Read and write permissions' and\n"
        "     'Allow GitHub Actions to create and approve pull requests'.\n"
        f"  3. Pages: {pages}\n"
        "\n"
        "Then: git add paper-digest.toml .github/workflows && git commit -m 'paper-digest workflows' && git push"
    )


def _cache_command(
    config: Path | None, cache_dir: Path | None, action: Callable[[Any], str], absent: Callable[[Path], str]
) -> None:
    from agent.cache import AnswerCache, default_cache_dir

    try:
        cfg = _load(config, None, cache_dir)
        directory = cfg.cache_dir or default_cache_dir()
        if not directory.exists():  # nothing cached yet: say so, and create nothing
            message = absent(directory)
        else:
            with AnswerCache(directory) as cache:
                message = action(cache)
    except DigestError as exc:
        _fail(exc)
    typer.echo(message)


@cache_app.command("stats")
def cache_stats(cache_dir: CacheDirOpt = None, config: ConfigOpt = None) -> None:
    """Show the cache directory, entry count and size."""

    def stats(cache: Any) -> str:
        s = cache.stats()
        return f"{s['directory']}: {s['entries']} entries, {s['size_bytes']} bytes"

    _cache_command(config, cache_dir, stats, lambda d: f"{d}: 0 entries, 0 bytes (no cache yet)")


@cache_app.command("clear")
def cache_clear(cache_dir: CacheDirOpt = None, config: ConfigOpt = None) -> None:
    """Remove every cached LLM answer."""
    _cache_command(
        config, cache_dir, lambda cache: f"removed {cache.clear()} cached answers", lambda d: "removed 0 cached answers"
    )


def _terminate(signum: int, frame: object) -> None:
    # SIGTERM (kill, systemd, a CI timeout) unwinds like Ctrl-C instead of killing the process mid-write:
    # a write in progress removes its temporary files and puts back what it had already replaced.
    raise Interrupted(signum)


def _interrupted(exc: KeyboardInterrupt) -> NoReturn:
    signum = getattr(exc, "signum", signal.SIGINT)
    cached = getattr(exc, "answers_cached", None)
    counted = f"{cached} answers cached, " if cached is not None else ""
    word = "terminated" if signum == signal.SIGTERM else "interrupted"
    typer.echo(f"{word}; {counted}nothing written", err=True)
    raise typer.Exit(128 + signum)


def main() -> None:
    signal.signal(signal.SIGTERM, _terminate)
    app()
