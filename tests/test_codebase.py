"""Checks on the code itself: no public helper only tests use, no import circle between the error tree and
the modules that raise it."""

from __future__ import annotations

import ast
import re
import typing
from pathlib import Path

import pytest

import agent

AGENT = Path(agent.__file__).parent


def _sources() -> dict[Path, str]:
    return {p: p.read_text(encoding="utf-8") for p in sorted(AGENT.rglob("*.py"))}


def test_every_public_function_and_class_is_used_by_the_product() -> None:
    """A public top-level name of agent/ that nothing in agent/ (code or templates) refers to is dead code kept
    alive by its tests. Decorated functions (CLI commands, routes) are reached through their decorator."""
    sources = _sources()
    text = "\n".join(sources.values()) + "\n".join(
        p.read_text(encoding="utf-8") for p in AGENT.rglob("*") if p.suffix in (".html", ".j2", ".md", ".txt")
    )
    unused = []
    for path, source in sources.items():
        for node in ast.parse(source).body:
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                continue
            if node.name.startswith("_") or (not isinstance(node, ast.ClassDef) and node.decorator_list):
                continue
            if len(re.findall(rf"\b{node.name}\b", text)) <= 1:
                unused.append(f"{path.relative_to(AGENT.parent)}: {node.name}")
    assert unused == []


def test_the_error_tree_imports_no_stage_module() -> None:
    """agent.errors sits below every stage: PublishRefused's Blocker comes from agent.models, so its annotations
    resolve at run time (a TYPE_CHECKING import of agent.publish was a circle)."""
    import agent.errors as errors
    import agent.models as models

    imported = {
        alias.name if isinstance(node, ast.Import) else node.module
        for node in ast.walk(ast.parse(Path(errors.__file__).read_text(encoding="utf-8")))
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert {m for m in imported if m and m.startswith("agent.")} <= {"agent.models"}
    hints = typing.get_type_hints(errors.PublishRefused.__init__)
    assert typing.get_args(hints["blockers"]) == (models.Blocker,)


_FLAG = re.compile(r"(?<![\w-])--[a-z][a-z-]+")
# The interfaces, which own their wording (cli.py in English, the desk's pages in Korean), and text that is itself
# a command line for a person to run, written into a file: the review file's header names the review commands.
_WORDING = {"cli.py", "web/app.py", "store.py"}


def test_library_messages_name_no_cli_flag() -> None:
    """Errors and warnings of agent/ carry fields (DigestError.setting names the option by its config name);
    agent/cli.py words the flag. Docstrings may mention flags; strings the code builds may not."""
    found = []
    for path, source in _sources().items():
        if path.relative_to(AGENT).as_posix() in _WORDING:
            continue
        tree = ast.parse(source)
        docstrings = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
            and node.body
            and isinstance(node.body[0], ast.Expr)
        }
        for node in ast.walk(tree):
            literal = isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
            if literal and _FLAG.search(node.value):
                found.append(f"{path.relative_to(AGENT.parent)}:{node.lineno}: {node.value[:60]!r}")
    assert found == []


def test_the_cli_words_the_flag_a_library_error_leaves_out() -> None:
    from agent.cli import describe
    from agent.errors import CacheError, ConfigError
    from agent.web.server import check_bind

    with pytest.raises(ConfigError) as info:
        check_bind("192.0.2.10", allow_remote=False)
    assert info.value.setting == "allow_remote" and "--" not in str(info.value)
    assert describe(info.value).endswith("could review and publish; pass --allow-remote to bind it anyway.")
    locked = CacheError("cache directory c stayed locked for 30s", remedy="retry")
    assert describe(locked) == (
        "cache directory c stayed locked for 30s; retry, or set PAPER_DIGEST_CACHE_DIR or pass --cache-dir."
    )
    assert describe(ConfigError("no model name", setting="model")) == (
        "no model name; pass --model or set [llm] model in paper-digest.toml."
    )
