"""The per-date files, read and written: the snapshot (JSON, machine-written) and the review file (TOML,
human-editable), and the day as one unit (``Day``: both, merged) committed with its draft under the lock.

- ``<date>-snapshot.json``  machine-written by ``run``: the day's papers, the model's latest answers, the
  overview, the ids of the papers it was written from (``overview_ids``) and the fingerprint of their ids,
  summaries and tags (``overview_fingerprint``): the overview is shown only while the papers shown match it.
- ``<date>-review.toml``    the review state, human-editable and diff-friendly: one table per paper id.
- ``<date>-hf-daily-papers.md``  the draft, always rendered from snapshot + review state (editor text wins).

Where they live: agent.layout. Files change only under the date's lock (agent.lock), all of a change or none
(agent.fsutil.write_files); a hand save of the review file since it was read is never overwritten.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, get_args

from agent.checks import CheckError, Kind, check, spec_of, toml_error_at, toml_line
from agent.config import PostConfig
from agent.errors import BrokenFileError, NoRunError
from agent.fsutil import write_files
from agent.layout import Layout
from agent.models import Digest, DigestItem, Enrichment, Origin, Paper
from agent.models import Status as EnrichmentStatus
from agent.state import (
    STATUSES,
    ReviewEntry,
    ReviewState,
    effective_digest,
    merge_review,
)

if TYPE_CHECKING:
    from agent.vocab import Vocabulary


# -- the snapshot -------------------------------------------------------------------------------------


_PAPER_FIELDS = tuple(f.name for f in fields(Paper))


def _rank(item: DigestItem) -> int:
    return item.rank


def dump_snapshot(digest: Digest, overview_ids: Sequence[str], overview_fp: str) -> str:
    """The run's papers and model answers as the snapshot file holds them. ``overview_ids``: the papers
    the overview was written from; ``overview_fp``: their overview_fingerprint, so the draft and the post
    can tell when it no longer fits (a paper left out, or its summary or tags changed)."""
    data = {
        "date": digest.date.isoformat(),
        "total": digest.total,
        "overview": digest.overview,
        "overview_ids": list(overview_ids),
        "overview_fingerprint": overview_fp,
        "crawled_at": digest.crawled_at,
        # Paper's fields are plain values and tuples of str: no deep copy (asdict's) needed for json.
        "papers": [{k: getattr(it.paper, k) for k in _PAPER_FIELDS} for it in sorted(digest.items, key=_rank)],
        "enrichments": {it.paper.id: it.enrichment.to_json() for it in digest.items},
    }
    return json.dumps(data, ensure_ascii=False, indent=1) + "\n"


# What the snapshot's values must be (it is a file a person can damage), and which keys must be there.
_PAPER_SPEC = spec_of(Paper)
_ENRICHMENT_SPEC = spec_of(Enrichment, status=get_args(EnrichmentStatus), origin=get_args(Origin))
_SNAPSHOT_SPEC: dict[str, Kind] = {
    "date": "str", "total": "int", "overview": "str?", "overview_ids": "strs", "overview_fingerprint": "str",
    "crawled_at": "str?", "papers": "list", "enrichments": "table",
}  # fmt: skip


def _checked(raw: object, spec: Mapping[str, Kind], required: Sequence[str]) -> dict[str, Any]:
    return check(raw, spec, required=required, unknown_ok=True, what="an object")


def read_snapshot(layout: Layout, day: dt.date) -> tuple[tuple[Digest, tuple[str, ...], str], bytes]:
    """The snapshot's digest, the ids its overview was written from and their overview_fingerprint, and
    the file's bytes. NoRunError when it is missing, BrokenFileError naming the paper when it is damaged."""
    path = layout.snapshot(day)
    try:
        data = path.read_bytes()
        raw = json.loads(data.decode("utf-8"))
    except FileNotFoundError:
        raise NoRunError(day, path) from None
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        reason = "nested too deeply" if isinstance(exc, RecursionError) else exc
        raise BrokenFileError(day, path, f"cannot read it ({reason})", kind="snapshot") from None

    def damaged(problem: str) -> BrokenFileError:
        return BrokenFileError(day, path, problem, kind="snapshot")

    try:
        top = _checked(
            raw,
            _SNAPSHOT_SPEC,
            required=("date", "total", "papers", "enrichments", "overview_ids", "overview_fingerprint"),
        )
        if top["date"] != day.isoformat():
            raise ValueError(f"date is {top['date']!r}, not {day}")
    except ValueError as exc:
        raise damaged(str(exc)) from None
    items: list[DigestItem] = []
    for rank, entry in enumerate(top["papers"], 1):
        pid = entry.get("id") if isinstance(entry, dict) else None
        try:
            paper = Paper(**_checked(entry, _PAPER_SPEC, required=("id", "title", "abstract")))
            if any(it.paper.id == paper.id for it in items):
                raise ValueError("listed twice")
            if paper.id not in top["enrichments"]:
                raise ValueError("its enrichment is missing")
            try:
                e = _checked(top["enrichments"][paper.id], _ENRICHMENT_SPEC, required=("status", "origin"))
            except ValueError as exc:
                raise ValueError(f"enrichment: {exc}") from None
        except ValueError as exc:
            raise damaged(f"paper {pid if isinstance(pid, str) else f'#{rank}'}: {exc}") from None
        items.append(DigestItem(rank=rank, paper=paper, enrichment=Enrichment(**e)))
    digest = Digest(
        date=day, items=tuple(items), total=top["total"], overview=top.get("overview"), crawled_at=top.get("crawled_at")
    )
    return (digest, top["overview_ids"], top["overview_fingerprint"]), data


# -- the review file ----------------------------------------------------------------------------------


_KEY_ORDER = tuple(f.name for f in fields(ReviewEntry))
_ENTRY_SPEC = spec_of(ReviewEntry, status=STATUSES, previous_status=STATUSES)


def _header(day: dt.date) -> str:
    return (
        f"# paper-digest review state for {day}: one table per paper id, in rank order.\n"
        f"# status: {' | '.join(STATUSES)}\n"
        '# summary/tags are the editor\'s and win over model_summary/model_tags ("approved" with them is read\n'
        f'# as "edited"). Hand edits are fine; `paper-digest review {day} --edit ID --summary TEXT` also checks\n'
        f"# the text. needs-review is cleared with `paper-digest review {day} --approve ID`: a status set by\n"
        "# hand on a needs-review paper reverts at the next run.\n"
        "# Comments and formatting survive: paper-digest changes only the values it has to.\n\n"
    )


def _table_values(entry: ReviewEntry) -> dict[str, Any]:
    """The entry as the review file holds it: key order of ReviewEntry, empty values left out."""
    values: dict[str, Any] = {}
    for key in _KEY_ORDER:
        value = getattr(entry, key)
        if value is None or (key in ("title", "updated_at", "abstract_sha") and value == ""):
            continue
        values[key] = list(value) if isinstance(value, tuple) else value
    return values


def dump_review(state: ReviewState, previous: str | None = None) -> str:
    """The review file for ``state``. ``previous``: the file as it is (None: a new file). It is edited in
    place (tomlkit): only values that differ are rewritten, so an editor's comments, blank lines and
    formatting stay; a new paper's table goes at the end."""
    import tomlkit
    from tomlkit.items import Table

    doc = tomlkit.parse(previous if previous is not None else _header(state.date))
    for pid, entry in state.entries.items():
        values = _table_values(entry)
        table = doc.get(pid)
        if not isinstance(table, Table):
            table = tomlkit.table()
            for key, value in values.items():
                table.add(key, value)
            if pid in doc:
                doc[pid] = table
            else:
                doc.add(pid, table)
            continue
        for key in [k for k in table if k not in values]:
            del table[key]
        for key, value in values.items():
            if key not in table or table[key].unwrap() != value:
                table[key] = value
    return tomlkit.dumps(doc)


def load_review(layout: Layout, day: dt.date, vocab: Vocabulary | None = None) -> ReviewState | None:
    """The date's review state, None when there is none yet. A broken file raises ReviewError naming
    the file and the line; editor tags must be vocabulary names or aliases (mapped to the name)."""
    return read_review(layout, day, vocab)[0]


def read_review(
    layout: Layout, day: dt.date, vocab: Vocabulary | None = None
) -> tuple[ReviewState | None, bytes | None]:
    """The review state and the file's bytes as read (both None: no file yet)."""
    path = layout.review(day)
    try:
        data = path.read_bytes()
        text = data.decode("utf-8")
    except FileNotFoundError:
        return None, None
    except (OSError, UnicodeDecodeError) as exc:
        raise BrokenFileError(day, path, f"cannot read it ({exc})", kind="review file") from exc
    if vocab is None:
        from agent.vocab import load_vocabulary

        vocab = load_vocabulary()
    global _last_read
    last = _last_read
    if last is not None and last[0] == (path, day, data) and last[1] is vocab:
        state = last[2]
    else:
        state = parse_review(text, day, path=path, vocab=vocab)
        _last_read = ((path, day, data), vocab, state)
    return ReviewState(date=state.date, entries=dict(state.entries)), data


# The last review file parsed: `run` checks the file before it fetches and reads it again under the lock;
# the same bytes (and vocabulary) are not parsed twice. Parsing is a function of these alone.
_last_read: tuple[tuple[Path, dt.date, bytes], Vocabulary, ReviewState] | None = None


def parse_review(text: str, day: dt.date, *, path: Path, vocab: Vocabulary | None = None) -> ReviewState:
    """The review state in ``text`` (the review file at ``path``); BrokenFileError naming the line."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line, problem = toml_error_at(exc)
        raise BrokenFileError(day, path, f"invalid TOML: {problem}", kind="review file", line=line) from exc
    except RecursionError:
        raise BrokenFileError(day, path, "values nested too deeply", kind="review file") from None
    if vocab is None:
        from agent.vocab import load_vocabulary

        vocab = load_vocabulary()
    entries: dict[str, ReviewEntry] = {}
    for pid, table in raw.items():
        if not isinstance(table, dict):
            line = toml_line(text, None, pid) or 1
            raise BrokenFileError(day, path, f'{pid!r} must be a table ["<paper id>"]', kind="review file", line=line)
        entries[pid] = _entry_from_table(pid, table, text, day, path, vocab)
    return ReviewState(date=day, entries=entries)


def _entry_from_table(
    pid: str, table: dict[str, Any], text: str, day: dt.date, path: Path, vocab: Vocabulary
) -> ReviewEntry:
    def fail(key: str | None, problem: str) -> BrokenFileError:
        return BrokenFileError(day, path, problem, kind="review file", line=toml_line(text, pid, key) or 1, paper=pid)

    try:
        values = check(table, _ENTRY_SPEC, required=("status",))
    except CheckError as exc:
        raise fail(exc.key, str(exc)) from None
    # Set only by paper-digest: "flagged" with the reason the model's answer failed, "vanished" with the
    # status to restore. Set by hand they would silently turn back into "pending" at the next merge.
    if values["status"] == "flagged" and values.get("flag_reason") is None:
        raise fail(
            "status",
            'status "flagged" is set by paper-digest with its reason (use pending, approved, edited or rejected)',
        )
    if values["status"] == "vanished" and values.get("previous_status") is None:
        raise fail(
            "status",
            'status "vanished" is set by paper-digest for a paper that left the day (use '
            "rejected to leave a paper out)",
        )
    if values.get("tags") is not None:
        # Names and aliases become the names; an unknown tag is kept as typed, so the table and the publish
        # gate report it on this entry (a forced publish leaves it out) instead of the file failing to load.
        values["tags"] = tuple(dict.fromkeys(vocab.canonical(t) or t.strip() for t in values["tags"] if t.strip()))
    if values.get("summary") is not None or values.get("tags") is not None:
        # The editor's text wins (the header says so): "approved" would publish the model's instead.
        for key in ("status", "previous_status"):
            if values.get(key) == "approved":
                values[key] = "edited"
    return ReviewEntry(**values)


# -- the day as one unit ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Day:
    """A date's snapshot and review state as read, merged. ``version`` identifies the files as read (a hash
    of the review file's and the snapshot's bytes): a form built from one version can tell it is stale."""

    digest: Digest  # the snapshot
    state: ReviewState  # merged with the snapshot
    vocab: Vocabulary
    overview_ids: tuple[str, ...]  # the papers the snapshot's overview was written from
    overview_fp: str  # their overview_fingerprint
    review_bytes: bytes | None  # its bytes as read: a hand save since then is never overwritten
    as_read: ReviewState | None = None  # the review file's state as read (None: no file yet)
    snapshot_bytes: bytes | None = None  # the snapshot's bytes as read (None: a run's, not yet written)

    @property
    def version(self) -> str:
        return files_version(self.review_bytes, self.snapshot_bytes)

    @property
    def date(self) -> dt.date:
        return self.state.date

    def final(self) -> Digest:
        """What the post would show."""
        return effective_digest(self.digest, self.state, final=True, overview_fp=self.overview_fp)


def files_version(review_bytes: bytes | None, snapshot_bytes: bytes | None) -> str:
    h = hashlib.sha256()
    for data in (review_bytes, snapshot_bytes):
        h.update(b"-" if data is None else b"+%d:" % len(data) + data)
    return h.hexdigest()[:16]


def open_day(layout: Layout, day: dt.date) -> Day:
    """Snapshot + review state, merged (the state file may not exist yet). Reads only."""
    from agent.vocab import load_vocabulary

    vocab = load_vocabulary()
    (digest, overview_ids, overview_fp), snapshot_bytes = read_snapshot(layout, day)
    parsed, review_bytes = read_review(layout, day, vocab)
    return Day(
        digest=digest,
        state=merge_review(parsed, digest),
        as_read=parsed,
        vocab=vocab,
        overview_ids=overview_ids,
        overview_fp=overview_fp,
        review_bytes=review_bytes,
        snapshot_bytes=snapshot_bytes,
    )


def render_draft(day: Day, post: PostConfig) -> str:
    from agent.render import render_post

    shown = effective_digest(day.digest, day.state, final=False, overview_fp=day.overview_fp)
    return render_post(shown, post, final=False)


def commit(
    layout: Layout,
    day: Day,
    post: PostConfig,
    *,
    snapshot: bool = False,
    draft: bool = True,
    extra: Sequence[tuple[Path, str]] = (),
    remove: Sequence[Path] = (),
) -> str:
    """Render everything first (a render failure writes nothing), then write snapshot, state, draft and
    ``extra`` (and remove ``remove``) as one change (agent.fsutil.write_files: all or none; a file whose bytes
    are unchanged is left alone). Call under the lock, with ``day`` as read under it: nothing is written if
    someone saved the review file since it was read (FileChangedError).
    Returns the version of the day's files as written (``Day.version`` of the next open_day)."""
    date = day.date
    state_file = layout.review(date)
    files = []
    review_bytes, snapshot_bytes = day.review_bytes, day.snapshot_bytes
    if snapshot:
        text = dump_snapshot(day.digest, day.overview_ids, day.overview_fp)
        files.append((layout.snapshot(date), text))
        snapshot_bytes = text.encode("utf-8")
    # An unchanged state leaves the file alone without rendering it: a warm nightly run then does not pay
    # for importing tomlkit (~25 ms). A changed one is edited in place, comments and formatting kept.
    if day.as_read is None or list(day.as_read.entries.items()) != list(day.state.entries.items()):
        previous = day.review_bytes.decode("utf-8") if day.review_bytes is not None else None
        text = dump_review(day.state, previous)
        files.append((state_file, text))
        review_bytes = text.encode("utf-8")
    stamp = None
    if draft:
        # A warm re-run leaves the draft as it is without rendering it (or importing jinja2) when the draft
        # on disk carries the stamp of the same inputs and still has the bytes that render wrote.
        path, key = layout.draft(date), _render_key(day, post)
        if not _stamped(path, key):
            text = render_draft(day, post)
            files.append((path, text))
            stamp = (path, key, hashlib.sha256(text.encode("utf-8")).hexdigest())
    write_files([*files, *extra], expect={state_file: day.review_bytes}, remove=remove)
    if stamp is not None:
        _stamp(*stamp)
    return files_version(review_bytes, snapshot_bytes)


# -- the draft's render stamp -----------------------------------------------------------------------------
# An extended attribute on the draft: the hash of what it was rendered from (the day's digest and merged
# state, the overview fingerprint, the post settings and the code that renders) and the hash of the bytes
# written. Only a draft whose attribute matches both is left unrendered; a draft edited, replaced or copied
# without it, a file system without user attributes, or any change of input is rendered as before.
_STAMP_ATTR = "user.paper-digest.draft"
_code_stamp: str | None = None


def _code_fingerprint() -> str:
    """The rendering code as installed: every file of the agent package (modules, templates) and the
    template engine's, by size and modification time, and the Python version."""
    global _code_stamp
    if _code_stamp is None:
        import importlib.util
        import os
        import sys

        roots = [Path(__file__).resolve().parent]
        for name in ("jinja2", "markupsafe"):
            spec = importlib.util.find_spec(name)
            if spec is not None and spec.origin:
                roots.append(Path(spec.origin).parent)
        h = hashlib.sha256(sys.version.encode())
        for root in roots:
            for folder, dirs, names in os.walk(root):
                dirs[:] = sorted(d for d in dirs if d != "__pycache__")
                for name in sorted(names):
                    st = os.stat(os.path.join(folder, name))
                    h.update(f"{folder}/{name}:{st.st_size}:{st.st_mtime_ns}\n".encode())
        _code_stamp = h.hexdigest()
    return _code_stamp


def _render_key(day: Day, post: PostConfig) -> str:
    import os
    import zoneinfo

    h = hashlib.sha256(_code_fingerprint().encode())
    for base in zoneinfo.TZPATH:  # the post's time zone rules, as the system has them
        with contextlib.suppress(OSError, ValueError):
            st = os.stat(os.path.join(base, post.timezone))
            h.update(f"{base}/{post.timezone}:{st.st_size}:{st.st_mtime_ns}".encode())
            break
    # crawled_at (the fetch time, new at every run) is not shown in the draft, only in the data file.
    shown = replace(day.digest, crawled_at=None)
    for part in (repr(shown), repr(day.state), day.overview_fp, repr(post)):
        h.update(b"\0%d:" % len(part) + part.encode("utf-8", "surrogatepass"))
    return h.hexdigest()


def _stamped(path: Path, key: str) -> bool:
    import os

    try:
        value = os.getxattr(path, _STAMP_ATTR).decode("ascii")
        data = path.read_bytes()
    except (OSError, AttributeError, UnicodeDecodeError):  # no draft, no attribute, no support (macOS: no getxattr)
        return False
    return value == f"{key} {hashlib.sha256(data).hexdigest()}"


def _stamp(path: Path, key: str, digest: str) -> None:
    import os

    with contextlib.suppress(OSError, AttributeError):  # then the next run renders the draft again
        os.setxattr(path, _STAMP_ATTR, f"{key} {digest}".encode("ascii"))
