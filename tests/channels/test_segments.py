"""SMS segment counting: GSM-7 160/153, extension characters double, UCS-2 70/67."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from channels.segments import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    count_segments,
    is_gsm7,
    smart_normalize,
)


@pytest.mark.parametrize(
    ("length", "segments"), [(1, 1), (160, 1), (161, 2), (306, 2), (307, 3), (459, 3)]
)
def test_gsm7_text_takes_160_chars_alone_then_153_per_part(length, segments):
    info = count_segments("a" * length)

    assert info.encoding == "GSM-7"
    assert info.segments == segments


def test_an_empty_text_takes_no_segment():
    assert count_segments("").segments == 0


def test_extension_characters_count_double():
    info = count_segments("{" * 80)

    assert info.encoding == "GSM-7"
    assert info.units == 160
    assert info.segments == 1
    assert count_segments("{" * 81).segments == 2


def test_the_euro_sign_is_gsm7_but_counts_double():
    assert count_segments("€").units == 2


def test_an_extension_character_is_not_split_across_parts():
    # 152 plain + one 2-septet char = 154 septets > 153: the escape pair moves to part 2
    text = "a" * 152 + "[" + "a" * 10

    assert count_segments(text).segments == 2
    assert count_segments("a" * 152 + "[" + "a" * 152).segments == 3


def test_one_non_gsm_character_switches_the_whole_text_to_ucs2():
    info = count_segments("Thank you \u2014 Alex")

    assert info.encoding == "UCS-2"
    assert info.non_gsm == ("\u2014",)


@pytest.mark.parametrize(("length", "segments"), [(70, 1), (71, 2), (134, 2), (135, 3)])
def test_ucs2_text_takes_70_alone_then_67_per_part(length, segments):
    assert count_segments("\u00e7" * length).segments == segments  # c-cedilla is not GSM-7


def test_an_emoji_takes_two_ucs2_units():
    info = count_segments("\U0001f600")

    assert info.encoding == "UCS-2"
    assert info.units == 2
    assert count_segments("\U0001f600" * 35).segments == 1
    assert count_segments("\U0001f600" * 36).segments == 2


def test_an_emoji_is_not_split_across_parts():
    # 134 units would fit 2 x 67, but the emoji cannot straddle parts 1 and 2
    text = "\u00e7" * 66 + "\U0001f600" + "\u00e7" * 66

    assert count_segments(text).units == 134
    assert count_segments(text).segments == 3


def test_smart_normalize_replaces_typographic_punctuation_with_gsm7():
    text = "\u201cIt\u2019s great\u201d \u2013 see you\u2026"

    assert smart_normalize(text) == '"It\'s great" - see you...'
    assert is_gsm7(smart_normalize(text))


def test_smart_normalize_leaves_real_non_gsm_characters_alone():
    assert smart_normalize("Merci \u00e7a va \U0001f600") == "Merci \u00e7a va \U0001f600"


gsm_text = st.text(alphabet=sorted(GSM7_BASIC | GSM7_EXTENSION), max_size=700)
plain_gsm_text = st.text(alphabet=sorted(GSM7_BASIC), max_size=700)


@given(plain_gsm_text)
def test_plain_gsm7_segments_follow_the_formula(text):
    expected = 0 if not text else 1 if len(text) <= 160 else math.ceil(len(text) / 153)

    assert count_segments(text).segments == expected


@given(gsm_text)
def test_the_segments_always_hold_the_units(text):
    info = count_segments(text)

    assert info.segments * info.per_segment >= info.units
    assert (info.segments == 0) == (text == "")


@given(st.text(max_size=400), st.text(max_size=50))
def test_appending_never_reduces_the_segment_count(text, more):
    before = count_segments(text)
    after = count_segments(text + more)

    if before.encoding == after.encoding:
        assert after.segments >= before.segments
