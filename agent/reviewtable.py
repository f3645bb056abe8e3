"""The review table for a pull request or a script (``review DATE --format markdown|json``), and the check
of a hand-edited review file (``review DATE --check``). Rows come from agent.review.review_rows; nothing
here reads or writes a day's files except ``check_day``, which only reads.

Markdown: a GitHub table (rank, title, status, summary, tags, why the editor must look). Payload text goes
through the post's own escaping (agent.render.escape_markdown: entities for Liquid/HTML characters,
backslashes for Markdown ones, ``|`` included, one line) and tags through its code spans, so no title,
summary or reason can add a link, an image, HTML or a table cell to the pull request. Long text is not
wrapped: GitHub wraps a cell's text to the page's width itself, while a ``<br>`` every N characters breaks a
one-sentence summary mid-phrase at any other width. ``<br>`` only separates two texts in one cell (the new
model's answer, several reasons): the only HTML in the table is ours.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent.config import Config
from agent.layout import Layout
from agent.render import Escaped, code_span, escape_markdown, safe_url

if TYPE_CHECKING:
    from agent.review import ReviewRow as Row

STATUS_LABEL = {
    "pending": "⏳ pending",
    "approved": "✅ approved",
    "edited": "✏️ edited",
    "rejected": "🚫 rejected",
    "flagged": "⚠️ flagged",
    "needs-review": "🔁 needs-review",
    "vanished": "👻 vanished",
}


def _cell(text: str | None) -> str:
    """Payload text escaped as in the post, on one line (not wrapped: see the module's docstring)."""
    return escape_markdown(text) if text else ""


def _title(row: Row) -> str:
    url = safe_url(f"https://huggingface.co/papers/{row.id}")
    title = _cell(row.title) or escape_markdown(f"arXiv {row.id}")
    return f"[{title}]({url}) {code_span(row.id)}" if url else title


def markdown_table(rows: Sequence[Row]) -> str:
    """The GitHub Markdown table of ``rows`` (one line per paper)."""
    lines = [
        "| # | 논문 | 상태 | 한 줄 요약 | 태그 | 사유 |",
        "| ---: | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        summary = _cell(row.summary)
        if row.model_differs and row.new_model_summary:
            summary += f"{'<br>' if summary else ''}*새 모델 답:* {_cell(row.new_model_summary)}"
        reasons = [r for r in (row.flag_reason, *row.problems) if r]
        cells = [
            str(row.rank) if row.rank is not None else "—",
            _title(row),
            STATUS_LABEL.get(row.status, escape_markdown(row.status)),
            summary,
            Escaped(", ".join(c for c in map(code_span, row.tags) if c)),
            "<br>".join(_cell(r) for r in reasons),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def rows_json(day: dt.date, rows: Sequence[Row]) -> str:
    """The rows as JSON for a script: plain text, not escaped."""
    data = {
        "date": day.isoformat(),
        "papers": [{**_as_dict(row), "url": f"https://huggingface.co/papers/{row.id}"} for row in rows],
    }
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def _as_dict(row: Row) -> dict[str, Any]:
    if dataclasses.is_dataclass(row) and not isinstance(row, type):
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(row).items()}
    return dict(vars(row))


# -- the check of a hand-edited review file -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem of a day's files: where (``path``, 1-based ``line`` or None) and what."""

    path: Path
    line: int | None
    message: str


_HEADER = re.compile(r'^\s*\[\s*"(?P<id>[^"]+)"\s*\]\s*(?:#.*)?$')
_KEY = re.compile(r"^\s*(?P<key>[A-Za-z_]+)\s*=")


def line_of(text: str, paper_id: str, key: str | None = None) -> int | None:
    """1-based line of ``key`` in the review file's table ``["paper_id"]``, else of the table's header."""
    header: int | None = None
    for n, line in enumerate(text.splitlines(), 1):
        m = _HEADER.match(line)
        if m:
            if header is not None:
                break  # the next table: key not found in ours
            if m.group("id") == paper_id:
                header = n
            continue
        if header is not None and key is not None and (k := _KEY.match(line)) and k.group("key") == key:
            return n
    return header


def _problem_line(text: str, paper_id: str, problem: str) -> int | None:
    """The line of the value a publish problem ("summary: …" or "tags: …") is about: the editor's
    ``summary``/``tags`` when the table has them (they win), else the model's; else the table's header."""
    key = problem.partition(":")[0]
    if key not in ("summary", "tags"):
        return line_of(text, paper_id)
    header = line_of(text, paper_id)
    for name in (key, f"model_{key}"):
        if (line := line_of(text, paper_id, name)) != header:
            return line
    return header


def check_day(layout: Layout, day: dt.date, cfg: Config) -> list[Finding]:
    """Everything that would stop ``publish`` for ``day``, located in its review file: a file that does not
    parse (its line), papers not reviewed yet (their status line), summaries or tags that fail the checks
    and papers that would go out without a summary (their table). [] when the day would publish."""
    from agent.errors import BrokenFileError, NoRunError
    from agent.publish import publish_blockers

    review = layout.review(day)
    try:
        blockers = publish_blockers(layout, day, cfg)
    except BrokenFileError as exc:
        where = f"paper {exc.paper}: " if exc.paper else ""
        return [Finding(exc.path, exc.line, f"{where}{exc.problem}")]
    except NoRunError as exc:
        return [Finding(exc.path, None, f"no run recorded for {day}")]
    if not blockers:
        return []
    try:
        text = review.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        text = ""
    from agent.store import open_day

    entries = open_day(layout, day).state.entries
    findings: list[Finding] = []
    for blocker in blockers:
        if blocker.kind == "unreviewed":
            for pid in blocker.ids:
                status = entries[pid].status if pid in entries else "pending"
                findings.append(Finding(review, line_of(text, pid, "status"), f"{pid}: {status}, not reviewed yet"))
        elif blocker.kind == "failed-checks":
            for pid, problems in blocker.problems.items():
                for problem in problems:
                    findings.append(Finding(review, _problem_line(text, pid, problem), f"{pid}: {problem}"))
        elif blocker.kind == "missing-summaries":
            for pid in blocker.ids:
                findings.append(Finding(review, line_of(text, pid), f"{pid}: would be published without a summary"))
        else:
            findings.append(Finding(review, 1, blocker.describe()))
    return findings
