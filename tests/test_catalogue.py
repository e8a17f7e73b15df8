"""The English catalogue covers every Vietnamese text the code marks for translation.

Re-extracts the msgids with babel.cfg (Babel's Python API, no subprocess) and checks them
against the committed onestop/translations/en/LC_MESSAGES/messages.po. When this fails, run
the two commands at the top of babel.cfg and fill in the new msgstrs.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
PO = ROOT / "onestop" / "translations" / "en" / "LC_MESSAGES" / "messages.po"
# Babel's defaults (_, gettext, ngettext, N_, ...) plus what `pybabel extract -k` adds
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
# same as --ignore-dirs in babel.cfg (the default filter skips .* and _* too)
IGNORED_DIRS = {".venv", "node_modules", "tests", "static"}

# %(name)s, %s, %%, {name}, {0}, {số}, &nbsp;
PLACEHOLDER = re.compile(
    r"%\([^)]*\)[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]|%[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa%]"
    r"|\{[^{}]*\}|&(?:[A-Za-z]+|#\d+|#x[0-9A-Fa-f]+);"
)


def _keep_dir(path: str) -> bool:
    name = os.path.basename(path)
    return not (name.startswith((".", "_")) or name in IGNORED_DIRS)


def _extracted() -> dict[tuple[str | None, str], list[str]]:
    """(msgctxt, msgid) -> where it is used; for a plural the key holds the singular."""
    with open(ROOT / "babel.cfg", encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh, "babel.cfg")
    found: dict[tuple[str | None, str], list[str]] = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS, directory_filter=_keep_dir,
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        if msgid:
            found.setdefault((context, msgid), []).append(f"{filename}:{lineno}")
    return found


@pytest.fixture(scope="module")
def extracted() -> dict[tuple[str | None, str], list[str]]:
    return _extracted()


@pytest.fixture(scope="module")
def catalogue():
    with open(PO, "rb") as fh:
        return read_po(fh, locale="en")


def _placeholders(text: str) -> Counter[str]:
    return Counter(PLACEHOLDER.findall(text))


def test_extraction_finds_the_known_surfaces(extracted):
    files = {loc.split(":")[0] for locs in extracted.values() for loc in locs}
    for prefix in ("onestop/", "kiosk/", "counter/", "queue_display/templates/",
                   "kiosk/templates/", "counter/templates/", "onestop/templates/"):
        assert any(f.startswith(prefix) for f in files), f"nothing extracted under {prefix}"
    assert (None, "Thứ Hai") in extracted  # _l in kiosk/texts.py
    assert (None, "Đã tiếp nhận") in extracted  # N_ in onestop/dossiers/book.py


def test_every_extracted_message_has_english(extracted, catalogue):
    missing = []
    for (context, msgid), locations in sorted(extracted.items(), key=lambda kv: kv[1][0]):
        entry = catalogue.get(msgid, context=context)
        if entry is None:
            why = "not in the catalogue"
        elif entry.fuzzy:
            why = "fuzzy"
        else:
            strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
            why = "" if strings and all(s and s.strip() for s in strings) else "empty msgstr"
        if why:
            missing.append(f"  {locations[0]}: {msgid!r} ({why})")
    assert not missing, (
        f"{len(missing)} message(s) without English in {PO.relative_to(ROOT)}; run the "
        "extract/update commands in babel.cfg and translate them:\n" + "\n".join(missing)
    )


def test_translations_keep_placeholders(catalogue):
    bad = []
    for entry in catalogue:
        if not entry.id:
            continue
        ids = entry.id if isinstance(entry.id, tuple) else (entry.id,)
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        expected = _placeholders(ids[0])
        for i, text in enumerate(strings):
            if not text:
                continue
            # a plural's msgstr[0] may leave out the count (e.g. "one dossier")
            want = _placeholders(ids[min(i, len(ids) - 1)]) if len(ids) > 1 else expected
            got = _placeholders(text)
            if got != want and not (len(ids) > 1 and set(got) <= set(want)):
                bad.append(f"{ids[0]!r} -> {text!r}: {dict(want)} != {dict(got)}")
    assert not bad, "placeholders differ between msgid and msgstr:\n" + "\n".join(bad)


def test_no_fuzzy_entries(catalogue):
    fuzzy = [entry.id for entry in catalogue if entry.id and entry.fuzzy]
    assert not fuzzy, f"fuzzy entries are not compiled; review them: {fuzzy}"
