"""Every path of a date, in one place: the outputs layout (``--out``) or the blog layout (``--blog``).

outputs layout (``<out>`` = ``--out``, default ./outputs)::

    <out>/drafts/<date>-hf-daily-papers.md      the draft
    <out>/drafts/<date>-snapshot.json           the run's papers and model answers
    <out>/drafts/<date>-review.toml             the review state (hand-editable)
    <out>/drafts/.<date>.lock                   the date's lock
    <out>/_posts/<date>-hf-daily-papers.md      the published post
    <out>/_data/papers/daily-<date>.json        the published day as data

blog layout (``B`` = ``--blog``, a Jekyll site)::

    B/_drafts/<date>-hf-daily-papers.md         Jekyll's own drafts folder: never built without --drafts
    B/.paper-digest/<date>-snapshot.json        Jekyll skips dot-folders; committable
    B/.paper-digest/<date>-review.toml          committable, plain TOML
    B/.paper-digest/.<date>.lock                git-ignored by B/.paper-digest/.gitignore
    B/_posts/<date>-hf-daily-papers.md
    B/_data/papers/daily-<date>.json

A new per-date file gets its path here and nowhere else.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from agent.errors import NotABlogError

if TYPE_CHECKING:
    from agent.config import Config

POST_SUFFIX = "-hf-daily-papers.md"
STATE_DIR = ".paper-digest"  # the blog layout's state folder
# What the blog layout's state folder keeps out of git: the lock files and interrupted writes' temp files.
STATE_GITIGNORE = "# paper-digest: lock files and temporary files of interrupted writes\n.*.lock\n.*.tmp\n"

_SNAPSHOT = re.compile(r"^(\d{4}-\d{2}-\d{2})-snapshot\.json$")


@dataclass(frozen=True, slots=True)
class Layout:
    """Where a date's files live: under ``root`` as the outputs layout, or as the blog layout (``blog``)."""

    root: Path
    blog: bool = False

    def state_dir(self) -> Path:
        """The folder of the snapshots, review files and locks."""
        return self.root / (STATE_DIR if self.blog else "drafts")

    def drafts_dir(self) -> Path:
        return self.root / ("_drafts" if self.blog else "drafts")

    def draft(self, day: dt.date) -> Path:
        return self.drafts_dir() / f"{day.isoformat()}{POST_SUFFIX}"

    def snapshot(self, day: dt.date) -> Path:
        return self.state_dir() / f"{day.isoformat()}-snapshot.json"

    def review(self, day: dt.date) -> Path:
        return self.state_dir() / f"{day.isoformat()}-review.toml"

    def lock(self, day: dt.date) -> Path:
        return self.state_dir() / f".{day.isoformat()}.lock"

    def post(self, day: dt.date) -> Path:
        return self.root / "_posts" / f"{day.isoformat()}{POST_SUFFIX}"

    def data_file(self, day: dt.date) -> Path:
        return self.root / "_data" / "papers" / f"daily-{day.isoformat()}.json"

    def gitignore(self) -> Path | None:
        """The state folder's .gitignore (blog layout only: the outputs layout is not a repository's)."""
        return self.state_dir() / ".gitignore" if self.blog else None

    def files(self, day: dt.date) -> dict[str, Path]:
        """Every file of ``day`` by what it is (for refusing to overwrite one with something else)."""
        return {
            "draft": self.draft(day),
            "snapshot": self.snapshot(day),
            "review file": self.review(day),
            "lock file": self.lock(day),
            "post": self.post(day),
            "data file": self.data_file(day),
        }

    def days(self) -> list[dt.date]:
        """The dates that have a snapshot (a recorded run), oldest first."""
        found: list[dt.date] = []
        try:
            names = [p.name for p in self.state_dir().iterdir()]
        except OSError:
            return []
        for name in names:
            m = _SNAPSHOT.match(name)
            if m:
                try:
                    found.append(dt.date.fromisoformat(m.group(1)))
                except ValueError:
                    continue
        return sorted(found)


def check_blog(root: Path) -> None:
    """NotABlogError unless ``root`` is a Jekyll site (has ``_config.yml``): every command given a blog folder,
    and init, refuse one that is not, rather than start a new tree in a mistyped folder."""
    if not (root / "_config.yml").is_file():
        raise NotABlogError(root)


def layout_for(cfg: Config) -> Layout:
    """The blog layout at ``cfg.blog_dir`` when set, else the outputs layout at ``cfg.out_dir``."""
    if cfg.blog_dir is not None:
        return Layout(cfg.blog_dir, blog=True)
    return Layout(cfg.out_dir)
