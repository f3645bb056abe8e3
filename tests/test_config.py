"""Configuration: defaults, the file, the environment over the file, and one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.config import DEFAULT_MODEL, Price, load_config
from agent.errors import ConfigError
from agent.sources import HFApiSource, source_for


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "paper-digest.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    cfg = load_config(env={})
    assert cfg.llm.model == DEFAULT_MODEL and cfg.llm.concurrency == 4
    assert cfg.post.timezone == "Asia/Seoul" and cfg.post.categories == ("Daily Papers", "일간")
    assert cfg.hf_endpoint == "https://huggingface.co" and cfg.cache_dir is None


def test_the_project_file_loads() -> None:
    cfg = load_config(Path(__file__).resolve().parents[1] / "paper-digest.toml", env={})
    assert cfg.post.author and cfg.llm.prices["gpt-4.1-mini"] == Price(0.40, 1.60, 0.10)


def test_file_values_and_environment_overrides(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[post]\nauthor = "편집자"\ntop_n = 5\n[hf]\nmax_attempts = 2\nbackoff_s = 0.1\n'
        '[llm]\nmodel = "gpt-4o-mini"\n[llm.prices]\n"my-model" = { input = 1, output = 2 }\n',
    )
    cfg = load_config(path, env={"PAPER_DIGEST_MODEL": "my-model", "HF_ENDPOINT": "http://127.0.0.1:9"})
    assert cfg.post.author == "편집자" and cfg.post.top_n == 5
    assert cfg.llm.model == "my-model" and cfg.llm.prices["my-model"] == Price(1.0, 2.0)
    assert cfg.llm.prices["gpt-4.1"] == Price(2.00, 8.00, 0.50)  # defaults kept beside the file's
    source = source_for(None, cfg.hf_endpoint, None, max_attempts=cfg.hf_max_attempts, backoff_s=cfg.hf_backoff_s)
    assert isinstance(source, HFApiSource)
    assert source.describe().startswith("http://127.0.0.1:9/api/daily_papers")


@pytest.mark.parametrize(
    "text, message",
    [
        ("[post]\nauthr = 'x'\n", "line 2: [post] unknown key(s) authr; known: author, "),
        ("[postt]\n", "unknown section(s) postt"),
        ("[post]\ntimezone = 'Mars/Base'\n", "is not a known time zone"),
        ("[post]\npost_time = 'nine'\n", "post_time must be a time like 09:15:00"),
        ("[post]\npost_time = '25:99'\n", "post_time must be a time like 09:15:00"),
        ("[post]\npost_time = '09:15:00.5'\n", "post_time must be a time like 09:15:00"),
        ("[post]\npost_time = '0915'\n", "post_time must be a time like 09:15:00"),
        ("[llm]\ntemperature = inf\n", "[llm] temperature must be a number from 0 to 2, not inf"),
        ("[llm]\ntimeout_s = nan\n", "[llm] timeout_s must be a number"),
        ("[llm]\nbudget_usd = -1\n", "[llm] budget_usd must be a number from 0"),
        ("[llm]\nbudget_usd = nan\n", "[llm] budget_usd must be a number from 0"),
        ("[llm]\nmax_retries = -1\n", "max_retries must be 0 or more"),
        ('[llm.prices]\n"m" = { input = nan, output = 1 }\n', "prices must be finite"),
        ("[post]\ntop_n = '5'\n", "line 2: [post] top_n must be a whole number, not a string; fix the file."),
        ("[post]\nauthor = 5\n", "[post] author must be a string, not a number"),
        ("[post]\nbase_tags = 'abc'\n", "[post] base_tags must be a list of strings"),
        ("hf = 1\n", "[hf] must be a table of settings"),
        ("[hf]\nmax_attempts = 'x'\n", "[hf] max_attempts must be a whole number"),
        ("[output]\ndir = 5\n", "[output] dir must be a string"),
        ("[llm]\nprices = 3\n", "line 2: [llm] prices must be a table, not a number"),
        ("[llm]\ntemperature = true\n", "[llm] temperature must be a number"),
        ("# settings\n\n[hf]\nretries = 3\n", "line 4: [hf] unknown key(s) retries"),
        ("[llm.prices]\nx = { input = 1 }\n", "expected {input = USD/1M, output = USD/1M}"),
        ("[post\n", "cannot read config"),
    ],
)
def test_bad_files_are_one_line_config_errors(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, text), env={})
    assert message in str(err.value)
    assert "\n" not in str(err.value).strip()


def test_an_explicit_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.toml", env={})
