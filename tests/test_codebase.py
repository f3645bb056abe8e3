"""Checks on the code itself: no public helper only tests use, no import circle between the error tree and
the modules that raise it."""

from __future__ import annotations

import ast
import re
import typing
from pathlib import Path

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
