"""Copy the front-end assets installed by `npm ci` into onestop/static/vendor/.

Run by `make assets`. Nothing here is committed: the vendor folder is rebuilt on every
machine from package-lock.json, so no page ever loads anything from outside the server.
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE = ROOT / "node_modules"
VENDOR = ROOT / "onestop" / "static" / "vendor"

FILES = {
    "socket.io-client/dist/socket.io.min.js": "socket.io/socket.io.min.js",
    "swagger-ui-dist/swagger-ui.css": "swagger-ui/swagger-ui.css",
    "swagger-ui-dist/swagger-ui-bundle.js": "swagger-ui/swagger-ui-bundle.js",
    "swagger-ui-dist/swagger-ui-standalone-preset.js":
        "swagger-ui/swagger-ui-standalone-preset.js",
    # the kiosk's camera scan (loaded only when tapped): the BarcodeDetector ponyfill (IIFE,
    # window.BarcodeDetectionAPI) and its ZXing reader; the page points locateFile here, as
    # the bundle's default is a CDN
    "barcode-detector/dist/iife/ponyfill.js": "barcode-detector/barcode-detector.js",
    "zxing-wasm/dist/reader/zxing_reader.wasm": "barcode-detector/zxing_reader.wasm",
    "barcode-detector/LICENSE": "barcode-detector/LICENSE.barcode-detector.txt",
    "zxing-wasm/LICENSE": "barcode-detector/LICENSE.zxing-wasm.txt",
    # the manager's dashboard and reports draw their charts with Chart.js (UMD build)
    "chart.js/dist/chart.umd.min.js": "chart.js/chart.umd.min.js",
    "chart.js/LICENSE.md": "chart.js/LICENSE.md",
}
FONT = "@fontsource/be-vietnam-pro/files"
WEIGHTS = (400, 700)
SUBSETS = ("vietnamese", "latin", "latin-ext")


def unicode_ranges(weight: int) -> dict[str, str]:
    """Subset file name -> its unicode-range, read from the package's own CSS.

    With the ranges, a browser downloads only the subsets a page's text uses.
    """
    css = (NODE / FONT).parent.joinpath(f"{weight}.css").read_text()
    found = re.findall(r"url\(\./files/([\w.-]+\.woff2)\).*?unicode-range:\s*([^;]+);", css, re.S)
    return {name: ranges.strip() for name, ranges in found}


def font_css() -> str:
    rules = []
    for weight in WEIGHTS:
        ranges = unicode_ranges(weight)
        for subset in SUBSETS:
            name = f"be-vietnam-pro-{subset}-{weight}-normal.woff2"
            shutil.copy2(NODE / FONT / name, VENDOR / "fonts" / name)
            scope = f"unicode-range:{ranges[name]};" if name in ranges else ""
            rules.append(
                "@font-face{font-family:'Be Vietnam Pro';font-style:normal;font-display:swap;"
                f"font-weight:{weight};src:url(./{name}) format('woff2');{scope}}}")
    return "\n".join(rules) + "\n"


def main() -> int:
    if not NODE.is_dir():
        print("node_modules is missing: run `npm ci` first", file=sys.stderr)
        return 1
    if VENDOR.exists():
        shutil.rmtree(VENDOR)
    for src, dst in FILES.items():
        target = VENDOR / dst
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(NODE / src, target)
    (VENDOR / "fonts").mkdir(parents=True, exist_ok=True)
    (VENDOR / "fonts" / "be-vietnam-pro.css").write_text(font_css())
    print(f"assets copied into {VENDOR.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
