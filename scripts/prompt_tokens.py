"""Prompt tokens per paper of the summary prompt, as the run renders it (o200k via tiktoken).

    python scripts/prompt_tokens.py [SOURCE.json ...] [--model gpt-4o-mini] [--prompts DIR]

Renders summary_messages (system prompt with the tag list, the few-shot turns, the paper) for every paper
of the given HF daily-papers payloads (default: the bundled sample day) and prints the mean, min and max
prompt tokens per paper, and the part every paper shares (system + few-shot, what a provider's prompt cache
can reuse). Set TIKTOKEN_CACHE_DIR on offline machines; without the BPE file the counts are estimates.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from agent.clean import normalize  # noqa: E402
from agent.prompts import PROMPTS_DIR, describe_tags, summary_messages  # noqa: E402
from agent.tokens import count_tokens  # noqa: E402
from agent.vocab import load_vocabulary  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sample = ROOT / "samples" / "hf_daily_papers_2026-02-13.json"
    parser.add_argument("sources", nargs="*", type=Path, default=[sample])
    parser.add_argument("--model", default="gpt-4o-mini")
    parser.add_argument("--prompts", type=Path, default=PROMPTS_DIR)
    args = parser.parse_args()

    vocab = load_vocabulary(args.prompts / "tags.toml")
    papers = [p for src in args.sources for p in normalize(json.loads(src.read_text(encoding="utf-8")))[0]]
    counts, exact = [], True
    shared = 0
    for paper in papers:
        messages = summary_messages(
            title=paper.title,
            abstract=paper.abstract,
            tag_names=vocab.names,
            tag_hints=describe_tags(vocab.tags),
            prompts_dir=args.prompts,
        )
        tokens, ok = count_tokens(messages, args.model)
        shared, _ = count_tokens(messages[:-1], args.model)
        counts.append(tokens)
        exact = exact and ok
    mark = "" if exact else "~"
    mean = statistics.mean(counts)
    print(
        f"{len(papers)} papers, model {args.model}: prompt tokens per paper mean {mark}{mean:.0f}, "
        f"min {min(counts)}, max {max(counts)}; shared prefix (system + few-shot) {mark}{shared}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
