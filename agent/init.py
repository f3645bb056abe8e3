"""``paper-digest init [DIR]``: set a Jekyll blog repository up for the nightly review flow.

Writes ``paper-digest.toml`` (the blog layout at ``.``) and two GitHub Actions workflows from the templates
in ``agent/templates/workflows/``:

- ``paper-digest-nightly.yml``: 00:15 UTC (09:15 KST) and on demand, ``run --strict`` → commit ``_drafts/`` +
  ``.paper-digest/`` to branch ``digest/<date>`` → open or update a pull request whose body is
  ``review DATE --format markdown``; exit 3 labels it ``needs-edit`` instead of failing the job.
- ``paper-digest-publish.yml``: ``review DATE --check`` on every push to such a pull request; once merged,
  ``publish DATE`` (no --force) and commit ``_posts/`` + ``_data/`` to the base branch.

Nothing is overwritten unless ``force``. The workflows are plain YAML with three placeholders
(``@INSTALL@``, ``@BUDGET_USD@``, ``@PAGES_WORKFLOW@``), filled with checked values: GitHub's own
``${{ }}`` expressions make a template engine a poor fit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from agent import __version__
from agent.errors import ConfigError, DigestError
from agent.fsutil import write_files
from agent.layout import check_blog

WORKFLOWS = ("paper-digest-nightly.yml", "paper-digest-publish.yml")
TEMPLATES = Path(__file__).resolve().parent / "templates" / "workflows"
CONFIG_NAME = "paper-digest.toml"
# Where the workflows install paper-digest from (`init --install-url`, `--ref`): a tag, not a branch, so a
# push upstream never changes what runs in the blog's Actions.
DEFAULT_INSTALL_URL = "https://github.com/lim4349/paper-digest"
DEFAULT_REF = f"v{__version__}"
DEFAULT_BUDGET_USD = 1.0

_URL = re.compile(r"^(?:https://|ssh://|file://)[A-Za-z0-9._~:/@%+-]+$")
_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,99}$")
_WORKFLOW_NAME = re.compile(r"^[A-Za-z0-9._-]+\.ya?ml$")

CONFIG_TEXT = """\
# paper-digest configuration for this blog (written by `paper-digest init`).
# Flags and environment variables override these values.

[blog]
dir = "."   # drafts in _drafts/, review state in .paper-digest/, posts in _posts/, data in _data/papers/

[post]
# author = "your-name"                # the post's `author:` front matter (default: lim4349)
# chirpy = ["image", "pin", "slug"]   # Chirpy front matter; drop a name to leave its line out

[llm]
# model = "gpt-4.1-mini"              # or the repository variable PAPER_DIGEST_MODEL
"""


class InitRefused(DigestError):
    """Files ``init`` would write exist already (``paths``, relative to ``root``); nothing was written."""

    def __init__(self, root: Path, paths: tuple[Path, ...]) -> None:
        super().__init__(f"{root}: {', '.join(map(str, paths))} exist(s) already; nothing was written.")
        self.root = root
        self.paths = paths


# Jekyll copies every file of the site that does not start with "_" or "." into _site, paper-digest.toml
# included. A top-level `exclude:` in _config.yml stops it, but in Jekyll 3.9 (GitHub Pages) it *replaces*
# the default list (4.x adds the defaults back): the line init suggests repeats 3.9's defaults.
JEKYLL_39_EXCLUDES = ("Gemfile", "Gemfile.lock", "node_modules", "vendor/bundle/", "vendor/cache/", "vendor/gems/",
                      "vendor/ruby/")  # fmt: skip
EXCLUDE_LINE = f"exclude: [{', '.join((*JEKYLL_39_EXCLUDES, CONFIG_NAME))}]"
ExcludeAdvice = Literal["listed", "add-to-list", "add-line"]
_TOP_KEY = re.compile(r"^(?P<key>[A-Za-z0-9_-]+)\s*:")


def exclude_advice(config_yml: str) -> ExcludeAdvice:
    """What _config.yml needs so that Jekyll leaves paper-digest.toml out of _site: nothing ("listed": its
    top-level ``exclude:`` names it), the name added to that list ("add-to-list"), or the line
    :data:`EXCLUDE_LINE` ("add-line": no ``exclude:``). init never edits _config.yml: the user's own
    comments, anchors and formatting are theirs, and a YAML round trip would lose them."""
    block: list[str] | None = None  # the exclude: value's lines; None: no top-level exclude: key
    for line in config_yml.splitlines():
        m = _TOP_KEY.match(line)
        if m and block is not None and m.group("key") != "exclude":
            break  # the next top-level key ends the exclude: value
        if m and m.group("key") == "exclude":
            block = [line[m.end() :]]
        elif block is not None:
            block.append(line)
    if block is None:
        return "add-line"
    return "listed" if re.search(rf"(?<![\w.-]){re.escape(CONFIG_NAME)}(?![\w.-])", "\n".join(block)) else "add-to-list"


@dataclass(frozen=True, slots=True)
class InitResult:
    root: Path
    written: tuple[Path, ...]  # every file written, relative to root
    replaced: tuple[Path, ...]  # those of them that existed before (only with force)
    install: str  # the pip requirement the workflows install
    pages_workflow: str | None  # the Pages workflow the publish workflow starts, if one was found
    exclude: ExcludeAdvice = "listed"  # what _config.yml needs to keep paper-digest.toml out of _site


def install_spec(url: str, ref: str) -> str:
    """``git+URL@REF`` after checking both hold nothing that could end the YAML string or a shell word."""
    if not _URL.match(url):
        raise ConfigError(f"install URL {url!r} must be an https://, ssh:// or file:// URL without spaces or quotes.")
    if not _REF.match(ref) or ".." in ref:
        raise ConfigError(f"ref {ref!r} must be a tag, branch or commit (letters, digits, . _ / -).")
    return f"git+{url}@{ref}"


def find_pages_workflow(root: Path) -> str | None:
    """The blog's own Pages deployment workflow (Chirpy's starter has one), if it can be started on demand:
    a push made with the workflow token starts no other workflow, so publish starts it explicitly."""
    folder = root / ".github" / "workflows"
    try:
        candidates = sorted(p for p in folder.iterdir() if p.is_file() and p.name not in WORKFLOWS)
    except OSError:
        return None
    for path in candidates:
        if not _WORKFLOW_NAME.match(path.name):
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if "actions/deploy-pages" in text and "workflow_dispatch" in text:
            return path.name
    return None


def workflow_text(name: str, *, install: str, budget_usd: float, pages_workflow: str | None) -> str:
    text = (TEMPLATES / name).read_text(encoding="utf-8")
    text = text.replace("@INSTALL@", install).replace("@BUDGET_USD@", f"{budget_usd:g}")
    text = text.replace("@PAGES_WORKFLOW@", pages_workflow or "")
    if re.search(r"@[A-Z_]+@", text):
        raise AssertionError(f"unfilled placeholder in {name}")
    return text


def init_blog(
    root: Path,
    *,
    install_url: str = DEFAULT_INSTALL_URL,
    ref: str = DEFAULT_REF,
    budget_usd: float = DEFAULT_BUDGET_USD,
    force: bool = False,
) -> InitResult:
    """Write the config and the workflows into the blog at ``root``. NotABlogError when ``root`` has no
    ``_config.yml``; InitRefused, without ``force``, when any of the files exists."""
    install = install_spec(install_url, ref)
    if not (budget_usd >= 0 and budget_usd < 1e6):
        raise ConfigError(f"budget {budget_usd!r} must be a number of dollars, 0 or more.")
    check_blog(root)
    pages = find_pages_workflow(root)
    files = [(Path(CONFIG_NAME), CONFIG_TEXT)]
    for name in WORKFLOWS:
        text = workflow_text(name, install=install, budget_usd=budget_usd, pages_workflow=pages)
        files.append((Path(".github/workflows") / name, text))
    existing = tuple(rel for rel, _ in files if (root / rel).exists())
    if existing and not force:
        raise InitRefused(root, existing)
    write_files([(root / rel, text) for rel, text in files])
    return InitResult(
        root=root,
        written=tuple(rel for rel, _ in files),
        replaced=existing,
        install=install,
        pages_workflow=pages,
        exclude=exclude_advice(_read_text(root / "_config.yml")),
    )


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""
