"""The exceptions users can see. Each carries fields (date, ids, path, reasons); ``str()`` states what went
wrong in one line without naming a CLI flag. agent/cli.py turns them into the sentence a user reads (what
to do, with the options they gave) and the exit code (``exit_code``).

DigestError                   base
├── ConfigError (2)           bad flags, config file, missing credentials
│   ├── MissingCredentials (2) no LLM key or base URL in the environment
│   ├── ReportClashError (2)  the report path is one of the day's own files
│   ├── NotABlogError (2)     the blog folder has no _config.yml (path)
│   └── SourceDateError (2)   a source file lists another day than the one asked
├── SourceError (1)           the HF API or a source file could not give a valid day
│   ├── SourceFileError (1)   the source file is missing or unreadable (path)
│   └── NoPapersError (1)     the day has no papers (nothing written)
├── LLMError (1)              the LLM endpoint failed in a way retries cannot fix (wrong key, no model)
├── CacheError (1)            the cache directory is unusable
├── UnwritableError (1)       an output cannot be written; found before anything was fetched (path, role)
├── WriteError (1)            writing a file failed; nothing was changed (path, reason)
├── FileChangedError (1)      a file (the review file) was saved by someone else meanwhile; nothing written
├── ReviewError (1)           the day's review cannot go on (date)
│   ├── NoRunError            no snapshot for the date (path)
│   ├── BrokenFileError       a snapshot or review file is damaged (path, line, paper, problem)
│   ├── UnknownPaperError     no such paper id that day, or it vanished (paper_id, ids, vanished)
│   ├── EditRejected          an editor's summary and/or tags fail the checks (paper_id, summary_problems, tag_problems)
│   ├── PaperChangedError     a run changed the paper during a regenerate (paper_id)
│   └── StaleError            the day changed since the caller read it (expected, actual version)
├── LockedError (1)           another process holds the date's lock, or the lock cannot be taken (path)
├── PublishRefused (1)        the publish gate said no (date, blockers)
└── ListenError (1)           the desk cannot listen on host:port, e.g. the port is taken (host, port, reason)

Interrupted (a KeyboardInterrupt, not a DigestError): Ctrl-C or SIGTERM stopped a command; writes rolled back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from agent.models import Blocker


class DigestError(Exception):
    """``setting``: the option that fixes it, by its config name ("model", "concurrency", "cache_dir", "source",
    "allow_remote"), when one does; agent/cli.py names the flag."""

    exit_code = 1

    def __init__(self, *args: object, setting: str | None = None) -> None:
        super().__init__(*args)
        self.setting = setting


class ConfigError(DigestError):
    exit_code = 2


class MissingCredentials(ConfigError):
    """No LLM endpoint configured (neither OPENAI_API_KEY nor OPENAI_BASE_URL)."""


class ReportClashError(ConfigError):
    def __init__(self, report: Path, name: str, date: dt.date, path: Path) -> None:
        self.report, self.name, self.date, self.path = report, name, date, path
        super().__init__(
            f"the report {report} would overwrite the {name} of {date} ({path}); nothing was fetched or written"
        )


class SourceError(DigestError):
    pass


class SourceFileError(SourceError):
    def __init__(self, message: str, path: Path) -> None:
        self.path = path
        super().__init__(message)


class NoPapersError(SourceError):
    pass


class LLMError(DigestError):
    pass


class CacheError(DigestError):
    """The LLM cache cannot be used. ``remedy``: what fixes it besides another cache directory (``setting``
    "cache_dir"): "retry" (it stayed locked), "delete" (its database is damaged), or None."""

    def __init__(self, message: str, *, remedy: Literal["retry", "delete"] | None = None, elsewhere: bool = True):
        super().__init__(message, setting="cache_dir" if elsewhere else None)
        self.remedy = remedy


class UnwritableError(DigestError):
    """An output found unwritable before the run fetched anything. ``role``: "output" (a file of the day's
    layout) or "report"."""

    def __init__(self, path: Path, problem: str, role: Literal["output", "report"]) -> None:
        self.path, self.problem, self.role = path, problem, role
        super().__init__(f"cannot write {path}: {problem} (nothing was fetched or written)")


class WriteError(DigestError):
    def __init__(self, path: Path, reason: str) -> None:
        self.path, self.reason = path, reason
        super().__init__(f"cannot write {path}: {reason}; nothing was changed")


class FileChangedError(DigestError):
    def __init__(self, path: Path) -> None:
        self.path = path
        super().__init__(f"{path} changed while paper-digest was writing it; nothing was written")


class ReviewError(DigestError):
    def __init__(self, message: str, date: dt.date | None = None) -> None:
        self.date = date
        super().__init__(message)


class NoRunError(ReviewError):
    def __init__(self, date: dt.date, path: Path) -> None:
        self.path = path
        super().__init__(f"no run recorded for {date}: {path} is missing", date)


class BrokenFileError(ReviewError):
    """``kind``: "snapshot" (machine-written: a run rebuilds it) or "review file" (fixed by hand)."""

    def __init__(
        self,
        date: dt.date,
        path: Path,
        problem: str,
        *,
        kind: Literal["snapshot", "review file"],
        line: int | None = None,
        paper: str | None = None,
    ) -> None:
        self.path, self.problem, self.kind, self.line, self.paper = path, problem, kind, line, paper
        where = f"{path} line {line}" if line is not None else str(path)
        super().__init__(f"{where}: {f'paper {paper}: ' if paper else ''}{problem}", date)


class UnknownPaperError(ReviewError):
    def __init__(self, date: dt.date, paper_id: str, ids: Sequence[str], *, vanished: bool, action: str) -> None:
        self.paper_id, self.ids, self.vanished, self.action = paper_id, tuple(ids), vanished, action
        if vanished:
            message = f"paper {paper_id} is no longer among the papers of {date} (vanished); nothing to {action}"
        else:
            message = f"no paper {paper_id!r} on {date}; ids: {', '.join(ids) or '(none)'}"
        super().__init__(message, date)


class EditRejected(ReviewError):
    """Every problem of an edit at once: ``summary_problems`` and ``tag_problems`` (either may be empty)."""

    def __init__(
        self, date: dt.date, paper_id: str, *, summary_problems: Sequence[str] = (), tag_problems: Sequence[str] = ()
    ) -> None:
        self.paper_id = paper_id
        self.summary_problems, self.tag_problems = tuple(summary_problems), tuple(tag_problems)
        parts = [
            f"{field} for {paper_id} not accepted: {'; '.join(problems)}"
            for field, problems in (("summary", self.summary_problems), ("tags", self.tag_problems))
            if problems
        ]
        super().__init__("; ".join(parts), date)

    @property
    def problems(self) -> tuple[str, ...]:
        return self.summary_problems + self.tag_problems


class PaperChangedError(ReviewError):
    def __init__(self, date: dt.date, paper_id: str) -> None:
        self.paper_id = paper_id
        super().__init__(f"paper {paper_id} changed while regenerating (a run updated it)", date)


class StaleError(ReviewError):
    """The day's files are not the version the caller read (``expect_version``): someone changed them."""

    def __init__(self, date: dt.date, expected: str, actual: str) -> None:
        self.expected, self.actual = expected, actual
        super().__init__(
            f"{date}: the review changed since it was read (version {expected}, now {actual}); nothing was written",
            date,
        )


class LockedError(DigestError):
    """Another process holds the date's lock (``held``), or the lock file cannot be used: ``reason`` says why
    (``folder``: its folder cannot be created)."""

    def __init__(self, date: dt.date, path: Path, *, reason: str | None = None, folder: bool = False) -> None:
        self.date, self.path, self.reason, self.folder = date, path, reason, folder
        if reason is None:
            message = f"another paper-digest process is working on {date} (lock {path}); try again when it finishes"
        else:
            message = f"cannot use the lock file {path} of {date}: {reason}"
        super().__init__(message)

    @property
    def held(self) -> bool:
        return self.reason is None


class PublishRefused(DigestError):
    def __init__(self, date: dt.date, blockers: Sequence[Blocker]) -> None:
        self.date, self.blockers = date, tuple(blockers)
        super().__init__(f"{date}: " + "; ".join(b.describe() for b in self.blockers))


class NotABlogError(ConfigError):
    """The blog folder (``path``) has no ``_config.yml``: not a Jekyll site (a typo would otherwise start a new
    tree)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        super().__init__(f"{path} is not a Jekyll site (no _config.yml)")


class ListenError(DigestError):
    """The desk's socket could not be bound (found before anything is announced or served)."""

    def __init__(self, host: str, port: int, reason: str, in_use: bool) -> None:
        self.host, self.port, self.reason, self.in_use = host, port, reason, in_use
        super().__init__(f"cannot listen on {self.address}: {reason}")

    @property
    def address(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


class SourceDateError(ConfigError):
    """A source file lists its papers for another day than the one asked (``asked`` and ``listed`` set), or
    names no day at all when none was asked (both None). ``where``: the source file."""

    def __init__(self, where: str, asked: dt.date | None = None, listed: dt.date | None = None) -> None:
        self.where, self.asked, self.listed = where, asked, listed
        if asked is not None and listed is not None:
            message = f"{where} lists the papers of {listed}, not {asked}"
        else:
            message = f"cannot tell which day {where} lists (no item has submittedOnDailyAt or publishedAt)"
        super().__init__(message)


class Interrupted(KeyboardInterrupt):
    """Ctrl-C (SIGINT) or SIGTERM (``signum``) stopped a command; whatever it was writing was rolled back.
    ``answers_cached``: LLM answers the run had cached by then (the next run does not ask for them again),
    when known. A KeyboardInterrupt, so every ``except BaseException`` cleanup runs on the way out."""

    def __init__(self, signum: int = 2, answers_cached: int | None = None) -> None:
        super().__init__()
        self.signum, self.answers_cached = signum, answers_cached
