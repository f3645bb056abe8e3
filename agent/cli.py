"""The thin CLI: parse options, call one library function, turn its result or error into the words a user reads.

Every sentence a user sees is written here: the library returns results and raises errors with fields
(agent.errors), and this module says what happened and what to do next, repeating the options the user gave
(``--out``/``--blog``/``--config``) in every command it suggests.

Exit codes (fixed contract): 0 draft written; 1 run failed, nothing written or overwritten; 2 usage/config
error; 3 only with --strict, when any paper is flagged (after merging the review state: a paper the editor
rejected, approved or edited is not; one that needs review again is); 4 the draft was written but the LLM
endpoint failed during the run (unreachable, or the circuit breaker opened) — takes precedence over 3;
`review --regenerate` during such an outage exits 4 too, changing nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import shlex
import signal
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from agent.config import Config, load_config
from agent.errors import (
    BrokenFileError,
    CacheError,
    ConfigError,
    DigestError,
    FileChangedError,
    Interrupted,
    ListenError,
    LockedError,
    MissingCredentials,
    NoRunError,
    NotABlogError,
    PaperChangedError,
    PublishRefused,
    ReportClashError,
    SourceDateError,
    SourceFileError,
    StaleError,
    UnwritableError,
    WriteError,
)

if TYPE_CHECKING:
    from agent.eval import EvalReport, VersionStats
    from agent.models import Blocker
    from agent.publish import PublishResult
    from agent.review import ReviewResult, ReviewRow

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


# -- wording ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Given:
    """The options a user gave that every suggested command must repeat, and where we are."""

    out: Path | None = None
    blog: Path | None = None
    config: Path | None = None
    blog_layout: bool = False  # the day's files are in a blog (from --blog, the environment or the file)
    again: str = "try again"  # what to do after fixing a write problem
    report: bool = False  # run --report was given
    no_llm: bool = False  # the command has --no-llm (run; review --regenerate has not)
    where: str | None = None  # what to check after a write problem, when not --out/--blog

    def opts(self) -> str:
        parts: list[str] = []
        for flag, value in (("--out", self.out), ("--blog", self.blog), ("--config", self.config)):
            if value is not None:
                parts += [flag, shlex.quote(str(value))]
        return "".join(" " + p for p in parts)

    @property
    def place(self) -> str:
        return self.where or ("--blog" if self.blog_layout else "--out")

    def command(self, *args: str) -> str:
        """A paper-digest command line with the user's options, in backquotes."""
        return f"`paper-digest {' '.join(args)}{self.opts()}`"


def _sentence(text: str) -> str:
    return text if text.endswith((".", "?", "!")) else text + "."


# What to do about an error a setting fixes (DigestError.setting), naming its flag.
_FLAG_ADVICE: dict[str, Callable[[DigestError], str]] = {
    "model": lambda exc: (
        "pass --model or set [llm] model in paper-digest.toml"
        if isinstance(exc, ConfigError)
        else "pass a model it serves with --model, or check OPENAI_BASE_URL"
    ),
    "source": lambda exc: "point --source at a saved /api/daily_papers response",
    "allow_remote": lambda exc: "pass --allow-remote to bind it anyway",
}


def describe(exc: DigestError, given: Given | None = None) -> str:
    """The one-line message for a library error: what went wrong (its fields) and what to do."""
    g = given or Given()
    if isinstance(exc, NoRunError):
        return f"{exc}; run {g.command('run', '--date', str(exc.date))} first."
    if isinstance(exc, BrokenFileError):
        if exc.kind == "snapshot":
            return f"{exc}; re-run {g.command('run', '--date', str(exc.date))} to rebuild it."
        return f"{exc}; fix the file (nothing was changed)."
    if isinstance(exc, PublishRefused):
        return publish_refusal(exc, g)
    if isinstance(exc, (PaperChangedError, FileChangedError, StaleError)):
        return f"{exc}; run the command again."
    if isinstance(exc, WriteError):
        return f"{exc}; check {g.place}{' (and --report)' if g.report else ''} and {g.again}."
    if isinstance(exc, UnwritableError):
        flag = "--report" if exc.role == "report" else g.place
        return f"cannot write {exc.path}: {exc.problem}; check {flag} (nothing was fetched or written)."
    if isinstance(exc, ReportClashError):
        return (
            f"--report {exc.report} would overwrite the {exc.name} of {exc.date} ({exc.path}); "
            "give another path (nothing was fetched or written)."
        )
    if isinstance(exc, LockedError) and exc.folder:
        return f"{exc}; check {g.place}."
    if isinstance(exc, LockedError) and not exc.held:
        return f"{exc}; if no paper-digest process is running, remove it and run again."
    if isinstance(exc, MissingCredentials):
        return f"{exc}{', or pass --no-llm' if g.no_llm else ''}."
    if isinstance(exc, ListenError):
        if exc.in_use:
            return f"{exc}; stop the program using it (another desk?) or pick another port with --port N."
        return f"{exc}; check --host and --port."
    if isinstance(exc, SourceFileError):
        return f"{exc}; check --source."
    if isinstance(exc, CacheError):
        fixes = [{"retry": "retry", "delete": "delete that directory"}[exc.remedy]] if exc.remedy else []
        if exc.setting == "cache_dir":
            fixes.append("set PAPER_DIGEST_CACHE_DIR or pass --cache-dir")
        return f"{exc}; {', or '.join(fixes)}." if fixes else _sentence(str(exc))
    if exc.setting in _FLAG_ADVICE:
        return f"{exc}; {_FLAG_ADVICE[exc.setting](exc)}."
    if isinstance(exc, NotABlogError):
        return f"{exc}; check {'--blog' if g.blog is not None else 'PAPER_DIGEST_BLOG_DIR and [blog] dir'}."
    if isinstance(exc, SourceDateError):
        if exc.asked is None:
            return f"{exc}; pass --date YYYY-MM-DD."
        return f"{exc}; drop --date to use {exc.listed}, or pass --force-date to date the post {exc.asked} anyway."
    return _sentence(str(exc))


def _blocker_sentence(day: dt.date, b: Blocker, g: Given) -> str:
    if b.kind == "unreviewed":
        how = f"run {g.command('review', str(day))}"
        if b.counts.get("needs-review"):
            how += (
                f" and clear needs-review with {g.command('review', str(day), '--approve ID')}"
                " (a status set by hand in the review file reverts at the next run),"
            )
        return f"{day}: {b.describe()}; {how} or pass --force."
    if b.kind == "failed-checks":
        fix = g.command("review", str(day), "--edit ID --summary TEXT [--tags a,b]")
        return f"{day}: {b.describe()}; fix with {fix} or pass --force."
    if b.kind == "missing-summaries":
        fix = g.command("review", str(day), "--edit ID --summary TEXT")
        return f"{day}: {b.describe()}; write them with {fix}, reject them, or pass --force to publish them without."
    return f"{day}: {b.describe()}."


def publish_refusal(exc: PublishRefused, g: Given) -> str:
    """The first reason that stops the publish (with --force: the one force cannot pass)."""
    shown = next((b for b in exc.blockers if not b.forceable), exc.blockers[0])
    return _blocker_sentence(exc.date, shown, g)


def next_step(day: dt.date, left: dict[str, int], blockers: Sequence[Blocker], g: Given) -> str:
    if left:
        return "left to review: " + ", ".join(f"{n} {status}" for status, n in left.items()) + "."
    for b in blockers:
        if b.kind == "failed-checks":
            return f"left to fix before publishing (--edit): {', '.join(b.ids)}."
        if b.kind == "nothing-to-publish":
            return "every paper is rejected; nothing to publish."
        if b.kind == "missing-summaries":
            return (
                f"nothing left to review, but {len(b.ids)} of {b.of} papers have no summary: write them with "
                f"--edit ID --summary TEXT, or publish without with {g.command('publish', str(day), '--force')}."
            )
    return f"nothing left to review; publish with {g.command('publish', str(day))}."


def review_message(r: ReviewResult, g: Given, *, approved_all: bool = False) -> str:
    step = next_step(r.date, dict(r.left), r.blockers, g)
    if r.action == "approve":
        n = len(r.changed)
        done = f"approved {n} paper(s)" + (f": {', '.join(r.changed)}" if 0 < n <= 5 else "")
        if approved_all and r.flagged:
            done += (
                f"; {len(r.flagged)} flagged left ({', '.join(r.flagged)}): edit, regenerate, reject,"
                " or approve each by id"
            )
        elif not r.changed:
            done = "already approved: " + ", ".join(r.unchanged)
        return f"{done}. {step}"
    pid = r.changed[0]
    if r.action == "reject":
        return f"rejected {pid}: left out of the draft and the post. {step}"
    shown = r.shown
    assert shown is not None
    if r.action == "edit":
        return f"edited {pid}: {shown.summary or '(요약 없음)'} [{', '.join(shown.tags)}]. {step}"
    if shown.status == "flagged":
        text = f"regenerated {pid}: flagged ({shown.flag_reason})"
    else:
        text = f"regenerated {pid} (pending): {shown.summary} [{', '.join(shown.tags)}]"
    if r.replaced_edit is not None:
        text += f"; replaced your edit: {r.replaced_edit}"
    return f"{text}. {step}"


def review_table(
    day: dt.date, rows: Sequence[ReviewRow], blockers: Sequence[Blocker], review_file: Path, g: Given
) -> str:
    """The review table: rank (in the post), id, status, summary and tags; new keywords."""
    from collections import Counter

    from agent.state import OPEN_STATUSES, STATUSES

    counts: Counter[str] = Counter(row.status for row in rows)
    lines = [
        f"{day}: {sum(1 for r in rows if r.rank is not None)} of {len(rows)} papers in the post — "
        + ", ".join(f"{counts[s]} {s}" for s in STATUSES if counts[s]),
        "",
        f"{'#':>3}  {'id':<12}  {'status':<12}  tags",
    ]
    for row in rows:
        rank = str(row.rank) if row.rank is not None else "-"
        lines.append(f"{rank:>3}  {row.id:<12}  {row.status:<12}  {', '.join(row.tags) or '-'}")
        lines.append(f"{'':>5}{row.title}")
        lines.append(f"{'':>5}요약: {row.summary or '(없음)'}")
        if row.model_differs:
            lines.append(f"{'':>5}새 모델 요약: {row.new_model_summary or '(없음)'}")
        if row.flag_reason:
            lines.append(f"{'':>5}사유: {row.flag_reason}")
        if row.problems:
            lines.append(f"{'':>5}⚠ 게시 불가 (--edit {row.id}): {'; '.join(row.problems)}")
        if row.note:
            lines.append(f"{'':>5}메모: {row.note}")
        if row.new_keywords:
            lines.append(f"{'':>5}new keywords: {', '.join(row.new_keywords)}")
        if row.hf_keywords:
            lines.append(f"{'':>5}HF keywords: {', '.join(row.hf_keywords)}")
    left = {s: counts[s] for s in OPEN_STATUSES if counts[s]}
    lines += ["", f"review file: {review_file}", next_step(day, left, blockers, g)]
    return "\n".join(lines)


def publish_message(r: PublishResult) -> str:
    """One line per file publish wrote or left alone: created, replaced or unchanged."""
    if r.post_change == "unchanged":
        post = f"{r.post} (unchanged: already published from this review)"
    elif r.post_change == "replaced":
        post = f"{r.post} (replaced: the file there differed from this review, a hand edit of it is overwritten)"
    else:
        post = f"{r.post} (created)"
    data = {
        "created": f"{r.data_file} (created)",
        "unchanged": f"{r.data_file} (unchanged)",
        "replaced": f"{r.data_file} (replaced: the file there differed from this review)",
    }[r.data_change]
    return f"{post}\n{data}"


def _fail(exc: DigestError, given: Given | None = None) -> NoReturn:
    message = " ".join(describe(exc, given).split())  # always one line
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(exc.exit_code)


def _setup_logging(verbose: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    log.handlers[:] = [handler]
    log.setLevel(logging.DEBUG if verbose else logging.WARNING)
    log.propagate = False


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _parse_date(value: str | None, tz: str, name: str = "--date") -> dt.date:
    from agent.pipeline import today_in

    if value is None:
        return today_in(tz)
    try:
        if not _ISO_DATE.fullmatch(value):
            raise ValueError
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"{name} {value!r} is not a date; use YYYY-MM-DD.") from None


def _load(
    config: Path | None, out: Path | None, cache_dir: Path | None, blog: Path | None = None, *, days: bool = True
) -> Config:
    """The config with the flags on top. ``days``: the command works on days' files, so a blog folder (from
    --blog, the environment or the config file) must be a Jekyll site."""
    from dataclasses import replace

    from agent.layout import check_blog

    if out is not None and blog is not None:
        raise ConfigError("give --out or --blog, not both.")
    cfg = load_config(config)
    if out is not None:  # a flag beats a blog dir from the environment or the config file
        cfg = replace(cfg, out_dir=out, blog_dir=None)
    if blog is not None:
        cfg = replace(cfg, blog_dir=blog)
    if cache_dir is not None:
        cfg = replace(cfg, cache_dir=cache_dir)
    if days and cfg.blog_dir is not None:
        check_blog(cfg.blog_dir)
    return cfg


def _one_of(*names: str) -> Callable[[typer.Context, typer.CallbackParam, Any], Any]:
    """A parameter callback making ``names`` mutually exclusive: click reports a second one as a usage
    error (exit 2), whichever order they come in."""

    def check(ctx: typer.Context, param: typer.CallbackParam, value: Any) -> Any:
        if value is not None:
            given = [n for n in names if n != param.name and ctx.params.get(n) is not None]
            if given:
                flags = ", ".join(f"--{n}" for n in names)
                raise typer.BadParameter(f"give one of {flags} at a time.")
        return value

    return check


_REVIEW_ACTION = _one_of("approve", "reject", "edit", "regenerate")


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
    verify: Annotated[
        bool,
        typer.Option("--verify", help="Ask the LLM whether each validated line is faithful to its abstract."),
    ] = False,
    cache_dir: CacheDirOpt = None,
    config: ConfigOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Fetch the day's papers, enrich them, and write the draft post."""
    from agent.pipeline import RunOptions, run_digest, with_overrides

    _setup_logging(verbose)
    given = Given(out, blog, config, blog is not None, "run again", report is not None, no_llm=True)
    try:
        cfg = _load(config, out, cache_dir, blog)
        given = Given(out, blog, config, cfg.blog_dir is not None, "run again", report is not None, no_llm=True)
        cfg = with_overrides(cfg, model=model, concurrency=concurrency, budget_usd=budget_usd, verify=verify or None)
        day = None if date is None and source is not None else _parse_date(date, cfg.post.timezone)
        opts = RunOptions(
            date=day, source=source, force_date=force_date, no_llm=no_llm, report=report,
            progress=sys.stderr.isatty(),
        )  # fmt: skip
        result = run_digest(opts, cfg)
    except KeyboardInterrupt as exc:
        _interrupted(exc)
    except DigestError as exc:
        _fail(exc, given)
    u = result.usage
    cost = "cost unknown" if u.cost_usd is None else f"${u.cost_usd:.4f}"
    where = result.draft or f"{result.published} (already published; this run leaves it as it is, no draft written)"
    typer.echo(
        f"{where}: {result.papers} papers, {result.summarized} summarized, {result.flagged} flagged, "
        f"{u.llm_requests} LLM requests, {u.cache_hits} cache hits, {cost}"
    )
    if result.draft and result.published:
        typer.echo(
            f"note: {result.date} is already published ({result.published}) and this run changes it: "
            f"review the draft, then {given.command('publish', result.date)} to update it.",
            err=True,
        )
    if result.unpriced_budget:
        typer.echo(
            f"warning: --budget-usd cannot be enforced: no price for model {cfg.llm.model!r}; add it to [llm.prices].",
            err=True,
        )
    if result.left_by_budget:
        from agent.tokens import format_usd

        n = result.left_by_budget
        typer.echo(
            f"warning: the LLM budget of {format_usd(result.budget_usd)} (--budget-usd) stopped requests: {n} "
            f"paper{'s' if n != 1 else ''} left unasked and flagged; raise it and run again to ask for them.",
            err=True,
        )
    if result.llm_endpoint_error:  # takes precedence over --strict's 3
        typer.echo(f"error: {result.llm_endpoint_error}", err=True)
        raise typer.Exit(4)
    if strict and result.flagged:
        flagged = result.flagged - result.needs_review
        if result.needs_review:
            parts = [f"{flagged} flagged"] if flagged else []
            parts.append(f"{result.needs_review} needs-review (approved or edited, but the abstract changed)")
            what = f"{result.flagged} paper(s) need the editor ({', '.join(parts)})"
        else:
            what = f"{result.flagged} paper(s) flagged"
        typer.echo(f"error: {what}; review them with {given.command('review', result.date)}.", err=True)
        raise typer.Exit(3)


def _relative(path: Path) -> str:
    """``path`` relative to the working directory when it is below it (GitHub annotations want that)."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _review_format(fmt: str, day: dt.date, rows: Sequence[Any], blockers: Sequence[Any], review_file: Path) -> str:
    from agent.reviewtable import markdown_table, rows_json

    if fmt == "json":
        return rows_json(day, rows).rstrip("\n")
    if blockers:
        state = "Not publishable yet: " + "; ".join(b.describe() for b in blockers) + "."
    else:
        state = "Every paper is reviewed: merging this pull request publishes the day."
    return (
        f"### Hugging Face Daily Papers {day}\n\n{state}\n\n{markdown_table(rows)}\n"
        f"Review by editing `{_relative(review_file)}` in this pull request (`status = \"approved\"`, or your own "
        f"`summary` / `tags`; `status = \"rejected\"` leaves a paper out), or locally with "
        f"`paper-digest review {day} --approve ID` / `--edit ID --summary TEXT` / `--reject ID` and push. "
        "The check on this pull request says what still blocks publishing."
    )


def _annotation(value: str, *, prop: bool = False) -> str:
    value = value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return value.replace(":", "%3A").replace(",", "%2C") if prop else value


def _report_findings(day: dt.date, findings: Sequence[Any]) -> None:
    """``review --check``: one line per problem (a GitHub annotation under Actions); exit 1 on any."""
    import os

    actions = os.environ.get("GITHUB_ACTIONS") == "true"
    for f in findings:
        path = _relative(f.path)
        if actions:
            where = f"file={_annotation(path, prop=True)}" + (f",line={f.line}" if f.line else "")
            typer.echo(f"::error {where}::{_annotation(f.message)}")
        else:
            typer.echo(f"{path}:{f.line}: {f.message}" if f.line else f"{path}: {f.message}")
    if findings:
        typer.echo(f"error: {len(findings)} problem(s) would stop `paper-digest publish {day}`.", err=True)
        raise typer.Exit(1)
    typer.echo(f"{day}: the review file is fine and the day would publish.")


@app.command()
def review(
    date: Annotated[str, typer.Argument(help="The post's date, YYYY-MM-DD.", show_default=False)],
    approve: Annotated[
        str | None, typer.Option("--approve", help="Approve a paper id, or 'all'.", callback=_REVIEW_ACTION)
    ] = None,
    reject: Annotated[
        str | None, typer.Option("--reject", help="Leave a paper out of the post.", callback=_REVIEW_ACTION)
    ] = None,
    edit: Annotated[
        str | None,
        typer.Option("--edit", help="Replace a paper's summary and/or tags.", callback=_REVIEW_ACTION),
    ] = None,
    summary: Annotated[str | None, typer.Option("--summary", help="With --edit: the one-liner.")] = None,
    tags: Annotated[str | None, typer.Option("--tags", help="With --edit: vocabulary tags, a,b.")] = None,
    regenerate: Annotated[
        str | None, typer.Option("--regenerate", help="Ask the LLM again.", callback=_REVIEW_ACTION)
    ] = None,
    note: Annotated[str | None, typer.Option("--note", help="With --regenerate: a note for the LLM.")] = None,
    fmt: Annotated[
        str | None, typer.Option("--format", help="Print the table as markdown (a pull request body) or json.")
    ] = None,
    check: Annotated[
        bool, typer.Option("--check", help="Check the review file; exit 1 on any problem (annotations under Actions).")
    ] = False,
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
    given = Given(out=out, blog=blog, config=config, blog_layout=blog is not None)
    try:
        if (summary is not None or tags is not None) and edit is None:
            raise ConfigError("--summary and --tags go with --edit ID.")
        if edit is not None and summary is None and tags is None:
            raise ConfigError("--edit needs --summary TEXT and/or --tags a,b.")
        if note is not None and regenerate is None:
            raise ConfigError("--note goes with --regenerate ID.")
        if approve is not None and not approve.replace(",", "").strip():
            raise ConfigError("--approve needs a paper id or 'all'.")
        if (fmt is not None or check) and any(a is not None for a in (approve, reject, edit, regenerate)):
            raise ConfigError("--format and --check only read: give them without an --approve/--reject/--edit.")
        if fmt is not None and fmt not in ("markdown", "json"):
            raise ConfigError(f"--format {fmt!r}: use markdown or json.")
        if fmt is not None and check:
            raise ConfigError("give --format or --check, not both.")
        cfg = _load(config, out, cache_dir, blog)
        given = Given(out, blog, config, cfg.blog_dir is not None)
        layout = layout_for(cfg)
        day = _parse_date(date, cfg.post.timezone, name="DATE")
        result: ReviewResult | None = None
        if approve is not None:
            result = rv.approve(layout, day, cfg, approve)
        elif reject is not None:
            result = rv.reject(layout, day, cfg, reject)
        elif edit is not None:
            result = rv.edit(layout, day, cfg, edit, summary=summary, tags=tags)
        elif regenerate is not None:
            result = rv.regenerate(layout, day, cfg, regenerate, note=note)
        elif check:
            from agent.reviewtable import check_day

            findings = check_day(layout, day, cfg)
        elif fmt is not None:
            from agent.publish import day_blockers

            opened = rv.open_day(layout, day)
            rows = rv.rows_of(opened, cfg)
            table = _review_format(fmt, day, rows, day_blockers(opened, cfg), layout.review(day))
        else:
            from agent.publish import day_blockers

            try:  # a hand edit of the review file shows in the draft too; never wait long to show a table
                rv.refresh_draft(layout, day, cfg, lock_timeout=1.0)
            except LockedError as exc:
                if not exc.held:
                    raise
            opened = rv.open_day(layout, day)
            table = review_table(day, rv.rows_of(opened, cfg), day_blockers(opened, cfg), layout.review(day), given)
    except KeyboardInterrupt as exc:  # Ctrl-C or SIGTERM (a regenerate waits on the LLM): writes rolled back
        _interrupted(exc)
    except DigestError as exc:
        _fail(exc, given)
    if check:
        _report_findings(day, findings)
    elif result is None:
        typer.echo(table)
    else:
        typer.echo(review_message(result, given, approved_all=approve is not None and approve.strip() == "all"))


@app.command()
def publish(
    date: Annotated[str, typer.Argument(help="The post's date, YYYY-MM-DD.", show_default=False)],
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

    given = Given(out=out, blog=blog, config=config, blog_layout=blog is not None, again="publish again")
    try:
        cfg = _load(config, out, None, blog)
        given = Given(out, blog, config, cfg.blog_dir is not None, "publish again")
        result = publish_day(layout_for(cfg), _parse_date(date, cfg.post.timezone, name="DATE"), cfg, force=force)
    except DigestError as exc:
        _fail(exc, given)
    if result.forced:  # --force published past these: say so where a log keeps it
        typer.echo("warning: published with --force: " + "; ".join(b.describe() for b in result.forced) + ".", err=True)
    typer.echo(publish_message(result))


@app.command("eval")
def eval_(
    dates: Annotated[
        list[str], typer.Argument(metavar="DATE", help="Drafted or published days, YYYY-MM-DD.", show_default=False)
    ],
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON for scripts instead of a table.")] = False,
    compare: Annotated[
        tuple[str, str] | None,
        typer.Option(
            "--compare",
            help="Two prompt versions (prefixes as the table prints them) side by side over the same papers, "
            "from the LLM cache.",
            show_default=False,
        ),
    ] = None,
    out: OutOpt = None,
    blog: BlogOpt = None,
    cache_dir: CacheDirOpt = None,
    config: ConfigOpt = None,
) -> None:
    """How the model's answers fared per prompt version: checks passed, problems, and editors' changes."""
    from agent.eval import evaluate
    from agent.layout import layout_for

    given = Given(out=out, blog=blog, config=config, blog_layout=blog is not None)
    try:
        cfg = _load(config, out, cache_dir, blog)
        given = Given(out, blog, config, cfg.blog_dir is not None)
        days = [_parse_date(d, cfg.post.timezone, name="DATE") for d in dates]
        report = evaluate(layout_for(cfg), days, compare=compare, cfg=cfg)
    except DigestError as exc:
        _fail(exc, given)
    typer.echo(json.dumps(report.to_json(), ensure_ascii=False, indent=1) if json_out else eval_table(report))


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def eval_table(report: EvalReport) -> str:
    """The eval report for a terminal: one column per prompt version."""
    from agent.eval import short

    def pct(n: int, of: int) -> str:
        return f"{n} ({n / of:.0%})" if of else str(n)

    def table(stats: Sequence[VersionStats]) -> list[str]:
        rows: list[tuple[str, list[str]]] = [
            ("papers asked", [str(v.papers) for v in stats]),
            ("passed first time", [pct(v.first_pass, v.papers) for v in stats]),
            ("passed after repair", [pct(v.after_repair, v.papers) for v in stats]),
            ("flagged", [pct(v.flagged, v.papers) for v in stats]),
            ("not answered", [str(v.not_answered) for v in stats]),
        ]
        found = {c for v in stats for c in v.first_problems}
        classes = sorted(found, key=lambda c: -sum(v.first_problems[c] for v in stats))
        rows += [(f"  problem: {c}", [str(v.first_problems[c]) for v in stats]) for c in classes]
        if any(v.reviewed or v.rejected for v in stats):
            rows += [
                ("reviewed by an editor", [str(v.reviewed) for v in stats]),
                ("lines edited", [pct(v.edited, v.reviewed) for v in stats]),
                ("mean chars changed", [_fmt(v.mean_distance, ".1f") for v in stats]),
                ("  per char of the line", [_fmt(v.relative_distance, ".0%") for v in stats]),
                ("tags changed", [pct(v.tags_changed, v.reviewed) for v in stats]),
                ("rejected", [str(v.rejected) for v in stats]),
            ]
        head = ["prompt version", *(short(v.version) for v in stats)]
        width = max(len(head[0]), *(len(name) for name, _ in rows))
        cols = [max(len(head[i + 1]), *(len(vals[i]) for _, vals in rows)) for i in range(len(stats))]
        lines = ["  ".join([head[0].ljust(width), *(h.rjust(w) for h, w in zip(head[1:], cols, strict=True))])]
        for name, vals in rows:
            lines.append("  ".join([name.ljust(width), *(x.rjust(w) for x, w in zip(vals, cols, strict=True))]))
        return lines

    lines = [f"eval of {', '.join(d.isoformat() for d in report.dates)}", ""]
    lines += table(report.versions) if report.versions else ["no LLM answers on these days"]
    if report.compared is not None:
        lines += [
            "",
            f"compared over the same {report.compared_papers} papers (LLM cache); "
            f"{report.differing_lines} got a different line",
        ]
        if report.compared_papers:
            lines += table(report.compared)
    return "\n".join(lines)


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
    from agent.web.server import check_bind, listen
    from agent.web.server import run as run_desk

    try:
        cfg = _load(config, out, cache_dir, blog)
        check_bind(host, allow_remote)
        sock = listen(host, port)  # before the address is announced: a busy port is one error line
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

    run_desk(cfg, host, port, sock=sock, on_ready=opened)


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
    except NotABlogError as exc:
        typer.echo(f"error: {exc}: run init in the Jekyll blog's folder.", err=True)
        raise typer.Exit(exc.exit_code) from None
    except DigestError as exc:
        _fail(exc, Given(again="run init again", where="the blog folder"))
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
        f"{_exclude_step(result.exclude)}"
        "\n"
        f"Then: git add paper-digest.toml{' _config.yml' if result.exclude != 'listed' else ''} .github/workflows"
        " && git commit -m 'paper-digest workflows' && git push"
    )


def _exclude_step(advice: str) -> str:
    """Step 4 of init's list: keep paper-digest.toml out of _site (init leaves _config.yml to its owner)."""
    from agent.init import CONFIG_NAME, EXCLUDE_LINE

    if advice == "add-line":
        return (
            f"  4. _config.yml: Jekyll would copy {CONFIG_NAME} into _site; add this top-level line (it keeps\n"
            "     Jekyll 3.9's default excludes, which an exclude: list replaces there):\n"
            f"       {EXCLUDE_LINE}\n"
        )
    if advice == "add-to-list":
        return (
            f"  4. _config.yml: Jekyll would copy {CONFIG_NAME} into _site; add {CONFIG_NAME} to its exclude: list.\n"
        )
    return ""


def _cache_command(
    config: Path | None, cache_dir: Path | None, action: Callable[[Any], str], absent: Callable[[Path], str]
) -> None:
    from agent.cache import AnswerCache, default_cache_dir

    try:
        cfg = _load(config, None, cache_dir, days=False)
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
