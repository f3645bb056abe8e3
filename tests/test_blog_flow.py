"""The blog flow end to end, offline: a temp Jekyll blog set up by `paper-digest init`, the nightly workflow's
`run:` steps executed for real (tests/workflow_runner.py) against the local fake HF API and fake LLM, the
editor's review on the digest branch, the PR check, the merge, the publish workflow — and real `jekyll
build`s showing that nothing unreviewed reaches _site while the published post and data file do.

Only `pip install` (the pinned install: the test's own paper-digest is on PATH) and `gh` (GitHub's API) are
stand-ins that log their calls; git, including push, runs for real against a local bare origin.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fake_openai import FakeOpenAI
from servers import LocalServer, Request, Response
from typer.testing import CliRunner
from workflow_runner import JobResult, JobRunner, base_env, shim_dir

from agent.cli import app
from agent.init import DEFAULT_REF

pytestmark = pytest.mark.jekyll

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples" / "hf_daily_papers_2026-02-13.json"
DAY = "2026-02-13"
BRANCH = f"digest/{DAY}"
INSTALL = f"git+https://github.com/lim4349/paper-digest@{DEFAULT_REF}"
LAYOUT = "<!DOCTYPE html><html><head><title>{{ page.title }}</title></head><body>{{ content }}</body></html>\n"


def hf_api(req: Request) -> Response:
    """The sample day; any other day has no papers (the API answers [] for a weekend)."""
    if req.path != "/api/daily_papers":
        return Response(404, {"error": "not found"})
    page = int(req.query.get("p", ["0"])[0])
    sample = req.query.get("date") == [DAY] and page == 0
    return Response(body=json.loads(SAMPLE.read_text(encoding="utf-8")) if sample else [])


def git(cwd: Path, *args: str, env: dict[str, str] | None = None) -> str:
    editor = {"GIT_AUTHOR_NAME": "editor", "GIT_AUTHOR_EMAIL": "e@example.org"}
    editor |= {"GIT_COMMITTER_NAME": "editor", "GIT_COMMITTER_EMAIL": "e@example.org"}
    proc = subprocess.run(
        ["git", *args], cwd=cwd, env={**(env or os.environ), **editor}, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, f"git {' '.join(args)}: {proc.stderr}"
    return proc.stdout


def load_workflow(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["on"] = data.pop(True, data.get("on"))
    return data


def jekyll_build(src: Path) -> Path:
    jekyll = shutil.which("jekyll")
    if jekyll is None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("jekyll is not on PATH, but CI must run the Jekyll build tests (apt-get install jekyll)")
        pytest.skip("jekyll is not on PATH (Debian: apt-get install jekyll); CI runs this test")
    dest = src.parent / f"{src.name}-site"
    env = {**os.environ, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
    proc = subprocess.run(
        [jekyll, "build", "--safe", "--source", str(src), "--destination", str(dest)],
        capture_output=True, text=True, timeout=180, env=env, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return dest


def site_text(site: Path) -> dict[str, str]:
    return {
        str(p.relative_to(site)): p.read_text(encoding="utf-8", errors="replace")
        for p in site.rglob("*")
        if p.is_file()
    }


class Blog:
    """A bare origin, the runner's environment, and the fake services."""

    def __init__(self, tmp: Path, hf: LocalServer, llm: FakeOpenAI) -> None:
        self.tmp, self.origin, self.runs = tmp, tmp / "origin.git", 0
        self.state = tmp / "shim-state"
        self.state.mkdir()
        self.log = tmp / "shim.log"
        path = f"{shim_dir(tmp / 'shims', sys.executable)}:{Path(sys.executable).parent}:/usr/bin:/bin"
        self.env = base_env(tmp / "home", path, HF_ENDPOINT=hf.url, SHIM_LOG=str(self.log), SHIM_STATE=str(self.state))
        (tmp / "home").mkdir()
        self.llm = llm
        git(tmp, "init", "-q", "--bare", "-b", "main", str(self.origin))

    def clone(self, name: str, branch: str | None = "main") -> Path:
        git(self.tmp, "clone", "-q", *(["-b", branch] if branch else []), str(self.origin), name)
        return self.tmp / name

    def job(
        self, workflow: str, job: str, github: dict[str, Any], inputs: dict[str, str] | None = None, **variables: str
    ) -> JobResult:
        self.runs += 1
        work = self.clone(f"runner-{self.runs}")
        temp = self.tmp / f"runner-{self.runs}-temp"
        temp.mkdir()
        context = {
            "github": {"token": "gh-token", "run_id": str(self.runs), "ref": "main", **github},
            "inputs": inputs or {},
            "secrets": {"OPENAI_API_KEY": "sk-test-dummy"},
            "vars": {"OPENAI_BASE_URL": self.llm.base_url, **variables},
            "default_ref": "main",
        }
        return JobRunner(work, temp, self.env, context).run(load_workflow(work / ".github/workflows" / workflow), job)

    def calls(self) -> list[list[str]]:
        return (
            [line.split("\t") for line in self.log.read_text(encoding="utf-8").splitlines()]
            if self.log.exists()
            else []
        )

    def cli(self, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["paper-digest", *args], cwd=cwd, env=self.env, capture_output=True, text=True, timeout=120, check=False
        )


@pytest.fixture
def blog(tmp_path: Path) -> Iterator[Blog]:
    with LocalServer(hf_api) as hf, FakeOpenAI() as llm:
        b = Blog(tmp_path, hf, llm)
        seed = b.clone("seed", None)  # an empty origin: no branch yet
        (seed / "_config.yml").write_text(
            "title: a blog\npermalink: /posts/:title/\n"
            'defaults:\n  - scope: {path: "", type: posts}\n    values: {layout: post}\n',
            encoding="utf-8",
        )
        (seed / "_layouts").mkdir()
        (seed / "_layouts" / "post.html").write_text(LAYOUT, encoding="utf-8")
        (seed / "_posts").mkdir()
        (seed / "_posts" / "2026-02-01-hello.md").write_text(
            "---\ntitle: Hello\n---\n\n안녕하세요.\n", encoding="utf-8"
        )
        liquid = (ROOT / "README.md").read_text(encoding="utf-8").split("```liquid\n", 1)[1].split("```", 1)[0]
        (seed / "papers.html").write_text("---\ntitle: papers\n---\n" + liquid.replace("2026-06-12", DAY), "utf-8")
        assert CliRunner().invoke(app, ["init", str(seed)]).exit_code == 0
        with (seed / "paper-digest.toml").open("a", encoding="utf-8") as config:
            # The fake LLM is on 127.0.0.1, where OpenAI's list prices do not apply: price it (the budget needs it).
            config.write('\n[llm.prices]\n"gpt-4.1-mini" = { input = 0.4, output = 1.6, cached_input = 0.2 }\n')
        git(seed, "add", "-A")
        git(seed, "commit", "-q", "-m", "a blog with paper-digest")
        git(seed, "push", "-q", "origin", "main")
        yield b


def test_nightly_pr_review_check_merge_publish(blog: Blog) -> None:
    # 1. The nightly job writes the draft and the review state on digest/<date> and opens the PR.
    nightly = blog.job("paper-digest-nightly.yml", "digest", {"event_name": "workflow_dispatch"}, {"date": DAY})
    assert nightly.ok, nightly.log()
    calls = blog.calls()
    assert ["pip", "install", INSTALL] in calls
    assert [c[:2] for c in calls if c[0] == "gh"][:2] == [["gh", "pr"], ["gh", "pr"]]
    assert any(c[:3] == ["gh", "pr", "create"] and "--head" in c and BRANCH in c for c in calls)
    body = (blog.state / "body.md").read_text(encoding="utf-8")
    assert "| # | 논문 | 상태 | 한 줄 요약 | 태그 | 사유 |" in body and "[The Devil Behind Moltbook" in body
    branch = blog.clone("digest", BRANCH)
    assert (branch / "_drafts" / f"{DAY}-hf-daily-papers.md").is_file()
    assert (branch / ".paper-digest" / f"{DAY}-review.toml").is_file()
    assert not list((branch / ".paper-digest").glob("*.lock"))  # git-ignored

    # 2. The branch's site: no draft, no review state, no paper of the day.
    site = site_text(jekyll_build(branch))
    assert "posts/hello/index.html" in site
    for path, text in site.items():
        assert ".paper-digest" not in path and "_drafts" not in path and "hf-daily-papers" not in path, path
        assert "Moltbook" not in text and "2602.09877" not in text, path
        assert "review.toml" not in text and "snapshot" not in text, path

    # 3. The PR check fails while papers are unreviewed, as GitHub annotations on the review file.
    pr = {"event_name": "pull_request", "head_ref": BRANCH}
    head = git(branch, "rev-parse", "HEAD").strip()
    check = blog.job("paper-digest-publish.yml", "check", {**pr, "event": {"pull_request": {"head": {"sha": head}}}})
    assert not check.ok and not check.skipped
    assert f"::error file=.paper-digest/{DAY}-review.toml,line=" in check.steps[-1].output

    # 4. The editor approves (and leaves out what the checks flagged), pushes; the check passes.
    rows = json.loads(blog.cli(branch, "review", DAY, "--format", "json").stdout)["papers"]
    for row in rows:
        if row["status"] == "flagged":
            assert blog.cli(branch, "review", DAY, "--reject", row["id"]).returncode == 0
    approved = blog.cli(branch, "review", DAY, "--approve", "all")
    assert approved.returncode == 0, approved.stderr
    git(branch, "add", "-A")
    git(branch, "commit", "-q", "-m", "review")
    git(branch, "push", "-q", "origin", BRANCH)
    head = git(branch, "rev-parse", "HEAD").strip()
    check = blog.job("paper-digest-publish.yml", "check", {**pr, "event": {"pull_request": {"head": {"sha": head}}}})
    assert check.ok, check.log()

    # 5. Merged: the publish job writes the post and the data file on main.
    git(branch, "switch", "-q", "main")
    git(branch, "merge", "-q", "--no-ff", "-m", "Merge digest", BRANCH)
    git(branch, "push", "-q", "origin", "main")
    merged = {"action": "closed", "pull_request": {"merged": True, "head": {"ref": BRANCH}, "base": {"ref": "main"}}}
    closed = {"action": "closed", "pull_request": {"merged": False, "head": {"ref": BRANCH}, "base": {"ref": "main"}}}
    for job in ("check", "publish"):  # a pull request closed without merging publishes nothing
        assert blog.job("paper-digest-publish.yml", job, {**pr, "event": closed}).skipped
    published = blog.job("paper-digest-publish.yml", "publish", {**pr, "event": merged})
    assert published.ok and not published.skipped, published.log()
    main = blog.clone("main-after")
    post = main / "_posts" / f"{DAY}-hf-daily-papers.md"
    data = json.loads((main / "_data" / "papers" / f"daily-{DAY}.json").read_text(encoding="utf-8"))
    assert post.is_file() and not (main / "_drafts" / f"{DAY}-hf-daily-papers.md").exists()
    korean = [p["summary_ko"] for p in data["papers"] if p["summary_ko"]]
    assert korean and data["papers"][0]["rank"] == 1

    # 6. The site: the post and the day's data on the Liquid page; still no review state.
    site = site_text(jekyll_build(main))
    page = site[f"posts/hf-daily-papers-{DAY}/index.html"]
    assert "총 " in page and korean[0] in page
    papers = site.get("papers.html") or site["papers/index.html"]  # the page follows the site's permalink style
    assert korean[0] in papers and f"{DAY} · " in papers
    assert not [p for p in site if ".paper-digest" in p or "_drafts" in p]

    # 7. A nightly run for a published day does nothing.
    before = len(blog.calls())
    again = blog.job("paper-digest-nightly.yml", "digest", {"event_name": "workflow_dispatch"}, {"date": DAY})
    assert again.ok and again.steps[0].outputs["skip"] == "true" and len(blog.calls()) == before


def test_flagged_papers_label_the_pull_request_and_a_day_without_papers_passes(blog: Blog) -> None:
    dispatch = {"event_name": "workflow_dispatch"}
    weekend = blog.job("paper-digest-nightly.yml", "digest", dispatch, {"date": "2026-02-14"})
    assert weekend.ok, weekend.log()
    assert weekend.steps[-1].outputs == {"status": "1", "empty": "true"} and not blog.calls()[1:]  # only pip


    # A budget spent by the first answer flags the rest: run --strict exits 3.
    nightly = blog.job(
        "paper-digest-nightly.yml",
        "digest",
        {"event_name": "workflow_dispatch"},
        {"date": DAY},
        PAPER_DIGEST_BUDGET_USD="0.000001",
    )
    assert nightly.ok, nightly.log()
    run = next(s for s in nightly.steps if s.name == "Write the draft")
    assert run.outputs["status"] == "3" and "::warning::" in run.output
    calls = [c for c in blog.calls() if c[0] == "gh"]
    assert calls[-2][:4] == ["gh", "label", "create", "needs-edit"]
    assert calls[-1] == ["gh", "pr", "edit", "7", "--add-label", "needs-edit"]
    assert "⚠️ flagged" in (blog.state / "body.md").read_text(encoding="utf-8")

    # Re-run (Run workflow) with the budget back: the branch is continued, the open pull request updated
    # and its label removed once nothing is flagged.
    first = git(blog.tmp, "--git-dir", str(blog.origin), "rev-parse", BRANCH).strip()
    rerun = blog.job("paper-digest-nightly.yml", "digest", dispatch, {"date": DAY})
    assert rerun.ok, rerun.log()
    assert git(blog.tmp, "--git-dir", str(blog.origin), "rev-parse", f"{BRANCH}~1").strip() == first
    calls = [c for c in blog.calls() if c[0] == "gh"]
    assert calls[-2][:4] == ["gh", "pr", "edit", "7"] and "--body-file" in calls[-2]
    assert calls[-1] == ["gh", "pr", "edit", "7", "--remove-label", "needs-edit"]
    assert "⚠️ flagged" not in (blog.state / "body.md").read_text(encoding="utf-8")
