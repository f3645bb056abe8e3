"""Rebuild the bundled sample day from a legacy seed post.

    python scripts/build_sample.py [SEED.md] [--out FILE]

The seed (../shared/seeds/legacy_post_2026-02-13.md by default) is a scraped digest whose UTF-8 was
read as Mac Roman. This repairs the text, parses its papers and writes them in the shape of the HF
``/api/daily_papers`` response, so ``make demo`` and the tests run on a real day, offline.

Only what the seed says is written. It has no author names (``authors`` stays empty), no HF
organisation handles (``organization.name`` is a slug of the full name), and no dates per paper
(the digest's date stands in for ``publishedAt``). Abstracts keep arXiv's LaTeX and "this https URL"
placeholders: that is what the normaliser must cope with.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

import ftfy

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SEED = ROOT.parent / "shared" / "seeds" / "legacy_post_2026-02-13.md"

# The scraper glued a count onto each organisation ("Tencent Hunyuan11", "AI2169"); these names end
# in digits themselves, so only what follows them is a count.
ORGS_ENDING_IN_DIGITS = ("AI2",)

_DATE = re.compile(r"^title:.*?(\d{4}-\d{2}-\d{2})\s*$", re.MULTILINE)
_TOTAL = re.compile(r"총 \*\*(\d+)개\*\*")
_HEAD = re.compile(r"^(\d+)\. \*\*(.+)\*\* - 👍 (\d+)\s*$")
_FIELD = re.compile(
    r"^\s+- (?:기관: (?P<org>.*)|\[HF 페이지\]\(https://huggingface\.co/papers/(?P<hf>[^)\s]+)\)"
    r"|\[논문 링크\]\(https://arxiv\.org/abs/(?P<arxiv>[^)\s]+)\)|Abstract: (?P<abstract>.*))$"
)
_AUTHORS_ONLY = re.compile(r"^·\s*\d+\s+authors?\d*$")  # "·13 authors1": no organisation on the card


def repair(text: str) -> str:
    """Undo UTF-8 → Mac Roman mojibake.

    The exact inverse is tried first: ftfy's per-line heuristics leave a short run such as "üëç"
    (👍) alone on a mostly-English line. ftfy is the fallback when the file is not uniformly broken.
    """
    try:
        return text.encode("mac_roman").decode("utf-8")
    except UnicodeError:
        return ftfy.fix_text(text)


def clean_org(raw: str) -> str | None:
    """The organisation's full name without the count the scraper glued on; None for author-only cards."""
    raw = raw.strip()
    if not raw or _AUTHORS_ONLY.match(raw):
        return None
    for name in ORGS_ENDING_IN_DIGITS:
        if raw.startswith(name) and raw[len(name) :].isdigit():
            return name
    return re.sub(r"\d+$", "", raw).strip() or None


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def parse(text: str) -> tuple[str, list[dict[str, Any]]]:
    """The digest's date and its papers (rank, title, upvotes, organization, id, abstract)."""
    date = _DATE.search(text)
    if date is None:
        raise ValueError("seed has no 'title: … YYYY-MM-DD' front matter line")
    papers: list[dict[str, Any]] = []
    for line in text.splitlines():
        if head := _HEAD.match(line):
            papers.append({"rank": int(head[1]), "title": head[2].strip(), "upvotes": int(head[3])})
        elif papers and (field := _FIELD.match(line)):
            for key, value in field.groupdict().items():
                if value is not None:
                    papers[-1][key] = value.strip()
    for paper in papers:
        missing = {"hf", "arxiv", "abstract"} - paper.keys()
        if missing:
            raise ValueError(f"paper #{paper['rank']} lacks {', '.join(sorted(missing))}")
        if paper["hf"] != paper["arxiv"]:
            raise ValueError(f"paper #{paper['rank']}: HF id {paper['hf']} != arXiv id {paper['arxiv']}")
        paper["id"] = paper.pop("hf")
        del paper["arxiv"]
        paper["organization"] = clean_org(paper.pop("org", ""))
    if [p["rank"] for p in papers] != list(range(1, len(papers) + 1)):
        raise ValueError("seed ranks are not 1..N")
    total = _TOTAL.search(text)
    if total is None or int(total[1]) != len(papers):
        raise ValueError(f"seed announces {total and total[1]} papers but lists {len(papers)}")
    return date[1], papers


def to_api_items(date: str, papers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The papers as a /api/daily_papers response (fields the seed cannot supply are left out)."""
    when = f"{date}T00:00:00.000Z"
    items = []
    for p in papers:
        org = {"name": slug(p["organization"]), "fullname": p["organization"]} if p["organization"] else None
        paper: dict[str, Any] = {
            "id": p["id"],
            "authors": [],
            "publishedAt": when,
            "submittedOnDailyAt": when,
            "title": p["title"],
            "summary": p["abstract"],
            "upvotes": p["upvotes"],
        }
        item: dict[str, Any] = {
            "paper": paper,
            "publishedAt": when,
            "title": p["title"],
            "summary": p["abstract"],
            "thumbnail": f"https://cdn-thumbnails.huggingface.co/social-thumbnails/papers/{p['id']}.png",
            "numComments": 0,
            "isAuthorParticipating": False,
        }
        if org:
            paper["organization"] = dict(org)
            item["organization"] = dict(org)
        items.append(item)
    return items


def build(seed: Path) -> tuple[str, list[dict[str, Any]]]:
    date, papers = parse(repair(seed.read_text(encoding="utf-8")))
    return date, to_api_items(date, papers)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("seed", nargs="?", type=Path, default=DEFAULT_SEED, help="legacy seed post (.md)")
    parser.add_argument("--out", type=Path, help="default: samples/hf_daily_papers_<date>.json")
    args = parser.parse_args(argv)
    date, items = build(args.seed)
    out: Path = args.out or ROOT / "samples" / f"hf_daily_papers_{date}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(items, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {len(items)} papers to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
