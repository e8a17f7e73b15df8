"""Lobby kiosk (blueprint ``kiosk``): pick a field, get a ticket; the procedure catalogue;
and the public page of a ticket that its QR code opens on a citizen's phone.

Pages (all rules are absolute, so that the public ticket page can live at ``/t/<id>``):

- ``/kiosk/``                 home: one tile per field, open or closed (with its days and hours)
- ``/kiosk/field/<id>``       optional procedure and priority, then the ticket screen
- ``/kiosk/pair``             pairing screen (on-screen keypad, ``POST /api/v1/devices/pair``)
- ``/kiosk/qr/<id>.svg?k=``   the QR of a ticket's public page, as SVG
- ``/kiosk/procedures``       catalogue: browse by field, search without diacritics
- ``/kiosk/procedures/<id>``  one procedure: documents, time, fee, counters
- ``/kiosk/lookup``           dossier lookup: USB scanner, camera, or code + phone digits
- ``/kiosk/booking``          booking check-in: the booking's QR, or its code + phone digits
- ``/t/<id>?k=``              the public ticket page (state, people ahead, live)
- ``/kiosk/say.wav?text=``    one sentence of a screen said aloud (audio guidance)

Tickets are issued by the page's script through ``POST /api/v1/tickets`` with the kiosk's
device cookie; an unpaired browser may look but not issue. No inline scripts: the pages
pass their settings in ``data-`` attributes to ``static/kiosk/kiosk.js``.
"""

from flask import Blueprint

bp = Blueprint("kiosk", __name__, template_folder="templates", static_folder="static",
               static_url_path="/kiosk/static")

from kiosk import booking, booking_pages, catalogue, guide, lookup, pages, ticket_page  # noqa: E402,F401
