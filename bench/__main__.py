"""`make bench` (``.venv/bin/python -m bench``): time the real CLI on an N-paper day against a local fake LLM.

    .venv/bin/python -m bench                 # N=30, --concurrency 8, 0.5 s per request, HF API stand-in
    .venv/bin/python -m bench --check         # exit 1 when a target is missed (default: print it, exit 0)
    .venv/bin/python -m bench --source-file   # the day from a JSON file instead of the HF API stand-in
    .venv/bin/python -m bench --n 300         # the memory target is judged at N=300
    .venv/bin/python -m bench --fault-rate 0.1 --max-in-flight 4
    .venv/bin/python -m bench --entry path/to/script.py   # time another entry point (e.g. a patched build)

The day is the real payload from ../shared/fixtures when present (else the bundled sample), replicated to
N with distinct ids and titles; the fake answers every paper with a valid Korean one-liner (bench/day.py).
Measured, each in a fresh subprocess of this venv (what cron runs):
- cold: a fresh cache, every paper asks the fake (``--latency`` per request); best of 3 at N ≤ 60; the
  peak RSS of that process (its own rusage, from os.wait4). By default the day comes from a local stand-in
  for the HF API (``--hf-latency`` per request, two pages: the day and the empty page after it), as on
  the real nightly path, where the SDK's imports overlap the fetch; ``--source-file`` reads a JSON file;
- no-llm: ``--no-llm`` on the same day (fetch, normalise, keyword tags, render; no SDK import);
- LLM part = cold − no-llm, against (ceil(N/c) + 1 overview round)·latency + ``import openai`` (the one
  import a run that asks the LLM cannot avoid); target ≤ 1.15×. Note that the no-llm run does keyword
  tagging the LLM path does not (~6 ms/paper), so at large N the subtraction flatters;
- LLM window: the fake's own view, first request in → last answer out (no imports, no rendering);
- warm: the same run on the warm cache, must send 0 requests and not import openai (checked with
  ``-X importtime``), against ``python -c "import openai"`` in the same venv;
- requests (the report's ``llm_requests`` and the fake's count) and prompt tokens per paper (the
  report's figure — the fake's stand-in tokenizer — and tiktoken o200k over the prompts received);
- cost per paper at gpt-4.1-mini list prices, from tiktoken counts: every request's full prompt at the input
  price, and "effective" with the shared prefix (system + few-shot, sent under one ``prompt_cache_key``) at
  the cached-input price after the first request — beside what a one-request-per-paper summariser with a
  500-token prompt and the same answers pays.
Fast runs are best of ``--repeat`` (3). Bytecode goes to a temporary PYTHONPYCACHEPREFIX, warmed first.
Prints a table and any missed target, writes bench/results/latest.json (git-ignored); exits 0 unless
``--check`` is given and a target was missed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # fake_openai, servers (test helpers, no package)
SHARED_TIKTOKEN = ROOT.parent / "shared" / "tiktoken_cache"
if SHARED_TIKTOKEN.is_dir():
    os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(SHARED_TIKTOKEN))

from bench.day import answer_fn, write_day  # noqa: E402

PYTHON = sys.executable
# Imported once before timing, so every module has bytecode (an installed package has it) and is in the
# page cache: the timed runs then measure the pipeline, not the compiler or the disk.
WARM_IMPORTS = """
import importlib
for name in ("openai", "tiktoken", "diskcache", "jinja2", "typer", "rich.progress", "langchain_core.prompts",
             "agent.cli", "agent.pipeline", "agent.enrich", "agent.llm", "agent.prompts", "agent.render",
             "agent.clean", "agent.review", "agent.lock"):
    try:
        importlib.import_module(name)
    except ImportError:
        pass
"""
RESULTS = Path(__file__).resolve().parent / "results"

# Targets (issues 5 and 11): ratios.
LLM_PART_MAX = 1.15  # × ((ceil(N/c) + 1)·latency + import openai), at N=30, c=8 and 0.5 s latency
WARM_MAX = 1.0  # × `import openai`
RSS_MAX_MB = 150.0  # at N=300


@dataclass
class Proc:
    seconds: float
    returncode: int
    stdout: str
    stderr: str
    maxrss_mb: float


ENTRY: list[str] = ["-m", "agent"]  # --entry SCRIPT replaces it (e.g. to time a patched build)


def run_cli(args: list[str], env: dict[str, str], cwd: Path, *, python_args: tuple[str, ...] = ()) -> Proc:
    """One CLI process; wall time and its own peak RSS (os.wait4 gives the child's rusage alone)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen([PYTHON, *python_args, *ENTRY, *args], stdout=out, stderr=err, env=env, cwd=cwd)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Proc(
            seconds,
            proc.returncode,
            out.read().decode("utf-8", "replace"),
            err.read().decode("utf-8", "replace"),
            usage.ru_maxrss / 1024,  # Linux: KiB
        )


def widen_backlog(server: Any, backlog: int = 128) -> None:
    """socketserver listens with a backlog of 5: at c ≥ 7 simultaneous connects the kernel drops a SYN
    and the client retransmits it 1 s later, which would be charged to the pipeline. Listen wider."""
    server._httpd.socket.listen(backlog)


def best_of(k: int, fn: Any) -> tuple[float, list[Any]]:
    results = [fn() for _ in range(k)]
    return min(r.seconds if isinstance(r, Proc) else r for r in results), results


def import_openai_seconds(env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run([PYTHON, "-c", "import openai"], env=env, check=True)
    return time.perf_counter() - started


def python_startup_seconds(env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run([PYTHON, "-c", "pass"], env=env, check=True)
    return time.perf_counter() - started


def tiktoken_per_paper(requests: list[Any], model: str) -> float | None:
    from agent.tokens import count_tokens

    counts = []
    for req in requests:
        if req.is_overview or req.is_repair:
            continue
        tokens, exact = count_tokens(req.messages, model)
        if not exact:
            return None
        counts.append(tokens)
    return sum(counts) / len(counts) if counts else None


def cost_per_paper(requests: list[Any], completion_tokens: int, n: int, model: str) -> dict[str, float] | None:
    """USD per paper at ``model``'s list prices, from tiktoken counts of the prompts the fake received: every
    prompt in full, and with the prefix (all but the last message) of every summary request after the first
    read from the prompt cache. None without the BPE file."""
    from agent.config import DEFAULT_PRICES
    from agent.tokens import cost_usd, count_tokens

    full = cached = 0
    prompt = 0
    seen: set[str] = set()
    for req in requests:
        tokens, exact = count_tokens(req.messages, model)
        if not exact:
            return None
        prompt += tokens
        key = req.body.get("prompt_cache_key")
        if not req.is_overview and isinstance(key, str):
            if key in seen:
                cached += count_tokens(req.messages[:-1], model)[0]
            seen.add(key)
        full += tokens
    plain = cost_usd(prompt, completion_tokens, model, DEFAULT_PRICES)
    effective = cost_usd(prompt, completion_tokens, model, DEFAULT_PRICES, cached)
    baseline = cost_usd(500 * n, completion_tokens, model, DEFAULT_PRICES)
    if plain is None or effective is None or baseline is None:
        return None
    return {"list": plain / n, "effective": effective / n, "baseline_500": baseline / n, "cached_share": cached / full}


def hf_stand_in(items: list[Any], latency: float) -> Any:
    """A local stand-in for the HF Daily Papers API: the day on page 0, [] after it, ``latency`` per request."""
    from servers import LocalServer, Response

    def handle(req: Any) -> Any:
        time.sleep(latency)
        if req.path.rstrip("/") != "/api/daily_papers":
            return Response(404, {"error": "not found"})
        return Response(200, items if req.query.get("p", ["0"])[0] == "0" else [])

    return LocalServer(handle)


def check(proc: Proc, what: str) -> None:
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"bench: the {what} run failed with exit code {proc.returncode}")


def bench(args: argparse.Namespace) -> dict[str, Any]:
    from fake_openai import FakeOpenAI, Fault

    from agent.vocab import load_vocabulary

    n, c, latency = args.n, args.concurrency, float(args.latency)
    answer = answer_fn(load_vocabulary())
    rng = random.Random(args.seed)
    if args.fault_rate > 0:
        base_answer = answer

        def answer(req: Any) -> Any:  # noqa: F811 - a faulty wrapper around the valid answers
            return Fault.server_error() if rng.random() < args.fault_rate else base_answer(req)

    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="paper-digest-bench-"))
        work = Path(tmp)
        source, day, where = write_day(work, n)
        report = work / "report.json"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "PAPER_DIGEST_", "HF_"))}
        # Warm runs always read the file: they measure what a fully cached run costs, not the network.
        warm_common = ["run", "--date", day, "--source", str(source), "--out", str(work / "out")]
        if args.source_file:
            common = warm_common
        else:
            hf = stack.enter_context(hf_stand_in(json.loads(source.read_text("utf-8")), args.hf_latency))
            widen_backlog(hf)
            env["HF_ENDPOINT"] = hf.url
            common = ["run", "--date", day, "--out", str(work / "out")]
        # Bytecode as an installed package has it, without writing __pycache__ into the repository.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
        subprocess.run([PYTHON, "-c", WARM_IMPORTS], env=env, cwd=work, check=True)

        no_llm_s, no_llm_runs = best_of(
            args.repeat,
            lambda: run_cli([*common, "--no-llm", "--cache-dir", str(work / "nollm-cache")], env, work),
        )
        for p in no_llm_runs:
            check(p, "--no-llm")

        arrivals: list[float] = []  # when each request reached the fake (perf_counter)

        def timed_latency(req: Any) -> float:
            arrivals.append(time.perf_counter())
            return latency

        with FakeOpenAI(
            answer, latency=timed_latency, max_in_flight=args.max_in_flight, retry_after=0.01, prompt_cache=True
        ) as fake:
            widen_backlog(fake.server)
            llm_env = dict(env, OPENAI_API_KEY="sk-bench-dummy", OPENAI_BASE_URL=fake.base_url)

            def llm_args(cache: Path, warm: bool = False) -> list[str]:
                head = warm_common if warm else common
                return [*head, "--concurrency", str(c), "--cache-dir", str(cache), "--report", str(report)]

            colds = []
            for k in range(args.cold_repeat):  # each with a fresh cache; the fastest counts
                before, first = len(fake.requests), len(arrivals)
                cold = run_cli(llm_args(work / f"cache{k}"), llm_env, work)
                check(cold, "cold")
                # The fake's view: first request in → last answer out (network-bound part, no SDK import).
                window = max(arrivals[first:]) + latency - min(arrivals[first:]) if arrivals[first:] else 0.0
                report_json = json.loads(report.read_text(encoding="utf-8"))
                colds.append((cold, report_json, fake.requests[before:], window))
            k, (cold, cold_report, cold_requests, window) = min(enumerate(colds), key=lambda kv: kv[1][0].seconds)
            cache = work / f"cache{k}"
            peak_in_flight = fake.peak_in_flight
            per_paper_tiktoken = tiktoken_per_paper(cold_requests, "gpt-4.1-mini")
            costs = cost_per_paper(cold_requests, int(cold_report.get("completion_tokens") or 0), n, "gpt-4.1-mini")

            before = len(fake.requests)
            warm_s, warm_runs = best_of(args.repeat, lambda: run_cli(llm_args(cache, warm=True), llm_env, work))
            for p in warm_runs:
                check(p, "warm")
            warm_report = json.loads(report.read_text(encoding="utf-8"))
            warm_requests = len(fake.requests) - before
            # Did the warm run import the SDK? (-X importtime lists every module imported.)
            traced = run_cli(llm_args(cache, warm=True), llm_env, work, python_args=("-X", "importtime"))
            warm_imports_openai = any(
                line.rstrip().endswith((" openai", " langchain_core")) for line in traced.stderr.splitlines()
            )

        import_s, _ = best_of(args.repeat, lambda: import_openai_seconds(env))
        startup_s, _ = best_of(args.repeat, lambda: python_startup_seconds(env))

    rounds = math.ceil(n / c)
    limit = rounds * latency
    limit_overview = (rounds + 1) * latency
    budget = limit_overview + import_s  # what a run that asks the LLM cannot avoid
    llm_part = cold.seconds - no_llm_s
    result = {
        "machine": {
            "nproc": os.cpu_count(),
            "cpu": _cpu_model(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "params": {
            "n": n,
            "concurrency": c,
            "latency_s": latency,
            "fault_rate": args.fault_rate,
            "max_in_flight": args.max_in_flight,
            "repeat": args.repeat,
            "cold_repeat": args.cold_repeat,
            "payload": where,
            "source": "file" if args.source_file else f"HF API stand-in, {args.hf_latency:g} s per request",
            "entry": " ".join(ENTRY),
        },
        "cold_s": cold.seconds,
        "no_llm_s": no_llm_s,
        "llm_part_s": llm_part,
        "limit_s": limit,
        "limit_with_overview_s": limit_overview,
        "llm_part_ratio": llm_part / limit,
        "llm_part_ratio_with_overview": llm_part / limit_overview,
        "llm_part_budget_s": budget,
        "llm_part_ratio_budget": llm_part / budget,
        "llm_window_s": window,
        "llm_window_ratio_with_overview": window / limit_overview,
        "warm_s": warm_s,
        "import_openai_s": import_s,
        "python_startup_s": startup_s,
        "warm_ratio": warm_s / import_s,
        "warm_requests": warm_requests,
        "warm_report_requests": warm_report.get("llm_requests"),
        "warm_imports_openai": warm_imports_openai,
        "requests_report": cold_report.get("llm_requests"),
        "requests_fake": len(cold_requests),
        "cold_runs_s": [r[0].seconds for r in colds],
        "peak_in_flight": peak_in_flight,
        "summarized": cold_report.get("summarized"),
        "flagged": cold_report.get("flagged"),
        "prompt_tokens_per_paper_report": (cold_report.get("prompt_tokens") or 0) / n,
        "prompt_tokens_per_paper_tiktoken": per_paper_tiktoken,
        "cached_prompt_tokens_report": cold_report.get("cached_prompt_tokens"),
        "cost_per_paper_usd": costs,
        "peak_rss_mb": cold.maxrss_mb,
        "report_seconds": cold_report.get("seconds"),
    }
    result["targets"] = targets(result)
    return result


def targets(r: dict[str, Any]) -> dict[str, dict[str, Any]]:
    p = r["params"]
    out: dict[str, dict[str, Any]] = {}
    if p["n"] == 30 and p["concurrency"] == 8 and p["latency_s"] == 0.5 and not p["fault_rate"]:
        out["llm_part"] = {
            "ratio": r["llm_part_ratio_budget"],
            "max": LLM_PART_MAX,
            "pass": r["llm_part_ratio_budget"] <= LLM_PART_MAX,
        }
    costs = r["cost_per_paper_usd"]
    if costs is not None:
        out["cost"] = {
            "effective": costs["effective"],
            "max": costs["baseline_500"],
            "pass": costs["effective"] <= costs["baseline_500"],
        }
    out["warm"] = {
        "ratio": r["warm_ratio"],
        "max": WARM_MAX,
        "pass": r["warm_ratio"] < WARM_MAX and r["warm_requests"] == 0,
    }
    if p["n"] >= 300:
        out["peak_rss"] = {"mb": r["peak_rss_mb"], "max": RSS_MAX_MB, "pass": r["peak_rss_mb"] <= RSS_MAX_MB}
    return out


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def table(r: dict[str, Any]) -> str:
    p, t = r["params"], r["targets"]

    def verdict(name: str) -> str:
        return "" if name not in t else ("PASS" if t[name]["pass"] else "FAIL")

    rows = [
        ("papers / concurrency / latency", f"N={p['n']} c={p['concurrency']} {p['latency_s']:g} s", "", ""),
        (
            f"cold run (fresh cache, best of {p['cold_repeat']})",
            f"{r['cold_s']:.2f} s",
            " ".join(f"{x:.2f}" for x in r["cold_runs_s"]),
            "",
        ),
        (f"--no-llm run (best of {p['repeat']})", f"{r['no_llm_s']:.2f} s", "", ""),
        ("day from", p["source"], "", ""),
        (
            "LLM part = cold − no-llm",
            f"{r['llm_part_s']:.2f} s",
            f"{r['llm_part_ratio_budget']:.2f}× (ceil(N/c)+1)·lat + import openai = {r['llm_part_budget_s']:.2f} s; "
            f"{r['llm_part_ratio_with_overview']:.2f}× (ceil(N/c)+1)·lat alone",
            verdict("llm_part") + (f" (≤{LLM_PART_MAX}×)" if "llm_part" in t else ""),
        ),
        (
            "LLM window (fake: 1st request in → last answer out)",
            f"{r['llm_window_s']:.2f} s",
            f"{r['llm_window_ratio_with_overview']:.2f}× incl. overview",
            "",
        ),
        (
            f"warm re-run (best of {p['repeat']})",
            f"{r['warm_s']:.3f} s",
            f"{r['warm_ratio']:.2f}× import openai={r['import_openai_s']:.3f} s "
            f"(python -c pass={r['python_startup_s']:.3f} s)",
            verdict("warm") + " (<1.0×, 0 requests)",
        ),
        (
            "warm: requests / imports openai",
            f"{r['warm_requests']} (report {r['warm_report_requests']})",
            "yes" if r["warm_imports_openai"] else "no",
            "",
        ),
        (
            "requests sent (report / fake)",
            f"{r['requests_report']} / {r['requests_fake']}",
            f"N+1={p['n'] + 1}; peak in flight {r['peak_in_flight']}",
            "",
        ),
        ("summarized / flagged", f"{r['summarized']} / {r['flagged']}", "", ""),
        (
            "prompt tokens per paper",
            f"{r['prompt_tokens_per_paper_report']:.0f} (report)",
            "tiktoken o200k: "
            + (
                f"{r['prompt_tokens_per_paper_tiktoken']:.0f}"
                if r["prompt_tokens_per_paper_tiktoken"] is not None
                else "n/a"
            ),
            "",
        ),
        (
            "cost per paper (gpt-4.1-mini list prices)",
            "n/a" if r["cost_per_paper_usd"] is None else f"${r['cost_per_paper_usd']['effective']:.6f} effective",
            ""
            if r["cost_per_paper_usd"] is None
            else f"${r['cost_per_paper_usd']['list']:.6f} uncached; prefix cached "
            f"{r['cost_per_paper_usd']['cached_share']:.0%} of prompt tokens; a 500-token-prompt summariser "
            f"${r['cost_per_paper_usd']['baseline_500']:.6f}",
            (verdict("cost") + " (≤ the 500-token summariser)") if "cost" in t else "",
        ),
        (
            "peak RSS (cold run)",
            f"{r['peak_rss_mb']:.1f} MB",
            "",
            (verdict("peak_rss") + " (≤150 MB at N=300)") if "peak_rss" in t else "",
        ),
    ]
    w0 = max(len(a) for a, *_ in rows)
    w1 = max(len(b) for _, b, *_ in rows)
    lines = [f"machine: {r['machine']['nproc']} × {r['machine']['cpu']}, Python {r['machine']['python']}"]
    lines += [f"{a:<{w0}}  {b:<{w1}}  {c}  {d}".rstrip() for a, b, c, d in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=30, help="papers in the day (default 30)")
    parser.add_argument("--concurrency", "-c", type=int, default=8, help="--concurrency of the run (default 8)")
    parser.add_argument("--latency", type=float, default=0.5, help="seconds per LLM request (default 0.5)")
    parser.add_argument("--fault-rate", type=float, default=0.0, help="share of requests answered 500")
    parser.add_argument("--max-in-flight", type=int, default=None, help="429 + Retry-After beyond this")
    parser.add_argument("--repeat", type=int, default=3, help="best of K for the fast runs (default 3)")
    parser.add_argument(
        "--cold-repeat", type=int, default=None, help="cold runs, fastest counts (default 3 if N ≤ 60, else 1)"
    )
    parser.add_argument("--seed", type=int, default=5, help="RNG seed for --fault-rate")
    parser.add_argument(
        "--entry", type=Path, default=None, help="run this script instead of `-m agent` (a patched build)"
    )
    parser.add_argument("--out", type=Path, default=RESULTS / "latest.json", help="JSON results file")
    parser.add_argument("--hf-latency", type=float, default=0.5, help="seconds per HF API request (default 0.5)")
    parser.add_argument("--source-file", action="store_true", help="the day from a JSON file, not the HF API")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    if args.n < 1 or args.concurrency < 1 or args.latency < 0 or args.repeat < 1:
        parser.error("--n, --concurrency and --repeat must be ≥ 1, --latency ≥ 0")

    if args.cold_repeat is None:
        args.cold_repeat = 3 if args.n <= 60 else 1
    if args.entry is not None:
        ENTRY[:] = [str(args.entry.resolve())]
    result = bench(args)
    print(table(result))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"written: {args.out}")
    missed = [name for name, t in result["targets"].items() if not t["pass"]]
    for name in missed:
        print(f"MISSED target {name}: {json.dumps(result['targets'][name])}")
    if not missed:
        print("all targets met")
    return 1 if missed and args.check else 0


if __name__ == "__main__":
    raise SystemExit(main())
