"""The faithfulness aid as a pure function: which tokens the desk marks, and which number is red."""

from __future__ import annotations

from agent.web.highlight import Span, faithfulness

ABSTRACT = (
    "We fine-tune Qwen2.5-7B on 1000 examples and improve accuracy by 24% over GPT-4, a 3.5x gain "
    "on three benchmarks."
)


def marked(spans: list[Span]) -> list[tuple[str, str, bool]]:
    return [(s.text, s.kind, s.missing) for s in spans if s.kind]


def test_numbers_and_names_are_marked_in_the_line_and_the_abstract() -> None:
    line, abstract = faithfulness("Qwen2.5-7B로 1,000개 예제를 써 정확도를 24% 높이고 3.5배 개선한다.", ABSTRACT)
    assert marked(line) == [
        ("Qwen2.5-7B", "name", False),
        ("1,000", "num", False),
        ("24%", "num", False),
        ("3.5", "num", False),
    ]
    assert marked(abstract) == [
        ("Qwen2.5-7B", "name", False),
        ("1000", "num", False),  # the same value, written without the comma
        ("24%", "num", False),
        ("3.5x", "num", False),
    ]
    keys = {s.key for s in line if s.kind}
    assert {s.key for s in abstract if s.kind} == keys


def test_a_number_the_abstract_lacks_is_missing_the_validators_way() -> None:
    line, _ = faithfulness("정확도를 37% 높이고 세 벤치마크에서 3개 과제를 푼다.", ABSTRACT)
    assert marked(line) == [("37%", "num", True), ("3", "num", False)]  # "three" in the abstract counts


def test_a_name_is_matched_case_insensitively_and_a_names_digits_are_not_a_number() -> None:
    line, abstract = faithfulness("gpt-4보다 4배 빠르다.", ABSTRACT)
    assert marked(line) == [("gpt-4", "name", False), ("4", "num", True)]
    assert marked(abstract) == [("GPT-4", "name", False)]


def test_the_spans_put_the_text_back_together() -> None:
    text = "<b>Alpha</b>는 {{ x }} 24%를"
    line, abstract = faithfulness(text, ABSTRACT)
    assert "".join(s.text for s in line) == text
    assert "".join(s.text for s in abstract) == ABSTRACT
    assert faithfulness("", ABSTRACT)[0] == []


def test_the_title_counts_as_the_validator_reads_it() -> None:
    line, _ = faithfulness("Delta는 7가지 기법을 쓴다.", "We propose Delta.", title="Delta: Seven Tricks")
    assert marked(line) == [("Delta", "name", False), ("7", "num", False)]
    line, _ = faithfulness("Delta는 7가지 기법을 쓴다.", "We propose Delta.", title="Delta: Reward Tricks")
    assert marked(line) == [("Delta", "name", False), ("7", "num", True)]
