"""The controlled tag vocabulary: the shipped file, alias lookup, keyword rules, and validation."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from agent.errors import ConfigError
from agent.render import code_span, yaml_scalar
from agent.vocab import PROMPTS_DIR, Tag, Vocabulary, load_vocabulary


@pytest.fixture(scope="module")
def vocab() -> Vocabulary:
    return load_vocabulary()


def test_shipped_vocabulary(vocab: Vocabulary) -> None:
    assert Path(__file__).resolve().parents[1] / "prompts" == PROMPTS_DIR
    assert 30 <= len(vocab.tags) <= 60
    assert len(set(vocab.names)) == len(vocab.names)
    for must in [
        "LLM",
        "VLA",
        "RAG",
        "강화학습",
        "에이전트",
        "멀티모달",
        "컴퓨터 비전",
        "이미지 생성",
        "비디오 생성",
        "음성",
        "로보틱스",
        "월드 모델",
        "확산 모델",
        "추론",
        "코드 생성",
        "지식 증류",
        "효율화",
        "양자화",
        "안전성",
        "정렬",
        "평가/벤치마크",
        "데이터셋",
        "3D",
        "의료",
        "수학",
        "검색",
        "멀티에이전트",
        "확산 언어 모델",
    ]:
        assert must in vocab.names
    for tag in vocab.tags:
        assert tag.description and tag.keywords
        assert vocab.canonical(tag.name) == tag.name
        # Names go into code spans and YAML front matter unchanged.
        assert code_span(tag.name) == f"`{tag.name}`"
        assert yaml_scalar(tag.name) in (tag.name, f'"{tag.name}"')


@pytest.mark.parametrize(
    ("spelling", "name"),
    [
        ("RL", "강화학습"),
        ("reinforcement learning", "강화학습"),
        ("  Reinforcement   LEARNING ", "강화학습"),
        ("llm", "LLM"),
        ("LLMs", "LLM"),
        ("컴퓨터비전", "컴퓨터 비전"),
        ("Multi-Agent", "멀티에이전트"),
        ("multi_agent", "멀티에이전트"),
        ("vision-language-action", "VLA"),
        ("retrieval-augmented generation", "RAG"),
        ("knowledge distillation", "지식 증류"),
        ("benchmark", "평가/벤치마크"),
        ("ＬＬＭ", "LLM"),  # full-width
        ("blockchain", None),
        ("", None),
    ],
)
def test_canonical(vocab: Vocabulary, spelling: str, name: str | None) -> None:
    assert vocab.canonical(spelling) == name


def test_match_keywords_best_first_and_limited(vocab: Vocabulary) -> None:
    title = "Reinforcement Learning for Vision-Language-Action Robots"
    abstract = "We train a robot policy with RL and a world model."
    tags = vocab.match_keywords(title, abstract)
    assert len(tags) == 3
    assert set(tags) <= {"강화학습", "VLA", "로보틱스", "월드 모델"}
    assert "월드 모델" not in tags  # one abstract mention loses to title hits
    assert vocab.match_keywords(title, abstract, limit=1) == (tags[0],)
    assert vocab.match_keywords(title, abstract, limit=0) == ()
    assert vocab.match_keywords("On the history of pottery", "We study vases.") == ()


def test_title_outweighs_abstract() -> None:
    v = Vocabulary(
        [
            Tag("A", (), (r"\balpha\b",), "a"),
            Tag("B", (), (r"\bbeta\b",), "b"),
        ]
    )
    assert v.match_keywords("beta", "alpha alpha") == ("B", "A")
    assert v.match_keywords("", "alpha") == ()  # a single passing mention is not enough
    assert v.match_keywords("", "alpha alpha beta beta") == ("A", "B")  # ties: file order
    assert v.match_keywords("", "ALPHA Alpha") == ("A",)  # case-insensitive


def test_overlapping_keywords_count_once() -> None:
    v = Vocabulary([Tag("LLM", (), ("large language models?", "language models?"), "x")])
    # One mention matched by two keywords is still one abstract hit: below the threshold.
    assert v.match_keywords("", "a large language model") == ()


def test_case_sensitive_parts(vocab: Vocabulary) -> None:
    # "(?-i:...)" keeps acronyms from matching ordinary words.
    assert "강화학습" in vocab.match_keywords("Scaling RL for Agents", "")
    assert "강화학습" not in vocab.match_keywords("Url parsing, girl and curl", "")


def test_real_payload_is_mostly_tagged(vocab: Vocabulary, real_payload_path: Path) -> None:
    payload = json.loads(real_payload_path.read_text(encoding="utf-8"))
    tags = {
        item["paper"]["id"]: vocab.match_keywords(item["paper"]["title"], item["paper"]["summary"])
        for item in payload
    }
    assert sum(1 for t in tags.values() if t) >= 0.8 * len(tags)
    assert all(len(t) <= 3 and len(set(t)) == len(t) for t in tags.values())
    # Hand-checked papers.
    assert tags["2606.13681"][0] == "에이전트"  # EvoArena: Tracking Memory Evolution for Robust LLM Agents
    assert "메모리" in tags["2606.13681"]
    assert tags["2606.12243"][0] == "효율화"  # VIA-SD: ... Speculative Decoding
    assert "효율화" in tags["2606.13392"]  # MiniMax Sparse Attention
    assert {"로보틱스", "강화학습"} <= set(tags["2606.08039"])  # MuJoCo-Drones-Gym ... Reinforcement Learning
    assert {"안전성", "에이전트"} <= set(tags["2606.07867"])  # The Cold-Start Safety Gap in LLM Agents
    assert tags["2606.09304"][0] == "지식 증류"  # SG-OPD: Sign-Gated On-Policy Distillation
    # High-Fidelity Two-Step Image Generation via Teacher-Aligned End-to-End Distillation
    assert {"지식 증류", "이미지 생성"} <= set(tags["2606.12575"])
    assert "의료" in tags["2606.13572"]  # ArogyaSutra: ... Multimodal Medical Reasoning
    assert "안전성" not in tags["2606.12575"]  # "adversarial learning" is a GAN loss, not an attack


# --- validation -------------------------------------------------------------------------------------


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "tags.toml"
    path.write_text(body, encoding="utf-8")
    return path


TWO_TAGS = """
[[tag]]
name = "강화학습"
description = "RL"
aliases = ["RL"]
keywords = ['reinforcement learning']

[[tag]]
name = "{name}"
description = "x"
aliases = [{aliases}]
keywords = [{keywords}]
"""


@pytest.mark.parametrize(
    ("name", "aliases", "keywords", "message"),
    [
        ("로봇", '"rl"', "'robot'", "tag '로봇': 'rl' is already a name or alias of '강화학습'"),
        ("R-L", "", "'x'", "tag 'R-L': 'R-L' is already a name or alias of '강화학습'"),
        ("로봇", "", "'robot(s'", "tag '로봇': keyword 'robot(s' is not a valid regular expression"),
        ("로봇", "", "'(?:robot)?'", "tag '로봇': keyword '(?:robot)?' matches empty text"),
        ("로봇", "", "", "tag '로봇': needs at least one keyword rule"),
        ("a`b", "", "'x'", "tag 'a`b': a name may hold only"),
        ("로봇", '""', "'x'", "tag '로봇': empty alias"),
        ("강화학습", "", "'x'", "tag '강화학습': the name appears twice"),
        ("로봇", "", "'a', '(?i)b'", "tag '로봇': keywords do not combine into one rule"),
    ],
)
def test_bad_vocabulary_is_a_config_error(
    tmp_path: Path, name: str, aliases: str, keywords: str, message: str
) -> None:
    path = write(tmp_path, TWO_TAGS.format(name=name, aliases=aliases, keywords=keywords))
    with pytest.raises(ConfigError) as exc:
        load_vocabulary(path)
    assert message in str(exc.value)
    assert str(path) in str(exc.value)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("[[tag]]\nname = 'x'\nkeywords = ['x']\nweight = 2\n", "unknown key(s) weight"),
        ("[[tag]]\ndescription = 'no name'\nkeywords = ['x']\n", "needs a non-empty name"),
        ("[[tag]]\nname = 'x'\nkeywords = 'x'\n", "keywords must be a list of strings"),
        ("[other]\nx = 1\n", "expected only [[tag]] tables"),
        ("[[tag]\n", "cannot read tag vocabulary"),
    ],
)
def test_malformed_file_is_a_config_error(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_vocabulary(write(tmp_path, body))


def test_identical_tags_are_rejected() -> None:
    tag = Tag("LLM", (), ("llm",), "x")
    with pytest.raises(ConfigError, match="appears twice"):
        Vocabulary([tag, tag])


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_vocabulary(tmp_path / "nope.toml")


def test_an_edited_file_is_read_again_in_the_same_process(tmp_path: Path) -> None:
    path = tmp_path / "tags.toml"
    entry = '[[tag]]\nname = "{}"\naliases = []\nkeywords = ["x"]\ndescription = "d"\n'
    path.write_text(entry.format("AAA"), encoding="utf-8")
    assert load_vocabulary(path).names == ("AAA",)
    path.write_text(entry.format("BBB"), encoding="utf-8")  # same size; mtime may not even change
    assert load_vocabulary(path).names == ("BBB",)
