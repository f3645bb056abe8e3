"""Run a GitHub Actions job's ``run:`` steps for real, in order, the way a runner does — for tests.

    runner = JobRunner(workdir, env=..., context=...)
    result = runner.run(workflow, "digest")     # stops at the first failing step, like Actions

What it does like GitHub: ``bash --noprofile --norc -eo pipefail`` per step (``defaults.run.shell: bash``),
workflow + job + step ``env`` with their ``${{ }}`` expressions evaluated, ``$GITHUB_OUTPUT`` read back into
``steps.<id>.outputs``, ``$RUNNER_TEMP``, a job's and a step's ``if:``. ``uses:`` steps are not run:
``actions/checkout`` is done here with git (fetch + switch to the ref it would check out); setup-python and
cache only need the test's own Python on PATH. The expression language is the small part these workflows use:
``a.b.c``, ``'literal'``, ``==``, ``!=``, ``&&``, ``||``, ``!``, ``startsWith(a, b)``.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def _split(expr: str, op: str) -> list[str]:
    """Split on ``op`` outside quotes and parentheses."""
    parts, depth, quote, start, i = [], 0, False, 0, 0
    while i < len(expr):
        ch = expr[i]
        if ch == "'":
            quote = not quote
        elif not quote and ch == "(":
            depth += 1
        elif not quote and ch == ")":
            depth -= 1
        elif not quote and depth == 0 and expr.startswith(op, i):
            parts.append(expr[start:i])
            i += len(op)
            start = i
            continue
        i += 1
    parts.append(expr[start:])
    return [p.strip() for p in parts]


def evaluate(expr: str, ctx: dict[str, Any]) -> Any:
    expr = expr.strip()
    if expr.startswith("${{") and expr.endswith("}}"):
        expr = expr[3:-2].strip()
    ors = _split(expr, "||")
    if len(ors) > 1:
        value: Any = ""
        for part in ors:
            value = evaluate(part, ctx)
            if value:
                return value
        return value
    ands = _split(expr, "&&")
    if len(ands) > 1:
        for part in ands:
            value = evaluate(part, ctx)
            if not value:
                return value
        return value
    for op in ("==", "!="):
        sides = _split(expr, op)
        if len(sides) == 2:
            left, right = (evaluate(s, ctx) for s in sides)
            same = (
                str(left).lower() == str(right).lower()
                if isinstance(left, bool) or isinstance(right, bool)
                else (left == right or str(left) == str(right))
            )
            return same if op == "==" else not same
    if expr.startswith("(") and expr.endswith(")"):
        return evaluate(expr[1:-1], ctx)
    if expr.startswith("!"):
        return not evaluate(expr[1:], ctx)
    if expr.startswith("'") and expr.endswith("'"):
        return expr[1:-1].replace("''", "'")
    if expr in ("true", "false"):
        return expr == "true"
    m = re.fullmatch(r"startsWith\((.*)\)", expr, re.DOTALL)
    if m:
        a, b = (evaluate(s, ctx) for s in _split(m.group(1), ","))
        return str(a).lower().startswith(str(b).lower())
    value = ctx
    for key in expr.split("."):
        value = value.get(key, "") if isinstance(value, dict) else ""
    return value


def substitute(text: Any, ctx: dict[str, Any]) -> str:
    if not isinstance(text, str):
        return str(text).lower() if isinstance(text, bool) else str(text)
    return _EXPR.sub(lambda m: _text(evaluate(m.group(1), ctx)), text)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return "" if value is None else str(value)


@dataclass
class StepResult:
    name: str
    returncode: int
    output: str
    outputs: dict[str, str] = field(default_factory=dict)


@dataclass
class JobResult:
    steps: list[StepResult]
    ok: bool
    skipped: bool = False  # the job's own `if:` was false for this event

    def log(self) -> str:
        return "\n".join(f"--- {s.name} (exit {s.returncode})\n{s.output}" for s in self.steps)


class JobRunner:
    """``workdir``: the job's checkout (a clone of the test's origin); ``env``: the runner's environment
    (PATH, HOME, ...); ``context``: github, inputs, secrets, vars for the expressions."""

    def __init__(self, workdir: Path, temp: Path, env: dict[str, str], context: dict[str, Any]) -> None:
        self.workdir, self.temp, self.env, self.context = workdir, temp, env, context

    def _checkout(self, ref: str) -> None:
        def git(*args: str) -> None:
            subprocess.run(["git", *args], cwd=self.workdir, env=self.env, check=True, capture_output=True)

        git("fetch", "-q", "origin")
        if re.fullmatch(r"[0-9a-f]{40}", ref):
            git("switch", "-q", "--detach", ref)
        else:
            git("switch", "-q", "-C", ref, f"origin/{ref}")

    def run(self, workflow: dict[str, Any], job_name: str) -> JobResult:
        job = workflow["jobs"][job_name]
        ctx: dict[str, Any] = {**self.context, "steps": {}, "runner": {"temp": str(self.temp)}}
        if "if" in job and not evaluate(" ".join(str(job["if"]).split()), ctx):
            return JobResult([], ok=True, skipped=True)
        env = {k: substitute(v, ctx) for k, v in (workflow.get("env") or {}).items()}
        env.update({k: substitute(v, ctx) for k, v in (job.get("env") or {}).items()})
        results: list[StepResult] = []
        for n, step in enumerate(job["steps"]):
            ctx["env"] = env
            name = step.get("name") or step.get("uses") or f"step {n}"
            if "if" in step and not evaluate(str(step["if"]), ctx):
                continue
            if "uses" in step:
                if step["uses"].startswith("actions/checkout@"):
                    ref = substitute((step.get("with") or {}).get("ref", ""), ctx) or self.context["default_ref"]
                    self._checkout(ref)
                continue
            script = step["run"]
            assert "${{" not in script, f"{name}: event data must reach a script through env"
            output_file = self.temp / f"output-{n}"
            output_file.write_text("", encoding="utf-8")
            step_env = {
                **self.env,
                **env,
                **{k: substitute(v, ctx) for k, v in (step.get("env") or {}).items()},
                "GITHUB_OUTPUT": str(output_file),
                "GITHUB_ENV": str(self.temp / "github-env"),
                "RUNNER_TEMP": str(self.temp),
                "GITHUB_ACTIONS": "true",
            }
            proc = subprocess.run(
                ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
                cwd=self.workdir, env=step_env, capture_output=True, text=True, timeout=120, check=False,
            )  # fmt: skip
            outputs = dict(
                line.split("=", 1) for line in output_file.read_text(encoding="utf-8").splitlines() if "=" in line
            )
            if "id" in step:
                ctx["steps"][step["id"]] = {"outputs": outputs}
            results.append(StepResult(name, proc.returncode, proc.stdout + proc.stderr, outputs))
            if proc.returncode != 0:
                return JobResult(results, ok=False)
        return JobResult(results, ok=True)


def shim_dir(root: Path, python: str) -> Path:
    """``pip`` and ``gh`` stand-ins that log each call (one line, tab-separated arguments) to
    ``$SHIM_LOG``; ``gh`` keeps the open pull request's number in ``$SHIM_STATE`` and copies a
    ``--body-file`` to ``$SHIM_STATE/body.md``. Everything else on PATH is real."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "pip").write_text(
        '#!/usr/bin/env bash\nprintf "pip\\t%s\\n" "$(IFS=$\'\\t\'; echo "$*")" >> "$SHIM_LOG"\n', encoding="utf-8"
    )
    (root / "gh").write_text(
        f"""#!{python}
import os, shutil, sys
args = sys.argv[1:]
state = os.environ["SHIM_STATE"]
with open(os.environ["SHIM_LOG"], "a", encoding="utf-8") as log:
    log.write("\\t".join(["gh", *args]) + "\\n")
if "--body-file" in args:
    shutil.copy(args[args.index("--body-file") + 1], os.path.join(state, "body.md"))
pr = os.path.join(state, "pr")
if args[:2] == ["pr", "list"] and os.path.exists(pr):
    print(open(pr).read().strip())
elif args[:2] == ["pr", "create"]:
    open(pr, "w").write("7")
    print("https://github.com/owner/blog/pull/7")
""",
        encoding="utf-8",
    )
    for name in ("pip", "gh"):
        (root / name).chmod(0o755)
    return root


def base_env(home: Path, path: str, **extra: str) -> dict[str, str]:
    """A runner's environment: no developer settings, a private HOME, git without the machine's config."""
    keep = {k: v for k, v in os.environ.items() if k in ("LANG", "LC_ALL", "TIKTOKEN_CACHE_DIR", "TMPDIR")}
    return {
        **keep,
        "PATH": path,
        "HOME": str(home),
        "GIT_CONFIG_NOSYSTEM": "1",
        "LC_ALL": "C.UTF-8",
        **extra,
    }
