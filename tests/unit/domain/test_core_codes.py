"""Backup codes as text: generation, display, and tolerant parsing of what users type."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.domain import codes

canonical_codes = st.text(alphabet=codes.ALPHABET, min_size=codes.MIN_LENGTH, max_size=codes.MAX_LENGTH)


def test_default_code_is_16_crockford_characters_carrying_80_bits() -> None:
    code = codes.generate_code(16)
    assert len(code) == 16
    assert set(code) <= set(codes.ALPHABET)
    assert len(code) * codes.BITS_PER_CHAR == 80


def test_secret_part_of_the_shortest_allowed_code_has_at_least_64_bits() -> None:
    assert codes.MIN_LENGTH == 15
    assert codes.secret_bits(codes.MIN_LENGTH) >= 64
    assert codes.secret_bits(codes.MIN_LENGTH - 1) < 64


def test_alphabet_is_crockford_base32_without_confusable_letters() -> None:
    assert len(codes.ALPHABET) == 32
    assert not set("ILOU") & set(codes.ALPHABET)


@given(count=st.integers(min_value=1, max_value=50), length=st.integers(min_value=15, max_value=32))
def test_generated_set_uses_only_the_alphabet_and_the_length(count: int, length: int) -> None:
    generated = codes.generate_set(count, length)
    assert len(generated) == count
    for code in generated:
        assert len(code) == length
        assert set(code) <= set(codes.ALPHABET)


@given(count=st.integers(min_value=1, max_value=50))
def test_selectors_are_unique_within_a_set(count: int) -> None:
    selectors = [codes.selector_of(code) for code in codes.generate_set(count, 16)]
    assert len(set(selectors)) == count


def test_generating_codes_shorter_than_64_secret_bits_is_refused() -> None:
    with pytest.raises(ValueError):
        codes.generate_set(10, 14)


def test_display_form_is_groups_of_four() -> None:
    assert codes.format_code("0123456789ABCDEF") == "0123-4567-89AB-CDEF"


@given(canonical_codes)
def test_display_form_parses_back_to_the_code(code: str) -> None:
    assert codes.parse(codes.format_code(code)) == code


@given(st.text(max_size=80))
def test_normalisation_is_idempotent(text: str) -> None:
    try:
        once = codes.normalise(text)
    except codes.MalformedCode:
        return
    assert codes.normalise(once) == once


@given(st.text(max_size=200))
def test_arbitrary_input_either_normalises_or_is_malformed(text: str) -> None:
    try:
        result = codes.parse(text)
    except codes.MalformedCode:
        return
    assert set(result) <= set(codes.ALPHABET)
    assert codes.MIN_LENGTH <= len(result) <= codes.MAX_LENGTH


@given(canonical_codes, st.data())
def test_normalisation_ignores_case_dashes_and_spaces(code: str, data: st.DataObject) -> None:
    typed = []
    for char in code:
        typed.append(char.lower() if data.draw(st.booleans()) else char)
        typed.append(data.draw(st.sampled_from(["", "", "-", " ", "  ", " - "])))
    text = "".join(typed)
    if len(text) > codes.MAX_INPUT_LENGTH:
        return
    assert codes.parse(text) == code


@given(canonical_codes, st.data())
def test_confusable_letters_read_as_the_digits_they_resemble(code: str, data: st.DataObject) -> None:
    swaps = {"0": ["O", "o"], "1": ["I", "i", "L", "l"]}
    typed = "".join(data.draw(st.sampled_from([c, *swaps[c]])) if c in swaps else c for c in code)
    assert codes.parse(typed) == code


def test_u_is_not_in_the_alphabet_and_makes_the_input_malformed() -> None:
    with pytest.raises(codes.MalformedCode):
        codes.parse("U123-4567-89AB-CDEF")


def test_input_longer_than_64_characters_is_malformed_even_if_mostly_dashes() -> None:
    with pytest.raises(codes.MalformedCode):
        codes.normalise("-" * 60 + "0123456789ABCDEF")


@pytest.mark.parametrize(
    "text", ["", "0123-4567", "0123456789ABCD", "0" * 33, "0123-4567-89AB-CDE!", "\uff10\uff11\uff12\uff13"]
)
def test_wrong_length_or_characters_are_malformed(text: str) -> None:
    with pytest.raises(codes.MalformedCode):
        codes.parse(text)


def test_split_gives_the_two_character_selector_and_the_secret() -> None:
    assert codes.split("0123456789ABCDEF") == ("01", "23456789ABCDEF")
