"""A non-editable install works: the wheel carries prompts/ and the post template, and the installed console
script runs from another directory with no checkout on sys.path (the nightly workflow installs it with
``pip install git+<url>@<ref>``, which builds exactly this wheel).

Offline and quick: the wheel is built without build isolation (setuptools comes from the dev extras), the
fresh venv has no pip of its own (the test's pip installs into it with ``--python``), and the dependencies
come from the test's own environment through a ``.pth`` line placed after the venv's site-packages.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from clirun import cli_env
from fake_openai import FakeOpenAI, by_title, load_answers

import agent

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples" / "hf_daily_papers_2026-02-13.json"
DATE = "2026-02-13"
DRAFT = f"drafts/{DATE}-hf-daily-papers.md"


def _check(args: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(args, capture_output=True, text=True, timeout=120, **kwargs)  # type: ignore[call-overload]
    assert done.returncode == 0, f"{args}: {done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Build from a copy: a build leaves build/ and *.egg-info behind, which must not land in the checkout.
    src = tmp_path_factory.mktemp("src")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".*")
    for name in ("agent", "prompts"):
        shutil.copytree(ROOT / name, src / name, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    dist = tmp_path_factory.mktemp("dist")
    _check(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-index", "--no-build-isolation",
         "-w", str(dist), str(src)]
    )  # fmt: skip
    (built,) = dist.glob("paper_digest-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("venv")
    _check([sys.executable, "-m", "venv", "--without-pip", str(home)])
    python = home / "bin" / "python"
    purelib = _check(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]
    ).stdout.strip()
    ours = dict.fromkeys(sysconfig.get_paths()[k] for k in ("purelib", "platlib"))
    (Path(purelib) / "zz_test_dependencies.pth").write_text("\n".join(ours) + "\n", encoding="utf-8")
    _check([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", "--no-index",
            str(wheel)])  # fmt: skip
    return home


@pytest.fixture
def elsewhere(tmp_path: Path) -> Path:
    away = tmp_path / "elsewhere"
    away.mkdir()
    return away


def test_the_wheel_carries_every_package_file_and_the_prompts(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        "agent/" + p.relative_to(ROOT / "agent").as_posix()
        for p in (ROOT / "agent").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and not p.name.startswith(".")
    }
    prompts = {
        "agent/prompts_data/" + p.name for p in (ROOT / "prompts").iterdir() if not p.name.startswith(".")
    }
    assert expected <= names, sorted(expected - names)
    assert prompts <= names and "agent/prompts_data/tags.toml" in prompts
    assert not any(n.startswith(("prompts/", "tests/")) for n in names)


def test_the_installed_package_is_the_wheel_not_the_checkout(venv: Path, elsewhere: Path) -> None:
    probe = "import agent, agent.prompts as p, agent.render as r; print(agent.__file__, p.PROMPTS_DIR, r.TEMPLATES_DIR)"
    paths = _check([str(venv / "bin" / "python"), "-c", probe], cwd=elsewhere, env=cli_env()).stdout.split()
    assert all(Path(p).is_relative_to(venv) for p in paths), paths
    assert paths[1].endswith("agent/prompts_data")
    done = _check([str(venv / "bin" / "paper-digest"), "--version"], cwd=elsewhere, env=cli_env())
    assert done.stdout == f"paper-digest {agent.__version__}\n"


@pytest.fixture
def served() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(by_title(load_answers())) as fake:
        yield fake


def test_the_installed_cli_runs_no_llm_then_llm_then_fully_cached_from_another_directory(
    venv: Path, elsewhere: Path, served: FakeOpenAI
) -> None:
    exe = str(venv / "bin" / "paper-digest")
    base = [exe, "run", "--date", DATE, "--source", str(SAMPLE), "--cache-dir", str(elsewhere / "cache")]

    plain = _check([*base, "--out", "plain", "--no-llm"], cwd=elsewhere, env=cli_env())
    assert "10 papers, 0 summarized" in plain.stdout
    assert "총 **10개**" in (elsewhere / "plain" / DRAFT).read_text(encoding="utf-8")

    env = cli_env(OPENAI_API_KEY="sk-test-dummy", OPENAI_BASE_URL=served.base_url)
    asked = _check([*base, "--out", "llm"], cwd=elsewhere, env=env)
    assert "10 papers, 10 summarized, 0 flagged" in asked.stdout, asked.stdout + asked.stderr
    sent = len(served.requests)
    assert sent == 11  # ten papers and the overview, rendered from the wheel's prompts

    cached = _check([*base, "--out", "llm"], cwd=elsewhere, env=env)
    assert "0 LLM requests, 11 cache hits" in cached.stdout, cached.stdout
    assert len(served.requests) == sent
    assert "한 줄 요약:" in (elsewhere / "llm" / DRAFT).read_text(encoding="utf-8")
