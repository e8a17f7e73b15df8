"""The hall display's media pane in Chromium against a real server: the playlist plays in
its order (images, QR cards, a muted video), and a video is paused while a call is being
announced, then goes on. The video is a real MP4 recorded by Chromium itself (MediaRecorder
from a canvas), uploaded through the API like an administrator would."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest

from tests.display.test_browser import Api, Server, open_page
from tests.media import samples

RECORD_MP4 = """async () => {
  const c = document.createElement('canvas'); c.width = 160; c.height = 90;
  document.body.append(c);
  const ctx = c.getContext('2d');
  const rec = new MediaRecorder(c.captureStream(15), {mimeType: 'video/mp4;codecs=avc1'});
  const chunks = [];
  rec.ondataavailable = (e) => chunks.push(e.data);
  let i = 0;
  const draw = setInterval(() => {
    ctx.fillStyle = i++ % 2 ? '#c00' : '#00c';
    ctx.fillRect(0, 0, 160, 90);
  }, 60);
  rec.start();
  await new Promise((r) => setTimeout(r, 2500));
  rec.stop();
  await new Promise((r) => { rec.onstop = r; });
  clearInterval(draw);
  const bytes = new Uint8Array(await new Blob(chunks).arrayBuffer());
  let s = ''; for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, browser: Any) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("media"))
    srv.start()
    srv.unit_settings(announcement_repeat=1)
    try:
        yield srv
    finally:
        srv.stop()


def recorded_mp4(browser: Any) -> bytes:
    page = browser.new_page()
    try:
        return base64.b64decode(page.evaluate(RECORD_MP4))
    finally:
        page.close()


def upload(api: Api, data: bytes, name: str, title: str) -> dict[str, Any]:
    import requests

    res = requests.post(f"{api.base}/api/v1/media", headers=api.headers, timeout=10,
                        files={"file": (name, data)}, data={"title": title})
    assert res.status_code == 201, res.text
    return dict(res.json())


def playlist(api: Api, items: list[dict[str, Any]], zone: str = "") -> None:
    api.post("/playlists", zone=zone, items=items)


def test_the_playlist_plays_in_order_in_the_media_pane(server: Server, browser: Any) -> None:
    api = Api(server.base)
    red = upload(api, samples.image("PNG", (320, 180), "#b91c1c"), "do.png", "Ảnh đỏ")
    blue = upload(api, samples.image("WEBP", (320, 180), "#1d4ed8"), "xanh.webp", "Ảnh xanh")
    playlist(api, [{"media_id": red["id"], "seconds": 1}, {"kind": "qr_cards", "seconds": 1},
                   {"media_id": blue["id"], "seconds": 1}], zone="P")
    outside: list[str] = []
    page = open_page(browser, f"{server.base}/display/?voice=chime&zone=P", server.base, outside,
                     (1920, 1080))
    page.wait_for_function("() => (window.__media || []).length >= 5", timeout=20000)
    shown = page.evaluate("window.__media.map(m => m.kind + ':' + (m.url || ''))")
    assert shown[:4] == [f"image:{red['url']}", "qr_cards:", f"image:{blue['url']}", f"image:{red['url']}"]
    assert page.is_visible("#media") and page.get_attribute("#hall", "class").count("has-media") == 1
    assert outside == []
    page.close()


def test_a_video_is_muted_and_paused_while_a_call_is_announced(server: Server, browser: Any) -> None:
    api = Api(server.base)
    video = upload(api, recorded_mp4(browser), "huong-dan.mp4", "Hướng dẫn nộp hồ sơ")
    assert video["kind"] == "video"
    playlist(api, [{"media_id": video["id"]}])  # the whole hall's (zone P has its own)
    outside: list[str] = []
    page = open_page(browser, f"{server.base}/display/?voice=chime", server.base, outside, (1920, 1080))
    playing = ("() => { const v = document.querySelector('#media video');"
               " return !!v && !v.paused && v.currentTime > 0; }")
    page.wait_for_function(playing, timeout=15000)
    assert page.evaluate("document.querySelector('#media video').muted") is True
    api.post("/counters/1/open")
    ticket = api.issue(1)
    api.post("/counters/1/call-next")
    # while the chime plays (voice still null): the video stands still
    page.wait_for_function("""() => {
      const a = window.__announcements || [];
      const v = document.querySelector('#media video');
      return a.length === 1 && a[0].voice === null && v && v.paused;
    }""", timeout=5000)
    still = page.evaluate("document.querySelector('#media video').currentTime")
    page.wait_for_timeout(300)
    if page.evaluate("window.__announcements[0].voice") is None:
        assert page.evaluate("document.querySelector('#media video').currentTime") == still
    page.wait_for_function("() => window.__announcements[0].voice !== null", timeout=15000)
    assert page.evaluate("window.__announcements[0].label") == ticket["label"]
    page.wait_for_function(playing, timeout=10000)  # and it goes on afterwards
    assert outside == []
    page.close()


def test_a_call_is_announced_in_each_language_in_order(server: Server, browser: Any) -> None:
    import sqlite3

    with sqlite3.connect(server.data_dir / "onestop.sqlite3") as con:
        con.execute("UPDATE units SET settings = json_set(settings, '$.announcement_languages',"
                    " json('[\"vi\", \"en\"]'))")
    outside: list[str] = []
    page = open_page(browser, f"{server.base}/display/?voice=chime", server.base, outside, (1920, 1080))
    api = Api(server.base)
    api.post("/counters/2/open")
    ticket = api.issue(1)
    api.post("/counters/2/call-next")
    page.wait_for_function("() => (window.__announcements || []).some(a => a.langs.length === 2)",
                           timeout=15000)
    said = [a for a in page.evaluate("window.__announcements") if a["label"] == ticket["label"]][0]
    assert [entry["lang"] for entry in said["langs"]] == ["vi", "en"]
    assert said["langs"][0]["text"].startswith("Xin mời công dân có số thứ tự")
    assert said["langs"][1]["text"] == f"Number {ticket['label']}, please come to counter 2."
    page.close()
