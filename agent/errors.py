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
