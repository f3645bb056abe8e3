"""`make bench` reports a missed target and still exits 0 unless --check (issue 12 item 17). The benchmark
itself is not run here (it takes a minute); its result is stubbed."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import bench.__main__ as bench_main  # noqa: E402


def stub(passed: bool) -> dict[str, Any]:
    return {"targets": {"llm_part": {"ratio": 1.3, "max": 1.15, "pass": passed}, "warm": {"pass": True}}}


@pytest.mark.parametrize(("passed", "check", "code"), [(False, False, 0), (False, True, 1), (True, True, 0)])
def test_a_missed_target_is_printed_and_fails_only_with_check(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path, passed: bool, check: bool,
    code: int,
) -> None:  # fmt: skip
    monkeypatch.setattr(bench_main, "bench", lambda args: stub(passed))
    monkeypatch.setattr(bench_main, "table", lambda result: "(table)")
    argv = ["--out", str(tmp_path / "r.json"), *(["--check"] if check else [])]
    assert bench_main.main(argv) == code
    out = capsys.readouterr().out
    if passed:
        assert "all targets met" in out and "MISSED" not in out
    else:
        assert 'MISSED target llm_part: {"ratio": 1.3, "max": 1.15, "pass": false}' in out
