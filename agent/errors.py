"""The exceptions users can see. Every message is one sentence that says what to do.

DigestError                 base; the CLI prints its message on one line and exits with ``exit_code``
├── ConfigError (2)         bad flags, config file, missing credentials
├── SourceError (1)         the HF API or a source file could not give a valid day
│   └── NoPapersError (1)   the day has no papers (nothing written)
├── LLMError (1)            the LLM endpoint failed in a way retries cannot fix (wrong key, no model)
├── CacheError (1)          the cache directory is unusable
├── ReviewError (1)         a review file is broken or a paper id is unknown
├── LockedError (1)         another paper-digest process holds the date's lock
└── PublishRefused (1)      papers are still pending or flagged (use --force)
"""

from __future__ import annotations

import datetime as dt


class DigestError(Exception):
    exit_code = 1


class ConfigError(DigestError):
    exit_code = 2


class SourceError(DigestError):
    pass


class NoPapersError(SourceError):
    pass


class LLMError(DigestError):
    pass


class CacheError(DigestError):
    pass


class ReviewError(DigestError):
    pass


class LockedError(DigestError):
    pass


class PublishRefused(DigestError):
    pass


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
