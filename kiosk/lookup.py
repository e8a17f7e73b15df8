"""The kiosk's dossier lookup screen (tra cứu hồ sơ): ``/kiosk/lookup``.

Three ways in, all ending in ``GET /api/v1/lookup`` from the page's script
(``static/kiosk/lookup.js``):

- a USB barcode scanner that types like a keyboard: the receipt's QR URL
  ``{base}/lookup/{code}?k={token}`` arrives as a burst of fast keystrokes and Enter, caught
  anywhere on the page (a person typing is far slower and is ignored);
- the camera, where the kiosk has one: the ``barcode-detector`` ponyfill and its ZXing
  ``.wasm`` (``static/vendor/barcode-detector/``, ~1 MB) load only when the citizen taps the
  button, and the ``.wasm`` comes from this server, never from the bundle's default CDN;
- the dossier code and the last four digits of the applicant's phone, typed on the screen.

With a province's system set up (``PROVINCE_URL``, docs/provincial-link.md) a code shaped like
the province's is asked first without the phone digits: the API answers the province's status
of a code only the province knows (or "không kết nối được" after its 2 s limit), and 422
``lookup_key_required`` for one of our dossiers, whose digits the screen then asks for. A
linked dossier's answer carries the province's status, shown under ours.

The page renders no dossier data itself; the script shows the API's answer with
``textContent`` only. Idle time takes the screen home (``kiosk.js``), as everywhere.
"""

from __future__ import annotations

from flask import current_app, render_template, url_for

from kiosk import bp
from kiosk.pages import frame
from kiosk.texts import LOOKUP_MESSAGES
from onestop.api import common
from onestop.dossiers.engine import dossier_code
from onestop.dossiers.lookup import MAX_CODE
from onestop.integrations.config import ProvinceConfig

# the on-screen keyboard: what a dossier code is made of (unit codes such as H56.12.3)
KEY_ROWS = ("1234567890", "QWERTYUIOP", "ASDFGHJKL", "ZXCVBNM.-")


@bp.get("/kiosk/lookup")
def lookup() -> str:
    unit = common.resolve_unit()
    example = dossier_code(unit, unit.business_date(common.now()), 1)  # the field's placeholder
    # a province set up: its codes are looked up without the phone digits (lookup.js)
    province = ProvinceConfig.of(current_app.config)
    return render_template(
        "kiosk/lookup.html", key_rows=KEY_ROWS, max_code=MAX_CODE, example=example,
        messages={key: str(text) for key, text in LOOKUP_MESSAGES.items()},
        detector_js=url_for("static", filename="vendor/barcode-detector/barcode-detector.js"),
        detector_wasm=url_for("static", filename="vendor/barcode-detector/zxing_reader.wasm"),
        province=province.enabled, province_pattern=province.code_pattern,
        **frame(unit, "lookup"))
