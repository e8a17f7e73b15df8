"""The announcement languages on /admin/display (issue 23 item 2): chosen in order from the
languages the hall has a voice for, reaching the displays' config.json, audited, and a
"Nghe thử" per language that this server really says (/kiosk/say.wav)."""

from __future__ import annotations

import html
import re

from tests.backoffice.conftest import assert_audited, signed_in, submit, text_of
from tests.backoffice.test_settings import DISPLAY


def test_languages_in_order_reach_the_display_and_each_has_a_sample(app, client):
    admin = signed_in(app, "admin")
    page = text_of(admin.get("/admin/display"))
    assert 'name="announcement_lang_1"' in page and 'name="announcement_lang_2"' in page
    assert re.search(r'<option selected value="vi">Tiếng Việt</option>', page), "Vietnamese first by default"

    samples = re.findall(r'data-voice-sample="([^"]+)"[^>]*data-lang="(\w+)"', page)
    assert [lang for _, lang in samples] == ["vi", "en"]
    for url, lang in samples:
        res = client.get(html.unescape(url))
        assert res.status_code == 200 and res.mimetype == "audio/wav", (lang, res.status_code)
        assert res.data[:4] == b"RIFF" and len(res.data) > 8000  # a sentence, not a blip
    assert "Number A012, please come to counter 3." in page

    res = submit(admin, "/admin/display", {**DISPLAY, "announcement_lang_1": "en",
                                           "announcement_lang_2": "vi"})
    assert res.status_code == 302
    assert client.get("/display/config.json").get_json()["announcement_languages"] == ["en", "vi"]
    entry = assert_audited(app, admin, "unit_settings", "update", announcement_languages=["en", "vi"])
    assert entry.before["announcement_languages"] == ["vi"]

    # one language only; the same twice counts once; an unknown one is dropped
    submit(admin, "/admin/display", {**DISPLAY, "announcement_lang_1": "vi", "announcement_lang_2": ""})
    assert client.get("/display/config.json").get_json()["announcement_languages"] == ["vi"]
    submit(admin, "/admin/display", {**DISPLAY, "announcement_lang_1": "en", "announcement_lang_2": "en"})
    assert client.get("/display/config.json").get_json()["announcement_languages"] == ["en"]
    submit(admin, "/admin/display", {**DISPLAY, "announcement_lang_1": "xx", "announcement_lang_2": "vi"})
    assert client.get("/display/config.json").get_json()["announcement_languages"] == ["vi"]


def test_say_refuses_what_it_should_not_say(client):
    assert client.get("/kiosk/say.wav?text=&lang=vi").status_code == 400
    assert client.get("/kiosk/say.wav?text=Hello&lang=fr").status_code == 400
    assert client.get("/kiosk/say.wav?lang=vi&text=" + "a" * 301).status_code == 400
