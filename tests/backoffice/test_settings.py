"""Display, voice and rating settings: saved in the unit's settings, read by the screens."""

from __future__ import annotations

from typing import Any

from onestop.units.models import UNIT_DEFAULTS, Unit
from tests.api.helpers import in_db
from tests.backoffice.conftest import assert_audited, audit_count, field_errors, signed_in, submit, text_of

DISPLAY = {"display_notice": "Thứ Bảy 28/11 làm việc buổi sáng", "display_recent_calls": "4",
           "display_highlight_seconds": "10",
           "announcement_template": "Mời công dân số {số} đến quầy {quầy}", "announcement_repeat": "1",
           "announcement_number_mode": "words", "announcement_style": "south",
           "announcement_voice": "browser", "announcement_espeak_speed": "150",
           "announcement_chime": "y"}


def settings(app: Any) -> dict[str, Any]:
    with in_db(app) as session:
        unit = session.get(Unit, 1)
        assert unit is not None
        return dict(unit.settings or {})


def test_notice_and_voice_reach_the_display(app, client):
    admin = signed_in(app, "admin")
    assert submit(admin, "/admin/display", DISPLAY).status_code == 302
    config = client.get("/display/config.json").get_json()
    assert config["notice"] == "Thứ Bảy 28/11 làm việc buổi sáng"
    assert config["recent_calls"] == 4 and config["highlight_seconds"] == 10
    assert config["voice"] == "browser" and config["repeat"] == 1
    entry = assert_audited(app, admin, "unit_settings", "update",
                           display_notice="Thứ Bảy 28/11 làm việc buổi sáng", announcement_style="south")
    assert entry.before["display_notice"] == "" and entry.before["announcement_style"] == "north"
    assert entry.after["announcement_read_prefix"] is False  # unticked box
    assert "announcement_chime" not in entry.after  # unchanged (ticked before and after)
    assert "Thứ Bảy 28/11 làm việc buổi sáng" in text_of(admin.get("/admin/display"))


def test_display_mistakes_change_nothing(app):
    admin = signed_in(app, "admin")
    before, audits = settings(app), audit_count(app)
    cases = [({"announcement_template": "Mời số {số}"}, "Câu mời phải có {số} và {quầy}."),
             ({"display_recent_calls": "50"}, "Giá trị phải từ 0 đến 12."),
             ({"announcement_voice": "robot"}, "Lựa chọn không hợp lệ."),
             ({"display_notice": "x" * 1001}, "Dài tối đa 1000 ký tự.")]
    for overrides, message in cases:
        res = submit(admin, "/admin/display", {**DISPLAY, **overrides})
        assert res.status_code == 422 and message in field_errors(res), (overrides, field_errors(res))
    assert settings(app) == before and audit_count(app) == audits


def test_rating_scale_and_reasons(app, client):
    admin = signed_in(app, "admin")
    assert len(client.get("/api/v1/ratings/scale").get_json()) == 3
    reasons = "Chờ lâu\n\nNhân viên chưa nhiệt tình\nChờ lâu\n"
    res = submit(admin, "/admin/ratings", {"rating_scale": "5", "rating_timeout_seconds": "45",
                                          "rating_reasons": reasons})
    assert res.status_code == 302
    stored = settings(app)
    assert stored["rating_scale"] == "5" and stored["rating_timeout_seconds"] == 45
    assert stored["rating_reasons"] == ["Chờ lâu", "Nhân viên chưa nhiệt tình"]
    assert len(client.get("/api/v1/ratings/scale").get_json()) == 5
    entry = assert_audited(app, admin, "unit_settings", "update", rating_scale="5")
    assert entry.before["rating_reasons"] == UNIT_DEFAULTS["rating_reasons"]
    res = submit(admin, "/admin/ratings", {"rating_scale": "7", "rating_timeout_seconds": "5",
                                          "rating_reasons": "  \n"})
    assert res.status_code == 422
    assert set(field_errors(res)) == {"Lựa chọn không hợp lệ.", "Giá trị phải từ 10 đến 300.",
                                      "Cần từ 1 đến 12 lý do."}
    assert settings(app)["rating_scale"] == "5"
