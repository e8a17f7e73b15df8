"""Vietnamese number reading and the announcement sentence."""

from __future__ import annotations

import pytest

from hardware.voice import (
    VoiceSettings,
    digits_to_words,
    display_sentence,
    number_to_words,
    read_label,
    spoken_sentence,
)

CASES = {
    0: "không", 1: "một", 4: "bốn", 5: "năm", 10: "mười", 11: "mười một", 14: "mười bốn",
    15: "mười lăm", 20: "hai mươi", 21: "hai mươi mốt", 24: "hai mươi tư", 25: "hai mươi lăm",
    55: "năm mươi lăm", 100: "một trăm", 101: "một trăm linh một", 104: "một trăm linh bốn",
    105: "một trăm linh năm", 110: "một trăm mười", 115: "một trăm mười lăm",
    121: "một trăm hai mươi mốt", 1000: "một nghìn", 1005: "một nghìn không trăm linh năm",
    1010: "một nghìn không trăm mười", 1015: "một nghìn không trăm mười lăm",
    1024: "một nghìn không trăm hai mươi tư", 1100: "một nghìn một trăm",
    1234: "một nghìn hai trăm ba mươi tư", 2021: "hai nghìn không trăm hai mươi mốt",
    9999: "chín nghìn chín trăm chín mươi chín", 10005: "mười nghìn không trăm linh năm",
    1_000_000: "một triệu", 1_000_005: "một triệu không trăm linh năm",
    2_000_000_000: "hai tỷ",
}


@pytest.mark.parametrize(("number", "words"), CASES.items())
def test_numbers_read_the_vietnamese_way(number: int, words: str) -> None:
    assert number_to_words(number) == words


def test_southern_style_and_bad_input() -> None:
    assert number_to_words(1005, "south") == "một ngàn không trăm lẻ năm"
    assert number_to_words(105, "south") == "một trăm lẻ năm"
    with pytest.raises(ValueError):
        number_to_words(-1)


def test_num2words_is_not_good_enough() -> None:
    """Why numbers.py exists: num2words says "lẻ" and "bốn" and drops "không trăm"."""
    from num2words import num2words

    assert num2words(1024, lang="vi") != number_to_words(1024)


def test_labels() -> None:
    assert read_label("A012") == "A, mười hai"
    assert read_label("A012", number_mode="digits") == "A, không một hai"
    assert read_label("A012", read_prefix=False) == "mười hai"
    assert read_label("1025") == "một nghìn không trăm hai mươi lăm"
    assert read_label("ab-7") == "A B, bảy"
    assert read_label("A000") == "A, không"
    assert read_label("VIP") == "VIP"  # not letters + digits: said as written
    assert digits_to_words("1024") == "một không hai bốn"


def test_sentences_and_settings() -> None:
    assert spoken_sentence("1025", 3) == (
        "Xin mời công dân có số thứ tự một nghìn không trăm hai mươi lăm đến quầy số ba")
    assert display_sentence("A012", 12) == "Xin mời công dân có số thứ tự A012 đến quầy số 12"
    custom = VoiceSettings.from_settings({
        "announcement_template": "Mời số {number}, {lĩnh vực}, tới quầy {quầy} {0.__class__}",
        "announcement_number_mode": "digits", "announcement_repeat": 9,
        "announcement_espeak_speed": "fast"})
    assert custom.repeat == 3 and custom.espeak_speed == 150 and custom.number_mode == "digits"
    assert spoken_sentence("B7", 2, custom, "Đất đai") == (
        "Mời số B, bảy, Đất đai, tới quầy hai {0.__class__}")
    assert VoiceSettings.from_settings({}) == VoiceSettings()
