"""The validator against the hand-written case table (tests/quality/cases.tsv): good Korean one-liners over
real abstracts must pass, and every bad one whose defect class has a rule must be rejected.

Prints the confusion matrix (``pytest -s tests/test_validate_cases.py``). Fails when more than 2 % of the
good lines are rejected or when any line of a class with a rule is accepted. Rows over the 2026-06-12
reference payload (../shared) are skipped when it is absent; the sample day's rows always run.
"""

from __future__ import annotations

import json
import tomllib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import REAL_PAYLOAD, ROOT, SAMPLE

from agent.clean import normalize
from agent.validate import validate_summary

CASES = Path(__file__).parent / "quality" / "cases.tsv"
MAX_GOOD_REJECTED = 0.02
# Defects no rule can see (the LLM check --verify is for these): reported, never required.
WITHOUT_RULE = {"wrong_quantity", "other_paper", "addition"}
# Every other class names a rule of agent/validate.py; a new class must be added here with its rule.
WITH_RULE = {
    "number", "number_word", "unit", "model_name", "sota", "first", "hype", "english", "quotes", "markup",
    "emoji", "two_sentences", "comma_splice", "register", "filler", "translationese", "length", "spacing",
}  # fmt: skip


@dataclass(frozen=True)
class Case:
    line_no: int
    ref: str
    good: bool
    defect: str
    text: str


def _cases() -> list[Case]:
    cases = []
    for n, row in enumerate(CASES.read_text(encoding="utf-8").splitlines(), 1):
        if not row.strip() or row.startswith("#"):
            continue
        ref, label, defect, text = row.split("\t")
        assert label in ("good", "bad"), f"line {n}: label {label!r}"
        assert (defect == "-") == (label == "good"), f"line {n}: a bad line names its defect, a good one '-'"
        assert label == "good" or defect in WITH_RULE | WITHOUT_RULE, f"line {n}: unknown class {defect!r}"
        cases.append(Case(n, ref, label == "good", defect, text))
    return cases


def _abstracts() -> dict[str, str]:
    """Title + abstract by paper id, cleaned as the run cleans them (what enrich validates against)."""
    texts = {}
    for path in (SAMPLE, REAL_PAYLOAD):
        if path.exists():
            papers, _ = normalize(json.loads(path.read_text(encoding="utf-8")))
            texts |= {p.id: p.title + "\n" + p.abstract for p in papers}
    return texts


def _lengths() -> tuple[int, int]:
    style = tomllib.loads((ROOT / "prompts" / "style.toml").read_text(encoding="utf-8"))["summary"]
    return style["min_chars"], style["max_chars"]


def test_case_table_confusion_matrix() -> None:
    cases = _cases()
    abstracts = _abstracts()
    runnable = [c for c in cases if c.ref in abstracts]
    missing = {c.ref for c in cases} - abstracts.keys()
    if missing and not REAL_PAYLOAD.exists():
        assert all(ref.startswith("2606.") for ref in missing), missing
    else:
        assert not missing, f"cases refer to unknown papers: {sorted(missing)}"
    if not runnable:
        pytest.skip("no abstracts for the case table")
    min_chars, max_chars = _lengths()

    matrix: Counter[tuple[bool, bool]] = Counter()  # (labelled good, accepted)
    by_class: Counter[tuple[str, bool]] = Counter()
    wrong: list[str] = []
    for case in runnable:
        abstract = abstracts[case.ref]
        problems = validate_summary(case.text, abstract=abstract, min_chars=min_chars, max_chars=max_chars)
        accepted = not problems
        matrix[case.good, accepted] += 1
        if not case.good:
            by_class[case.defect, accepted] += 1
        if case.good and not accepted:
            wrong.append(f"  good rejected (line {case.line_no}): {case.text}\n    {problems}")
        elif not case.good and accepted and case.defect in WITH_RULE:
            wrong.append(f"  bad accepted, {case.defect} (line {case.line_no}): {case.text}")

    good = matrix[True, True] + matrix[True, False]
    bad = matrix[False, True] + matrix[False, False]
    print(f"\ncase table: {len(runnable)} of {len(cases)} rows ({good} good, {bad} bad)")
    print("                 accepted  rejected")
    print(f"  labelled good  {matrix[True, True]:8d}  {matrix[True, False]:8d}")
    print(f"  labelled bad   {matrix[False, True]:8d}  {matrix[False, False]:8d}")
    for defect in sorted({d for d, _ in by_class}):
        rule = "no rule" if defect in WITHOUT_RULE else ""
        caught, total = by_class[defect, False], by_class[defect, False] + by_class[defect, True]
        print(f"  {defect:15s} caught {caught}/{total} {rule}")
    print("\n".join(wrong))

    assert matrix[True, False] <= MAX_GOOD_REJECTED * good, "too many good lines rejected:\n" + "\n".join(wrong)
    assert not [w for w in wrong if "bad accepted" in w], "defects with a rule accepted:\n" + "\n".join(wrong)
