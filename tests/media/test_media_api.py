"""POST /api/v1/media: the bytes decide what a file is (never its name), the size is capped;
files are served by us with their type and a long cache; playlists keep their order and
their dates; /display/playlist is what a hall display plays today."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import pytest

from onestop.media.content import NotMedia, sniff
from tests.api.helpers import assert_error, ok
from tests.conftest import bearer, demo_app, token_for
from tests.media import samples


@pytest.fixture
def media_app(tmp_path: Path) -> Any:
    with demo_app(tmp_path, MEDIA_MAX_MB=0.05) as application:  # 50 KiB: an "oversized" file is small
        yield application


@pytest.fixture
def admin(media_app: Any) -> tuple[Any, dict[str, str]]:
    client = media_app.test_client()
    return client, bearer(token_for(client, "admin"))


def upload(client: Any, headers: dict[str, str], data: bytes, name: str, title: str | None = None) -> Any:
    form: dict[str, Any] = {"file": (io.BytesIO(data), name)}
    if title is not None:
        form["title"] = title
    return client.post("/api/v1/media", data=form, headers=headers, content_type="multipart/form-data")


@pytest.mark.parametrize("fmt,kind,mime", [("PNG", "image", "image/png"), ("JPEG", "image", "image/jpeg"),
                                           ("WEBP", "image", "image/webp")])
def test_an_image_is_kept_and_served_with_its_type_and_a_long_cache(admin: Any, media_app: Any, fmt: str,
                                                                     kind: str, mime: str) -> None:
    client, headers = admin
    data = samples.image(fmt)
    made = ok(upload(client, headers, data, "anh.bin", "Giờ làm việc"), 201)  # the name says nothing
    assert made["kind"] == kind and made["url"].startswith("/media/") and made["id"] >= 1
    served = client.get(made["url"])
    assert served.status_code == 200 and served.mimetype == mime and served.data == data
    cache = served.headers["Cache-Control"]
    assert "immutable" in cache and "max-age=31536000" in cache
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    on_disk = Path(media_app.config["DATA_DIR"]) / "media" / made["url"].rsplit("/", 1)[1]
    assert on_disk.read_bytes() == data


def test_an_mp4_is_a_video_and_is_served_in_ranges(admin: Any) -> None:
    client, headers = admin
    made = ok(upload(client, headers, samples.mp4(), "clip"), 201)
    assert made["kind"] == "video"
    part = client.get(made["url"], headers={"Range": "bytes=0-7"})
    assert part.status_code == 206 and part.data == samples.mp4()[:8] and part.mimetype == "video/mp4"


@pytest.mark.parametrize("data,name", [
    (samples.EXECUTABLE, "anh-dep.png"),  # a renamed executable
    (b"Xin chao, day la van ban thuong.\n" * 20, "video.mp4"),  # a text file named .mp4
    (samples.image("PNG")[:60], "cut.png"),  # a PNG cut short
    (samples.image("GIF"), "a.gif"),  # a real image, but not one of the three
    (samples.mp4(b"qt  ", b"qt  "), "quicktime.mp4"),  # ISO-BMFF, but a QuickTime brand
    (samples.mp4()[:-5], "cut.mp4"),  # boxes that do not reach their end
    (b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "x.png"),
])
def test_what_is_not_really_an_image_or_an_mp4_is_refused_whatever_its_name(admin: Any, media_app: Any,
                                                                            data: bytes, name: str) -> None:
    client, headers = admin
    assert_error(upload(client, headers, data, name), 415, "unsupported_media")
    assert ok(client.get("/api/v1/media", headers=headers))["media"] == []
    assert not list((Path(media_app.config["DATA_DIR"]) / "media").glob("*"))


def test_an_oversized_file_is_refused(admin: Any) -> None:
    client, headers = admin
    big = samples.image("PNG", (2000, 2000))  # a real PNG above 50 KiB? make sure
    big = big if len(big) > 60_000 else big + b"\x00" * 60_000
    assert_error(upload(client, headers, big, "lon.png"), 413, "payload_too_large")
    assert ok(client.get("/api/v1/media", headers=headers))["media"] == []


def test_only_admins_upload(media_app: Any) -> None:
    client = media_app.test_client()
    data = samples.image()
    assert_error(upload(client, {}, data, "a.png"), 401)
    assert_error(upload(client, bearer(token_for(client, "manager")), data, "a.png"), 403)
    assert_error(client.post("/api/v1/media", data={"title": "x"}, headers=bearer(token_for(client, "admin")),
                             content_type="multipart/form-data"), 400, "bad_request")


def test_decompression_bombs_are_not_images() -> None:
    with pytest.raises(NotMedia):
        sniff(samples.image("PNG", (9000, 9000), "white"))  # 81 Mpx of nothing


def test_playlists_keep_their_order_and_play_only_within_their_dates(admin: Any) -> None:
    client, headers = admin
    first = ok(upload(client, headers, samples.image("PNG", colour="red"), "1.png", "Một"), 201)
    second = ok(upload(client, headers, samples.mp4(), "2.mp4", "Hai"), 201)
    third = ok(upload(client, headers, samples.image("JPEG", colour="green"), "3.jpg", "Ba"), 201)
    today = dt.date.today()
    day = dt.timedelta(days=1)
    items = [{"media_id": third["id"], "seconds": 5},
             {"media_id": first["id"], "start_date": (today + day).isoformat()},  # from tomorrow
             {"kind": "qr_cards", "seconds": 12},
             {"media_id": second["id"], "end_date": (today - day).isoformat()},  # ended yesterday
             {"media_id": second["id"], "start_date": (today - day).isoformat(),
              "end_date": (today + day).isoformat()},
             {"media_id": first["id"]}]
    stored = ok(client.post("/api/v1/playlists", json={"items": items}, headers=headers))
    assert [i["media_id"] for i in stored["items"]] == [third["id"], first["id"], None, second["id"],
                                                        second["id"], first["id"]]
    plays = ok(client.get("/api/v1/display/playlist"))["items"]  # public
    assert [(p["kind"], p.get("title"), p["seconds"]) for p in plays] == [
        ("image", "Ba", 5), ("qr_cards", None, 12), ("video", "Hai", None), ("image", "Một", 10)]
    cards = plays[1]["cards"]
    assert 1 <= len(cards) <= 6 and cards[0]["qr"].startswith("data:image/png;base64,")
    assert "/kiosk/procedures/" in cards[0]["url"]
    # a zone of its own plays its own list; a zone without one plays the hall's
    ok(client.post("/api/v1/playlists", json={"zone": "B", "items": [{"media_id": second["id"]}]},
                   headers=headers))
    assert [p["kind"] for p in ok(client.get("/api/v1/display/playlist?zone=B"))["items"]] == ["video"]
    assert len(ok(client.get("/api/v1/display/playlist?zone=C"))["items"]) == 4
    # deleting a medium takes it out of every playlist
    assert client.delete(f"/api/v1/media/{second['id']}", headers=headers).status_code == 204
    plays = ok(client.get("/api/v1/display/playlist"))["items"]
    assert [p["kind"] for p in plays] == ["image", "qr_cards", "image"]
    assert ok(client.get("/api/v1/display/playlist?zone=B"))["items"][0]["kind"] == "image"  # the hall's now
    assert client.get(second["url"]).status_code == 404


def test_bad_playlists_are_refused(admin: Any) -> None:
    client, headers = admin
    made = ok(upload(client, headers, samples.image(), "a.png"), 201)
    for items in ([{"media_id": 999}], [{"kind": "qr_cards", "media_id": made["id"]}],
                  [{"media_id": made["id"], "start_date": "2026-05-02", "end_date": "2026-05-01"}],
                  [{"media_id": made["id"], "seconds": 0}]):
        res = client.post("/api/v1/playlists", json={"items": items}, headers=headers)
        assert res.status_code == 422, (items, res.get_data(as_text=True))


def test_the_back_office_page_uploads_lists_plays_and_deletes(media_app: Any) -> None:
    from tests.backoffice.conftest import csrf_from, login

    client = media_app.test_client()
    login(client, "admin")
    page = client.get("/admin/media")
    assert page.status_code == 200 and "Chưa có ảnh, video nào." in page.get_data(as_text=True)
    token = csrf_from(page.get_data(as_text=True))
    res = client.post("/admin/media", data={"csrf_token": token, "title": "Lịch làm việc",
                                            "file": (io.BytesIO(samples.image()), "lich.png")},
                      content_type="multipart/form-data")
    assert res.status_code == 302
    res = client.post("/admin/media", data={"csrf_token": token, "title": "Giả",
                                            "file": (io.BytesIO(samples.EXECUTABLE), "gia.png")},
                      content_type="multipart/form-data")
    assert res.status_code == 422 and "không phải ảnh PNG, JPEG, WebP" in res.get_data(as_text=True)
    page = client.get("/admin/media").get_data(as_text=True)
    assert "Lịch làm việc" in page and "Giả" not in page
    headers = bearer(token_for(media_app.test_client(), "admin"))
    media_id = ok(media_app.test_client().get("/api/v1/media", headers=headers))["media"][0]["id"]
    for item in (str(media_id), "qr"):
        res = client.post("/admin/media/playlist", data={"csrf_token": token, "zone": "", "item": item,
                                                         "seconds": "8"})
        assert res.status_code == 302, res.get_data(as_text=True)[:300]
    plays = ok(client.get("/api/v1/display/playlist"))["items"]
    assert [(p["kind"], p["seconds"]) for p in plays] == [("image", 8), ("qr_cards", 8)]
    assert client.post("/admin/media/playlist/0/delete", data={"csrf_token": token}).status_code == 302
    assert [p["kind"] for p in ok(client.get("/api/v1/display/playlist"))["items"]] == ["qr_cards"]
    assert client.post(f"/admin/media/{media_id}/delete", data={"csrf_token": token}).status_code == 302
    assert "Chưa có ảnh, video nào." in client.get("/admin/media").get_data(as_text=True)
