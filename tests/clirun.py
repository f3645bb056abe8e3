"""Running the real CLI in a subprocess, isolated from the developer's own endpoint, key and settings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def cli_env(**extra: str) -> dict[str, str]:
    """The test process's environment without any real endpoint, key or cache setting, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "HF_", "PAPER_DIGEST_"))}
    env.update(extra)
    return env


def cli_argv(args: list[str]) -> list[str]:
    return [sys.executable, "-m", "agent", *args]


def run_cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``paper-digest ARGS``; ``cwd`` should be a temporary directory so the repository's
    paper-digest.toml is not picked up."""
    return subprocess.run(cli_argv(args), env=env, cwd=cwd, capture_output=True, text=True, timeout=120)
