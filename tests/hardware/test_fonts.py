"""Font discovery and glyph coverage: a printed slip must have no missing-glyph boxes."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from hardware import fonts
from hardware.printing.render import TicketSlip, ticket_lines
from tests.hardware.conftest import FIELD, UNIT

DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
DEJAVU_BOLD = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
SUBSETS = [d / "be-vietnam-pro-vietnamese-400-normal.woff2" for d in fonts._FONTSOURCE_DIRS]
VIETNAMESE_SUBSET = next((p for p in SUBSETS if p.is_file()), None)


def test_alphabet_is_complete_and_precomposed() -> None:
    # 29 letters + f j w z, 12 vowels x 5 tones, both cases
    assert len(fonts.VIETNAMESE_LETTERS) == 2 * (26 + 7 + 60)
    assert all(len(unicodedata.normalize("NFC", ch)) == 1 for ch in fonts.VIETNAMESE_LETTERS)
    for word in ("ĐƯỢC", "được", "Nguyễn", "Hòa", "Phục", "hỏi", "ngã", "ỵ"):
        assert set(word) <= set(fonts.VIETNAMESE_LETTERS)


@pytest.mark.parametrize("bold", [False, True])
def test_found_font_covers_every_vietnamese_letter(bold: bool) -> None:
    spec = fonts.find_font(bold)
    assert fonts.missing_glyphs(fonts.REQUIRED, spec) == []


def test_unit_name_and_field_have_no_missing_glyphs(slip: TicketSlip) -> None:
    for bold in (False, True):
        spec = fonts.find_font(bold)
        assert fonts.missing_glyphs(UNIT + FIELD, spec) == []
        assert fonts.missing_glyphs("".join(ticket_lines(slip).values()), spec) == []


@pytest.mark.skipif(not DEJAVU.is_file(), reason="fonts-dejavu-core is not installed")
def test_dejavu_covers_vietnamese_and_the_checker_sees_a_real_gap() -> None:
    assert fonts.covers(UNIT + FIELD, DEJAVU)
    assert fonts.covers(fonts.REQUIRED, DEJAVU_BOLD)
    assert fonts.missing_glyphs("Hòa Bình 漢字", DEJAVU) == ["漢", "字"]


def test_decomposed_input_is_checked_as_composed_text() -> None:
    decomposed = unicodedata.normalize("NFD", UNIT)
    assert len(decomposed) > len(UNIT)
    assert fonts.missing_glyphs(decomposed, fonts.find_font()) == []


@pytest.mark.skipif(VIETNAMESE_SUBSET is None, reason="Be Vietnam Pro not fetched (npm ci)")
def test_a_single_fontsource_subset_is_not_enough_so_the_subsets_are_chained() -> None:
    assert VIETNAMESE_SUBSET is not None
    # the woff2 loads (FreeType with brotli) but holds only the Vietnamese extras
    assert fonts.missing_glyphs("Hòa", VIETNAMESE_SUBSET) == ["H", "ò", "a"]  # ò is Latin-1
    assert fonts.missing_glyphs("ệ", VIETNAMESE_SUBSET) == []
    spec = fonts.find_font()
    assert spec.name.startswith("Be Vietnam Pro") and len(spec.paths) == 3


@pytest.mark.skipif(VIETNAMESE_SUBSET is None, reason="Be Vietnam Pro not fetched (npm ci)")
def test_configured_font_without_full_coverage_is_skipped() -> None:
    assert fonts.find_font(configured=VIETNAMESE_SUBSET).paths != (str(VIETNAMESE_SUBSET),)


@pytest.mark.skipif(not DEJAVU.is_file(), reason="fonts-dejavu-core is not installed")
def test_configured_font_comes_first() -> None:
    assert fonts.find_font(configured=str(DEJAVU)).paths == (str(DEJAVU),)


def test_chain_draws_each_character_from_a_file_that_has_it() -> None:
    chain = fonts.load_font(fonts.find_font(), 24)
    runs = chain.runs(UNIT)
    assert "".join(part for _, part in runs) == UNIT
    for face, part in runs:
        path = chain.spec.paths[chain.faces.index(face)]
        assert fonts.missing_glyphs(part, path) == []
    assert chain.length("Hòa Bình") > chain.length("Hòa")


def test_no_usable_font_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fonts, "_FONTSOURCE_DIRS", ())
    monkeypatch.setattr(fonts, "_SYSTEM_FONTS", {False: (), True: ()})
    fonts._find.cache_clear()
    try:
        with pytest.raises(fonts.FontNotFound, match="fonts-dejavu-core"):
            fonts.find_font(configured="/nonexistent/font.ttf")
    finally:
        fonts._find.cache_clear()
