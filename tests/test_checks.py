"""One checker for the files a person writes (config, review file, vocabulary) and the snapshot."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from agent.checks import CheckError, check, spec_of, toml_line
from agent.errors import ConfigError
from agent.models import Paper
from agent.vocab import _parse_vocabulary


def test_a_dataclass_gives_the_spec_so_a_new_field_is_checked_too() -> None:
    spec = spec_of(Paper)
    assert set(spec) == {f.name for f in dataclasses.fields(Paper)}
    assert spec["upvotes"] == "int" and spec["github_stars"] == "int?" and spec["authors"] == "strs"
    with pytest.raises(CheckError, match="^github_stars must be a whole number or null, not a string$"):
        check({"id": "1", "github_stars": "12"}, spec)


def test_values_are_converted_and_problems_name_the_key() -> None:
    spec = {"n": "number", "tags": "strs", "status": ("a", "b")}
    assert check({"n": 1, "tags": ["x"], "status": "a"}, spec) == {"n": 1.0, "tags": ("x",), "status": "a"}
    with pytest.raises(CheckError) as exc:
        check({"n": 1, "extra": 2}, spec)
    assert exc.value.key == "extra" and str(exc.value) == "unknown key(s) extra; known: n, status, tags"
    with pytest.raises(CheckError, match=r"^unknown status 'c' \(use one of: a, b\)$"):
        check({"status": "c"}, spec)


def test_toml_line_finds_keys_in_tables_and_arrays_of_tables() -> None:
    text = '# c\n[post]\nauthor = "x"\n\n[[tag]]\nname = "a"\n\n[[tag]]\nname = "b"\nkeywords = 1\n["2606.1"]\nx = 1\n'
    assert toml_line(text, "post", "author") == 3
    assert toml_line(text, ("tag", 1), "keywords") == 10
    assert toml_line(text, ("tag", 1), None) == 8
    assert toml_line(text, "2606.1", "x") == 12
    assert toml_line(text, "nope", "x") is None


def test_a_vocabulary_problem_names_its_line() -> None:
    text = '[[tag]]\nname = "a"\nkeywords = ["a"]\n\n[[tag]]\nname = "b"\nkeywords = "b"\n'
    with pytest.raises(ConfigError) as exc:
        _parse_vocabulary(Path("tags.toml"), text)
    assert str(exc.value) == (
        "tags.toml line 7: tag 'b': keywords must be a list of strings, not a string; fix the file."
    )
