"""Kiosk page weight (DESIGN §7): first load of the lobby kiosk with an empty cache.

Target: the home screen with all its assets <= 300 KB on the wire, and no request leaving
the server (an office LAN often has no Internet). Measured in Debian's Chromium through the
DevTools protocol: the sum of ``Network.loadingFinished.encodedDataLength`` (bytes received,
headers included) over every request of a fresh browser context, paired as a kiosk (device
cookie), after the page, its fonts and its first data have loaded. The catalogue page is
measured the same way, for information.

    python -m bench.kiosk_weight     # writes bench/results/kiosk_weight.json
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench.common import Server, free_port, machine_info, prepare_centre, write_json

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TARGET_KB = 300.0
PAGES = {"home": "/kiosk/", "catalogue": "/kiosk/procedures"}


def _measure(browser: Any, base: str, path: str, kiosk_token: str) -> dict[str, Any]:
    """One first load in a fresh context (empty cache): bytes per request, outside requests."""
    context = browser.new_context(viewport={"width": 1080, "height": 1920})
    context.add_cookies([{"name": "onestop_device", "value": kiosk_token, "url": base}])
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    urls: dict[str, str] = {}
    sizes: dict[str, float] = {}
    cdp.on("Network.requestWillBeSent", lambda e: urls.__setitem__(e["requestId"], e["request"]["url"]))
    cdp.on("Network.loadingFinished",
           lambda e: sizes.__setitem__(e["requestId"], float(e["encodedDataLength"])))
    started = time.perf_counter()
    page.goto(base + path, wait_until="networkidle")
    page.evaluate("document.fonts.ready.then(() => true)")
    page.wait_for_timeout(300)  # anything the fonts or the first refresh asked for
    seconds = time.perf_counter() - started
    context.close()
    host = urlsplit(base).netloc
    rows: list[dict[str, Any]] = sorted(
        ({"url": urls.get(rid, "?").replace(base, ""), "bytes": int(size)} for rid, size in sizes.items()),
        key=lambda r: -int(r["bytes"]))
    outside = sorted({u for u in urls.values()
                      if not u.startswith("data:") and urlsplit(u).netloc != host})
    total = sum(int(r["bytes"]) for r in rows)
    return {"path": path, "total_bytes": total, "total_kb": round(total / 1024, 1),
            "requests": len(urls), "outside_requests": len(outside), "outside_urls": outside,
            "load_seconds": round(seconds, 2), "resources": rows}


def run() -> dict[str, Any]:
    """Start a server on a prepared SQLite centre, measure, return the results."""
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="kiosk-weight-") as tmp:
        data_dir = Path(tmp)
        centre = prepare_centre(data_dir)
        with Server(data_dir, free_port()) as server:
            server.wait_healthy()
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
                try:
                    pages = {name: _measure(browser, server.base, path, centre["kiosk_token"])
                             for name, path in PAGES.items()}
                finally:
                    browser.close()
    home = pages["home"]
    return {
        "benchmark": "kiosk_weight",
        "target": {"max_kb": TARGET_KB, "outside_requests": 0},
        "home_kb": home["total_kb"], "home_requests": home["requests"],
        "outside_requests": sum(p["outside_requests"] for p in pages.values()),
        "meets_target": home["total_kb"] <= TARGET_KB and all(
            p["outside_requests"] == 0 for p in pages.values()),
        "pages": pages, "machine": machine_info(),
    }


if __name__ == "__main__":
    result = run()
    path = write_json("kiosk_weight", result)
    for name, page in result["pages"].items():
        print(f"{name:<10} {page['total_kb']:>7.1f} KB in {page['requests']} requests, "
              f"{page['outside_requests']} outside the server")
    print(f"target <= {TARGET_KB:.0f} KB, 0 outside: {'met' if result['meets_target'] else 'MISSED'}"
          f" -> {path}")
