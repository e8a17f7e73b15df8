"""The authorization matrix: every HTTP endpoint and Socket.IO handler × every principal.

Each :class:`Case` names the endpoint by the key ``"METHOD rule"`` exactly as Flask's URL
map spells the rule (``"POST /api/v1/counters/<int:counter_id>/call-next"``), or
``"SIO /namespace on_handler"`` for Socket.IO, and gives one concrete request (placeholders
such as ``{c1}`` are filled from :func:`build_world`) with the expected outcome for each
principal:

``ok``     the request succeeded: 2xx/3xx (but not to the sign-in page). Only that: the world
           (:func:`build_world`) and the request bodies are set up so that an allowed
           principal's request really goes through; a 404/409/422 there is a failure
``domain`` past authorization, a refusal the domain gives by construction (400/409/422),
           spelled out per principal with its reason in the case's note (a counter another
           clerk holds)
``401``    not authenticated (no user and no device that counts)
``403``    authenticated, not allowed
``login``  a page redirects to the sign-in page
``404``    exactly 404: the app hides whether the thing exists (QR tokens, dossier lookups)

Principals: ``anonymous``; devices of the demo unit (``kiosk``, ``display``,
``counter-display``, ``tablet``, ``agent``; the counter-bound ones at counter 1) calling
with their device token; users ``clerk`` (clerk1, signed in at counter 1; counter 2 is held
by clerk2), ``manager``, ``admin``, ``integration``.

Device tokens do not authenticate *users*: a device calling an endpoint meant for users gets
the same 401 as an anonymous caller (``require_user`` knows no device), and a device opening
a staff page is sent to the sign-in page.

A new endpoint without a case here fails tests/security/test_matrix.py.

The apps the walk uses never send a webhook (``WEBHOOK_WORKER`` off, targets on loopback
port 9) and print only to the in-memory ``dummy`` printer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from alembic import command
from sqlalchemy import select

from onestop.accounts import engine as accounts
from onestop.accounts.models import User
from onestop.db import utcnow
from onestop.dossiers import engine as dossiers
from onestop.dossiers.lookup import lookup_token
from onestop.dossiers.models import Procedure
from onestop.extensions import db
from onestop.migrate import alembic_config
from onestop.queueing import engine as queue
from onestop.queueing.engine import Actor
from onestop.queueing.models import Counter, Service
from onestop.ratings import scales
from onestop.tokens import ticket_token
from onestop.units.models import Unit, UnitDay
from tests.media.samples import image
from tests.notifications.matrix_world import add_notify, notify_cases

MEDIA_PNG = image()
DEVICES = ("kiosk", "display", "counter-display", "tablet", "agent")
USERS = ("clerk", "manager", "admin", "integration")
PRINCIPALS = ("anonymous", *DEVICES, *USERS)
STAFF = ("clerk", "manager", "admin")
USERNAMES = {"clerk": "clerk1", "manager": "manager", "admin": "admin", "integration": "bridge"}
INTEGRATION_PASSWORD = "integration-pass-1"
OUTCOMES = ("ok", "401", "403", "login", "404", "domain")


@dataclass(frozen=True)
class Case:
    key: str  # "METHOD rule" as in app.url_map, or "SIO /ns on_handler"
    url: str  # the concrete URL (or the Socket.IO namespace), with {placeholders}
    expect: dict[str, str]
    json: Any = None
    event: str | None = None  # Socket.IO: the event emitted after connecting
    order: int = 0  # 1: spoils a counter or a device, 2: the session; run after the rest; 3: last
    form: bool = False  # send ``json`` as an HTML form (with the CSRF token) instead
    note: str = ""
    query: dict[str, str] = field(default_factory=dict)
    upload: tuple[str, str, str | bytes] | None = None  # (form field, file name, content): multipart

    @property
    def method(self) -> str:
        return self.key.split(" ", 1)[0]


# -- expectation builders ---------------------------------------------------------------------


def everyone(outcome: str = "ok") -> dict[str, str]:
    return {p: outcome for p in PRINCIPALS}


def users(*roles: str) -> dict[str, str]:
    """API for signed-in users with one of ``roles``: 401 without a user, 403 for other roles."""
    out = {p: "401" for p in ("anonymous", *DEVICES)}
    out.update({u: "ok" if u in roles else "403" for u in USERS})
    return out


def pages(*roles: str) -> dict[str, str]:
    """A staff page: the sign-in page without a user, 403 for other roles."""
    out = {p: "login" for p in ("anonymous", *DEVICES)}
    out.update({u: "ok" if u in roles else "403" for u in USERS})
    return out


def but(base: dict[str, str], **over: str) -> dict[str, str]:
    """``base`` with some principals changed (``counter_display`` for ``counter-display``)."""
    out = dict(base)
    for name, outcome in over.items():
        key = name.replace("_", "-")
        assert key in PRINCIPALS, key
        out[key] = outcome
    return out


def for_roles(roles: Iterable[str], outcome: str, base: dict[str, str]) -> dict[str, str]:
    return {**base, **{r: outcome for r in roles}}


API = "/api/v1"
# one service cycle at each counter, so that every action finds what it needs: a ticket
# called, recalled, started and marked absent; one called by its id and finished; one
# transferred to another field; one parked
COUNTER_ACTIONS: list[tuple[str, Any]] = [
    ("pause", {"reason": "Nghỉ giải lao"}), ("resume", None), ("call-next", None), ("recall", None),
    ("start", None), ("skip", None), ("call", {"ticket_id": "{call_%s}"}), ("finish", {"outcome": "served"}),
    ("call-next", None), ("transfer", {"service_id": "{svc_other}"}), ("call-next", None),
    ("park", {"note": "Chờ bổ sung giấy tờ"}),
]


def _body(body: Any, counter: str) -> Any:
    if isinstance(body, dict):
        return {k: v % counter if isinstance(v, str) and "%s" in v else v for k, v in body.items()}
    return body


def _counter_cases() -> list[Case]:
    cases = [Case(f"GET {API}/counters", f"{API}/counters", everyone(),
                  note="public: the hall sees who works where")]
    rule = API + "/counters/<int:counter_id>/"
    for action, body in COUNTER_ACTIONS:
        # a clerk acts only at the counter they signed in at; managers and admins anywhere
        cases.append(Case(f"POST {rule}{action}", f"{API}/counters/{{c1}}/{action}", users(*STAFF),
                          json=_body(body, "c1")))
        cases.append(Case(f"POST {rule}{action}", f"{API}/counters/{{c2}}/{action}",
                          but(users(*STAFF), clerk="403"), json=_body(body, "c2"),
                          note="another clerk's counter"))
    cases += [
        Case(f"POST {rule}open", f"{API}/counters/{{c1}}/open",
             for_roles(("manager", "admin"), "domain", users(*STAFF)),
             note="clerk1 signs in again at his counter; anyone else: 409 counter_taken (clerk1 holds it)"),
        Case(f"POST {rule}open", f"{API}/counters/{{c2}}/open", for_roles(STAFF, "domain", users(*STAFF)),
             note="409 counter_taken for everyone: clerk2 holds it"),
        Case(f"POST {rule}open", f"{API}/counters/{{c5}}/open", users(*STAFF),
             note="a free counter: whoever may sign in there does"),
        Case(f"GET {rule}queue", f"{API}/counters/{{c1}}/queue", users(*STAFF)),
        Case(f"GET {rule}queue", f"{API}/counters/{{c2}}/queue", users(*STAFF),
             note="reading another counter's queue is fine"),
        Case(f"POST {rule}close", f"{API}/counters/{{c2}}/close", but(users(*STAFF), clerk="403"),
             order=1, json={"parked": "requeue"}, note="a ticket is parked there: back to its queue"),
        Case(f"POST {rule}close", f"{API}/counters/{{c1}}/close", users(*STAFF), order=1,
             json={"parked": "requeue"}),
    ]
    return cases


def _dossier_cases() -> list[Case]:
    readers = users("clerk", "manager", "admin", "integration")
    code = f"{API}/dossiers/<code>"
    applicant = {"name": "Nguyễn Văn Bình", "id_number": "001090012345", "phone": "0912345678"}
    cases = [
        Case(f"POST {API}/dossiers", f"{API}/dossiers", readers,
             json={"procedure_code": "{proc_code}", "applicant": applicant}),
        Case(f"GET {code}", f"{API}/dossiers/{{dossier}}", readers),
        Case(f"GET {API}/dossiers", f"{API}/dossiers", readers, query={"q": "hoa"},
             note="the dossier desk's search; integration accounts read it"),
        Case(f"POST {code}/status", f"{API}/dossiers/{{dossier}}/status", readers,
             json={"state": "processing"}, note="integration pushes statuses (DESIGN §4)"),
        Case(f"POST {code}/apology", f"{API}/dossiers/{{dossier}}/apology", readers,
             json={"new_appointment": "2030-01-07", "reason": "Chờ xác minh"}),
        Case(f"GET {API}/dossiers/book.xlsx", f"{API}/dossiers/book.xlsx", users(*STAFF)),
    ]
    cases.append(Case(f"POST {code}/pickup-ticket", f"{API}/dossiers/{{dossier_supplement}}/pickup-ticket",
                      but(users(), kiosk="ok", display="403", counter_display="403", tablet="403",
                          agent="403"), json={"k": "{dossier_supplement_k}"},
                      note="a paired kiosk only: the citizen's ticket to hand in the supplement"))
    cccd = ("001303004005|012345678|Nguyễn Thị Ánh Tuyết|01022003|Nữ|"
            "Số 2, đường Lê Lợi, Phường Hoàn Kiếm, Hà Nội|15082021")
    cases.append(Case(f"POST {API}/applicants/from-cccd", f"{API}/applicants/from-cccd", users(*STAFF),
                      json={"payload": cccd}, note="the intake's ID-card scan: read, stored nowhere"))
    # The walk runs without PROVINCE_URL: past authorization the link answers 404
    # province_link_disabled, so the allowed roles expect that 404 here (tests/integrations
    # walk the allowed path against a fake province).
    province_off = "404"
    cases += [
        Case(f"GET {API}/integrations/province", f"{API}/integrations/province",
             for_roles(("manager", "admin"), province_off, users("manager", "admin")),
             note="no province configured in the walk: 404 province_link_disabled past the role check"),
        Case(f"POST {API}/integrations/province/retry", f"{API}/integrations/province/retry",
             for_roles(("admin",), province_off, users("admin")), json={},
             note="no province configured in the walk: 404 province_link_disabled past the role check"),
        Case(f"POST {API}/tickets/<int:ticket_id>/provincial-code", f"{API}/tickets/{{t}}/provincial-code",
             for_roles(STAFF, province_off, users(*STAFF)), json={"code": "H56.12-261123-0001"},
             note="no province configured in the walk: 404 province_link_disabled past the role check"),
    ]
    for form, dossier in (("receipt", "dossier"), ("supplement", "dossier_supplement"),
                          ("refusal", "dossier_rejected"), ("apology", "dossier")):
        cases.append(Case(f"GET {code}/{form}.pdf", f"{API}/dossiers/{{{dossier}}}/{form}.pdf", readers))
    return cases


def _ticket_cases() -> list[Case]:
    tid = f"{API}/tickets/<int:ticket_id>"
    issuers = but(users(*STAFF, "integration"), kiosk="ok", display="403", counter_display="403",
                  tablet="403", agent="403")
    devices_refused = {d: "403" for d in DEVICES}
    return [
        Case(f"POST {API}/tickets", f"{API}/tickets", issuers, json={"service_id": "{svc}"},
             note="kiosks and staff issue; other devices may not"),
        Case(f"GET {tid}", f"{API}/tickets/{{t}}", everyone(), note="public: id, label, state only"),
        Case(f"POST {tid}/requeue", f"{API}/tickets/{{t}}/requeue", users(*STAFF)),
        Case(f"POST {tid}/reprint", f"{API}/tickets/{{t}}/reprint",
             {**users(*STAFF), **devices_refused}, json={"counter_id": "{c1}"},
             note="staff print on counter 1's printer; a device may reprint only its own kiosk's ticket"),
        Case(f"POST {tid}/reprint", f"{API}/tickets/{{t_kiosk}}/reprint",
             {**users(*STAFF), **devices_refused, "kiosk": "ok"}, json={},
             note="the issuing kiosk, within a minute"),
        Case(f"POST {tid}/cancel", f"{API}/tickets/{{t_leave}}/cancel", everyone(),
             json={"k": "{t_leave_k}"}, note="'I left': the ticket page's key is the proof"),
        Case(f"POST {tid}/cancel", f"{API}/tickets/{{t_leave_staff}}/cancel",
             but(everyone("404"), clerk="ok", manager="ok", admin="ok", integration="403"), json={},
             note="no key: staff of the unit only; anyone else cannot tell the ticket exists"),
    ]


def _other_api_cases() -> list[Case]:
    admins = users("manager", "admin")
    hook = f"{API}/webhooks/<int:webhook_id>"
    return [
        Case(f"POST {API}/auth/token", f"{API}/auth/token", everyone(),
             json={"username": "clerk3", "password": "demo"}),
        Case(f"GET {API}/auth/me", f"{API}/auth/me", users(*USERS)),
        Case(f"POST {API}/auth/revoke", f"{API}/auth/revoke", users(*USERS), order=2),
        Case(f"POST {API}/devices/pair", f"{API}/devices/pair", everyone(), json={"code": "{pairing_code}"},
             order=2, note="a device registered for the walk, not paired yet: whoever holds the code pairs "
             "it (and the walking client then holds that device's cookie: late)"),
        Case(f"POST {API}/devices/pair", f"{API}/devices/pair", everyone("domain"), json={"code": "ZZZZZZZZ"},
             note="400 invalid_pairing_code for everyone"),
        Case(f"POST {API}/devices/heartbeat", f"{API}/devices/heartbeat",
             {**users(), **{d: "ok" for d in DEVICES}}, note="paired devices only"),
        Case(f"GET {API}/display/state", f"{API}/display/state", everyone()),
        Case(f"GET {API}/lookup", f"{API}/lookup", everyone(),
             query={"code": "{dossier}", "k": "{dossier_k}"}),
        Case(f"GET {API}/lookup", f"{API}/lookup", everyone("404"),
             query={"code": "{dossier}", "k": "AAAAAAAA"}, note="a forged QR token"),
        Case(f"GET {API}/procedures", f"{API}/procedures", everyone(), query={"q": "khai sinh"}),
        Case(f"GET {API}/procedures/<code>", f"{API}/procedures/{{proc_code}}", everyone()),
        Case(f"GET {API}/services", f"{API}/services", everyone()),
        Case(f"GET {API}/printers", f"{API}/printers", admins),
        Case(f"POST {API}/printers/check", f"{API}/printers/check", admins),
        Case(f"POST {API}/printers/<int:device_id>/test", f"{API}/printers/{{printer}}/test", admins),
        Case(f"GET {API}/webhooks", f"{API}/webhooks", users("admin")),
        Case(f"POST {API}/webhooks", f"{API}/webhooks", users("admin"),
             json={"url": "http://127.0.0.1:9/matrix", "events": ["ticket.issued"]}),
        Case(f"GET {hook}/deliveries", f"{API}/webhooks/{{hook}}/deliveries", users("admin")),
        Case(f"POST {hook}/deliveries/<int:delivery_id>/retry",
             f"{API}/webhooks/{{hook}}/deliveries/{{delivery}}/retry", users("admin")),
        Case(f"DELETE {hook}", f"{API}/webhooks/{{hook}}", users("admin"), order=1),
        # hall media (issue 23): uploads and playlists for admins, what a display plays for all
        Case(f"POST {API}/media", f"{API}/media", users("admin"), json={"title": "Ma trận"}, form=True,
             upload=("file", "matran.png", MEDIA_PNG)),
        Case(f"GET {API}/media", f"{API}/media", users("admin")),
        Case(f"DELETE {API}/media/<int:media_id>", f"{API}/media/{{media}}", users("admin"), order=1),
        Case(f"POST {API}/playlists", f"{API}/playlists", users("admin"),
             json={"items": [{"kind": "qr_cards", "seconds": 5}]}),
        Case(f"GET {API}/playlists", f"{API}/playlists", users("admin")),
        Case(f"GET {API}/display/playlist", f"{API}/display/playlist", everyone()),
        Case("GET /media/<name>", "/media/{media_name}", everyone()),
        Case(f"GET {API}/openapi.json", f"{API}/openapi.json", everyone()),
        Case(f"GET {API}/docs", f"{API}/docs", everyone()),
        Case("GET /docs/oauth2-redirect", "/docs/oauth2-redirect", everyone()),
    ]


def _page_cases() -> list[Case]:
    staff_pages = pages(*STAFF)
    return [
        Case("GET /", "/", everyone()),
        Case("GET /healthz", "/healthz", everyone()),
        Case("GET /readyz", "/readyz", everyone()),
        Case("GET /metrics", "/metrics", everyone("403"),
             note="loopback or the metrics token only; the walk calls from a LAN address"),
        Case("GET /login", "/login", everyone()),
        Case("POST /login", "/login", everyone(), json={"username": "clerk4", "password": "demo"}, form=True,
             order=3, note="signs the walking client in as clerk4: the very last request"),
        Case("POST /logout", "/logout", everyone(), order=2),
        Case("GET /admin/printers", "/admin/printers", pages("manager", "admin")),
        Case("GET /admin/province", "/admin/province", pages("manager", "admin"),
             note="without PROVINCE_URL the page says no province is set up"),
        Case("POST /admin/province/retry", "/admin/province/retry", pages("admin"), json={}, form=True,
             note="without PROVINCE_URL nothing to retry: back to the page"),
        Case("GET /counter/", "/counter/", staff_pages),
        Case("GET /counter/book", "/counter/book", staff_pages),
        Case("GET /counter/dossiers", "/counter/dossiers", staff_pages, query={"q": "hoa"}),
        Case("GET /counter/dossiers/<code>", "/counter/dossiers/{dossier}", staff_pages),
        Case("POST /counter/dossiers/<code>/<action>", "/counter/dossiers/{dossier_supplement}/supplemented",
             staff_pages, json={}, form=True, order=1,
             note="the supplement comes in: the dossier moves on (after the cases that read it)"),
        Case("POST /counter/lease", "/counter/lease", staff_pages,
             json={"counter_id": "{c1}", "tab": "tab-matrix-1"}),
        Case("GET /display/", "/display/", everyone()),
        Case("GET /display/counter/", "/display/counter/",
             but(everyone("404"), counter_display="ok", tablet="ok"),
             note="a device bound to a counter opens that counter's screen; 404 for the rest"),
        Case("GET /display/counter/<int:number>", "/display/counter/1", everyone()),
        Case("GET /display/config.json", "/display/config.json", everyone()),
        Case("GET /display/announcement.json", "/display/announcement.json", everyone(),
             query={"ticket": "{t}", "counter": "{c1}"}),
        Case("GET /display/voice.wav", "/display/voice.wav", everyone(),
             query={"ticket": "{t}", "counter": "{c1}"}, note="503 without a voice back end"),
        Case("GET /display/chime.wav", "/display/chime.wav", everyone()),
        Case("GET /display/pair", "/display/pair", everyone()),
        Case("GET /kiosk/say.wav", "/kiosk/say.wav", everyone(), query={"text": "Xin mời", "lang": "vi"},
             note="503 without a voice back end"),
        Case("GET /kiosk/", "/kiosk/", everyone()),
        Case("GET /kiosk/field/<int:service_id>", "/kiosk/field/{svc}", everyone()),
        Case("GET /kiosk/lookup", "/kiosk/lookup", everyone()),
        Case("GET /kiosk/booking", "/kiosk/booking", everyone()),
        Case("GET /kiosk/pair", "/kiosk/pair", everyone()),
        Case("GET /kiosk/procedures", "/kiosk/procedures", everyone()),
        Case("GET /kiosk/procedures/<int:procedure_id>", "/kiosk/procedures/{proc_id}", everyone()),
        Case("GET /kiosk/qr/<int:ticket_id>.svg", "/kiosk/qr/{t}.svg", everyone(),
             query={"k": "{t_k}"}),
        Case("GET /kiosk/qr/<int:ticket_id>.svg", "/kiosk/qr/{t_kiosk}.svg", but(everyone("404"), kiosk="ok"),
             note="without the token only the issuing kiosk gets the QR"),
        Case("GET /t/<int:ticket_id>", "/t/{t}", everyone(), query={"k": "{t_k}"}),
        Case("GET /t/<int:ticket_id>", "/t/{t}", everyone("404"), query={"k": "AAAAAAAA"}),
        Case("GET /lookup/", "/lookup/", everyone()),
        Case("GET /lookup/<code>", "/lookup/{dossier}", everyone(), query={"k": "{dossier_k}"}),
        Case("GET /lookup/<code>", "/lookup/{dossier}", everyone("404"), query={"k": "AAAAAAAA"}),
    ]


def _socket_cases() -> list[Case]:
    counter_ok = but(for_roles(STAFF, "ok", everyone("401")), tablet="ok", counter_display="ok")
    agent_ok = but(everyone("401"), agent="ok")
    return [
        Case("SIO /display on_connect", "/display", everyone(), note="public, read-only"),
        Case("SIO /display on_connect", "/display", everyone(), event="ticket.called",
             note="emitting anything changes nothing and reaches no one"),
        Case("SIO /counter on_connect", "/counter", counter_ok),
        Case("SIO /counter on_connect", "/counter", counter_ok, event="counter.call_next",
             note="no state-changing events: actions go through the HTTP API"),
        Case("SIO /agent on_connect", "/agent", agent_ok),
        Case("SIO /agent on_job_ack", "/agent", agent_ok, event="job.ack"),
        Case("SIO /agent on_agent_status", "/agent", agent_ok, event="agent.status"),
        Case("SIO /agent on_disconnect", "/agent", agent_ok, note="connect, then leave"),
    ]


def _new_api_cases() -> list[Case]:
    """Ratings, reports, dashboard, audit, privacy and the admin's device calls."""
    managers = users("manager", "admin")
    period = {"from": "2026-11-01", "to": "2026-11-30"}
    tablet_only = {**everyone("403"), "anonymous": "401", "tablet": "ok"}
    cases = [
        Case(f"GET {API}/ratings/scale", f"{API}/ratings/scale", everyone()),
        Case(f"POST {API}/ratings", f"{API}/ratings", tablet_only,
             json={"ticket_id": "{t_done}", "level": "{best_level}"},
             note="the tablet of the counter that served the ticket only; never a user"),
        Case(f"POST {API}/lookup/rating", f"{API}/lookup/rating", everyone(),
             json={"code": "{dossier}", "k": "{dossier_k}", "level": "very_satisfied"},
             note="public with the receipt's QR token"),
        Case(f"POST {API}/lookup/rating", f"{API}/lookup/rating", everyone("404"),
             json={"code": "{dossier}", "k": "AAAAAAAA", "level": "very_satisfied"},
             note="a forged QR token"),
        Case(f"GET {API}/dashboard", f"{API}/dashboard", managers),
        Case(f"GET {API}/audit", f"{API}/audit", users("admin")),
        Case(f"GET {API}/privacy/person", f"{API}/privacy/person", users("admin"),
             query={"id_number": "001190054321"}),
        Case(f"POST {API}/devices/<int:device_id>/rotate", f"{API}/devices/{{spare_rotate}}/rotate",
             users("admin")),
        Case(f"POST {API}/devices/<int:device_id>/revoke", f"{API}/devices/{{spare_revoke}}/revoke",
             users("admin"), order=1),
    ]
    for name in ("summary", "breakdown", "heatmap", "data", "staffing", "export"):
        cases.append(Case(f"GET {API}/reports/{name}", f"{API}/reports/{name}", managers, query=period))
    return cases


PROCEDURE_CSV = ("code,name,service_code,processing_days,fee,documents\r\n"
                 "9.999001,Thủ tục ma trận,TPHT,3,Miễn phí,Tờ khai\r\n")


def _backoffice_cases() -> list[Case]:
    """/admin/...: the administrator only (the printers page also the manager)."""
    admin = pages("admin")
    gets = ["/admin/", "/admin/audit", "/admin/calendar", "/admin/counters", "/admin/devices",
            "/admin/procedures", "/admin/services", "/admin/units", "/admin/users", "/admin/webhooks"]
    cases = [Case(f"GET {url}", url, admin) for url in gets]
    forms: list[tuple[str, str, dict[str, Any]]] = [
        ("/admin/counters/new", "/admin/counters/new",
         {"number": "42", "name": "Quầy ma trận", "zone": "A", "service_mode": "fifo", "pos_{svc}": "1"}),
        ("/admin/counters/<int:counter_id>", "/admin/counters/{c3}",
         {"number": "3", "name": "Quầy 3", "zone": "A", "service_mode": "fifo", "pos_{svc}": "1"}),
        ("/admin/devices/<int:device_id>/edit", "/admin/devices/{spare_edit}/edit",
         {"name": "Màn hình sảnh B", "counter_id": "0", "printer_uri": ""}),
        ("/admin/devices/new", "/admin/devices/new",
         {"kind": "display", "name": "Màn hình ma trận", "counter_id": "0", "printer_uri": ""}),
        ("/admin/display", "/admin/display",
         {"display_notice": "", "display_recent_calls": "6", "display_highlight_seconds": "10",
          "announcement_template": "Xin mời công dân có số thứ tự {{số}} đến quầy số {{quầy}}",
          "announcement_repeat": "1", "announcement_number_mode": "words", "announcement_style": "north",
          "announcement_voice": "chime", "announcement_espeak_speed": "150", "announcement_chime": "y"}),
        ("/admin/ratings", "/admin/ratings",
         {"rating_scale": "3", "rating_reasons": "Thời gian chờ lâu\nThái độ phục vụ chưa tốt",
          "rating_timeout_seconds": "30"}),
        ("/admin/services/new", "/admin/services/new",
         {"code": "MATRAN", "name": "Lĩnh vực ma trận", "prefix": "M", "daily_cap": "100",
          "weekdays": ["1", "2", "3", "4", "5"], "windows": "07:30-11:30, 13:30-17:00",
          "cutoff_minutes": "15", "zone": "A", "sort_order": "50", "active": "y"}),
        ("/admin/services/<int:service_id>", "/admin/services/{svc}",
         {"code": "TPHT", "name": "Tư pháp – Hộ tịch", "prefix": "A", "daily_cap": "300",
          "weekdays": ["1", "2", "3", "4", "5"], "windows": "07:30-11:30, 13:30-17:00",
          "cutoff_minutes": "15", "zone": "A", "sort_order": "0", "active": "y"}),
        ("/admin/units/new", "/admin/units/new",
         {"code": "000.00.99.H98", "name": "UBND xã Ma Trận", "address": "", "timezone": "Asia/Ho_Chi_Minh"}),
        ("/admin/units/<int:unit_id>", "/admin/units/{unit}",
         {"code": "{unit_code}", "name": "{unit_name}", "address": "", "timezone": "Asia/Ho_Chi_Minh"}),
        ("/admin/users/new", "/admin/users/new",
         {"username": "matran.user", "full_name": "Người Ma Trận", "role": "clerk", "unit_id": "{unit}",
          "password": "Ma-tran-2026-dai!", "password2": "Ma-tran-2026-dai!"}),
        ("/admin/users/<int:user_id>", "/admin/users/{spare_user}",
         {"full_name": "Cán bộ quầy 8", "role": "clerk", "unit_id": "{unit}"}),
        ("/admin/webhooks/new", "/admin/webhooks/new",
         {"url": "http://127.0.0.1:9/matrix-form", "events": ["ticket.issued"]}),
    ]
    for rule, url, body in forms:  # GET shows the form; a valid POST saves and redirects
        # the demo admin is bound to its unit: a new unit is the power of an admin of no unit
        # (tests/backoffice/test_unit_walls.py walks both kinds of admin)
        allowed = but(admin, admin="403") if rule == "/admin/units/new" else admin
        cases += [Case(f"GET {rule}", url, allowed), Case(f"POST {rule}", url, allowed, json=body, form=True)]
    posts: list[tuple[str, str, int, dict[str, Any]]] = [
        ("/admin/calendar", "/admin/calendar", 0, {"date": "2030-03-04", "kind": "off", "note": "Ma trận"}),
        ("/admin/calendar/<int:day_id>/delete", "/admin/calendar/{unit_day}/delete", 0, {}),
        ("/admin/users/<int:user_id>/password", "/admin/users/{spare_user}/password", 0,
         {"password": "Mat-khau-moi-2026!", "password2": "Mat-khau-moi-2026!"}),
        ("/admin/users/<int:user_id>/unlock", "/admin/users/{spare_user}/unlock", 0, {}),
        ("/admin/users/<int:user_id>/disable", "/admin/users/{spare_user}/disable", 1, {}),
        ("/admin/users/<int:user_id>/enable", "/admin/users/{spare_user}/enable", 1, {}),
        ("/admin/devices/<int:device_id>/rotate", "/admin/devices/{spare_rotate}/rotate", 1, {}),
        ("/admin/devices/<int:device_id>/revoke", "/admin/devices/{spare_revoke}/revoke", 1, {}),
        ("/admin/webhooks/<int:webhook_id>/deactivate", "/admin/webhooks/{hook}/deactivate", 1, {})]
    cases += [Case(f"POST {rule}", url, admin, json=body, form=True, order=order)
              for rule, url, order, body in posts]
    cases.append(Case("POST /admin/procedures", "/admin/procedures", admin, json={}, form=True,
                      upload=("file", "matran.csv", PROCEDURE_CSV)))
    cases.append(Case("GET /admin/procedures/export.<fmt>", "/admin/procedures/export.csv", admin))
    cases += [Case("GET /admin/media", "/admin/media", admin),
              Case("POST /admin/media", "/admin/media", admin, json={"title": "Ma trận"}, form=True,
                   upload=("file", "matran.png", MEDIA_PNG)),
              Case("POST /admin/media/<int:media_id>/delete", "/admin/media/{media_spare}/delete", admin,
                   json={}, form=True, order=1),
              Case("POST /admin/media/playlist", "/admin/media/playlist", admin,
                   json={"zone": "", "item": "qr", "seconds": "5"}, form=True),
              Case("POST /admin/media/playlist/<int:position>/delete", "/admin/media/playlist/0/delete",
                   admin, json={}, form=True, order=1)]
    # bookings: a field's and the unit's booking settings (the administrator); the day's
    # list, its cancel and booking for a citizen on the phone (every staff role); the poster
    desk, refused = pages("admin", "manager", "clerk"), {"admin": "domain"}
    cases += [Case("GET /admin/services/<int:service_id>/booking", "/admin/services/{svc}/booking", admin),
              Case("POST /admin/services/<int:service_id>/booking", "/admin/services/{svc}/booking",
                   but(admin, **refused), json={"slot_minutes": "0"}, form=True,
                   note="an invalid form: 422 with the errors, nothing saved"),
              Case("GET /admin/booking-settings", "/admin/booking-settings", admin),
              Case("POST /admin/booking-settings", "/admin/booking-settings", but(admin, **refused),
                   json={"booking_checkin_early_minutes": "-5"}, form=True),
              Case("GET /admin/bookings", "/admin/bookings", desk),
              Case("POST /admin/bookings/<int:booking_id>/cancel", "/admin/bookings/{bk_desk_id}/cancel",
                   desk, json={}, form=True, order=1),
              Case("GET /admin/bookings/new", "/admin/bookings/new", desk),
              Case("POST /admin/bookings/new", "/admin/bookings/new", desk, json={"service_id": "{svc}"},
                   form=True, note="the field alone: the form again, with its days and free times"),
              Case("GET /admin/bookings/poster.pdf", "/admin/bookings/poster.pdf",
                   pages("admin", "manager"))]
    return cases


def _tablet_page_cases() -> list[Case]:
    managers = pages("manager", "admin")
    return [
        Case("GET /manager/", "/manager/", managers),
        Case("GET /manager/reports", "/manager/reports", managers),
        Case("GET /manager/staffing", "/manager/staffing", managers),
        Case("GET /counter/tablet", "/counter/tablet", everyone(),
             note="the rating screen for the tablet, the pairing screen for anyone else"),
        Case("GET /counter/tablet/pair", "/counter/tablet/pair", everyone()),
        Case("GET /counter/tablet/state.json", "/counter/tablet/state.json",
             {**everyone("403"), "tablet": "ok"}),
    ]


def _desk_cases() -> list[Case]:
    """The desk and the manager's moves (issue 22); the reception role: tests/desk/."""
    managers = users("manager", "admin")
    tid = f"{API}/tickets/<int:ticket_id>"
    board = f"{API}/dashboard/counters/<int:counter_id>"
    return [
        Case(f"GET {API}/tickets/search", f"{API}/tickets/search", users(*STAFF), query={"q": "A"}),
        Case(f"POST {tid}/print", f"{API}/tickets/{{t}}/print", users(*STAFF),
             json={"device_id": "{printer}"}, note="on a printer chosen at the desk (the kiosk's)"),
        Case(f"GET {API}/desk/alerts", f"{API}/desk/alerts", users(*STAFF)),
        Case(f"POST {board}/pause", f"{API}/dashboard/counters/{{c3}}/pause",
             for_roles(("manager", "admin"), "domain", managers), json={"reason": "Họp"},
             note="counter 3 is closed: 409 counter_not_open past the role check"),
        Case(f"POST {board}/resume", f"{API}/dashboard/counters/{{c3}}/resume",
             for_roles(("manager", "admin"), "domain", managers),
             note="counter 3 is not paused: 409 counter_not_paused past the role check"),
        Case(f"POST {board}/close", f"{API}/dashboard/counters/{{c3}}/close", managers,
             json={"parked": "requeue"}),
        Case(f"POST {API}/dashboard/move", f"{API}/dashboard/move", managers,
             json={"service_id": "{svc_other}", "to_service_id": "{svc}"}),
        Case(f"GET {API}/dashboard/desk", f"{API}/dashboard/desk", managers),
        Case(f"GET {API}/reports/productivity", f"{API}/reports/productivity", managers,
             query={"from": "2026-11-01", "to": "2026-11-30"}),
        Case(f"POST {API}/dashboard/message", f"{API}/dashboard/message", managers,
             json={"text": "Hệ thống tạm dừng 10 phút", "minutes": 10}),
        Case("GET /counter/reception", "/counter/reception", pages(*STAFF),
             note="the reception desk: the reception role too (tests/desk/)"),
        Case("GET /counter/reception/link/<int:ticket_id>", "/counter/reception/link/{t}", pages(*STAFF)),
        Case(f"GET {API}/overview", f"{API}/overview", users("admin", "integration"),
             note="the overview's tiles: supervisors too, their units only; an integration "
             "account its unit's, for a hub (tests/overview/)"),
        Case("GET /manager/overview", "/manager/overview", pages("admin"),
             note="the overview page: supervisors too (tests/overview/)"),
        Case("SIO /overview on_connect", "/overview", but(everyone("401"), admin="ok"),
             note="supervisors too, in their units' rooms only (tests/overview/)"),
        Case("SIO /overview on_connect", "/overview", but(everyone("401"), admin="ok"),
             event="overview.changed", note="read-only: an event from a client reaches no one"),
    ]


def _booking_cases() -> list[Case]:
    """Bookings and numbers from a phone (issue 20; the rules: tests/bookings/)."""
    code = f"{API}/bookings/<code>"
    staff_only = but(everyone("404"), clerk="ok", manager="ok", admin="ok", integration="403")
    kiosk_or_staff = but(users(*STAFF), kiosk="ok", display="403", counter_display="403",
                         tablet="403", agent="403")
    return [
        Case(f"GET {API}/bookings/slots", f"{API}/bookings/slots", everyone(),
             query={"service_id": "{svc}", "date": "{bk_day}"}),
        Case(f"POST {API}/bookings", f"{API}/bookings", everyone(),
             json={"service_id": "{svc}", "start": "{bk_start}", "phone": "0912000109"},
             note="public: a citizen's phone, the portal's integration token, staff for a citizen"),
        Case(f"GET {code}", f"{API}/bookings/{{bk}}", everyone(), query={"k": "{bk_k}"}),
        Case(f"GET {code}", f"{API}/bookings/{{bk_staff}}", staff_only,
             note="no key: staff of the unit only; anyone else cannot tell the booking exists"),
        Case(f"POST {code}/cancel", f"{API}/bookings/{{bk}}/cancel", everyone(), json={"k": "{bk_k}"},
             order=1),
        Case(f"POST {code}/cancel", f"{API}/bookings/{{bk_staff}}/cancel", staff_only, json={},
             order=1),
        Case(f"POST {code}/check-in", f"{API}/bookings/{{bk_today}}/check-in", kiosk_or_staff,
             json={"k": "{bk_today_k}"},
             note="a paired kiosk with the QR's key (or staff): the booking of now gets its ticket"),
        Case(f"POST {API}/remote-tickets", f"{API}/remote-tickets", everyone(),
             json={"service_id": "{svc}"}, note="public: the demo unit allows numbers from a phone"),
    ]


def _phone_page_cases() -> list[Case]:
    """The citizen's phone pages (kiosk/booking_pages.py): public; a booking's pages need its
    key; the forms reach the engine for everyone (their refusals here are by construction)."""
    book = "/book/<int:service_id>"
    far = {"d": "2030-01-07", "s": "09:00"}
    return [
        Case("GET /book/", "/book/", everyone()),
        Case(f"GET {book}/", "/book/{svc}/", everyone()),
        Case(f"GET {book}/day", "/book/{svc}/day", everyone()),
        Case(f"GET {book}/slot", "/book/{svc}/slot", everyone(), query={"d": "{bk_day}"}),
        Case(f"GET {book}/contact", "/book/{svc}/contact", everyone(), query={"d": "{bk_day}", "s": "09:00"}),
        Case(f"POST {book}/contact", "/book/{svc}/contact", everyone("domain"), form=True,
             json={**far, "phone": "0912000110"}, note="409 not_bookable: a day too far ahead"),
        Case("GET /b/<code>", "/b/{bk}", everyone(), query={"k": "{bk_k}"}),
        Case("GET /b/<code>", "/b/{bk}", everyone("404"), query={"k": "AAAAAAAAAAAA"}),
        Case("GET /b/<code>/cancel", "/b/{bk}/cancel", everyone(), query={"k": "{bk_k}"}),
        Case("POST /b/<code>/cancel", "/b/{bk}/cancel", everyone("404"), form=True,
             json={"k": "AAAAAAAAAAAA"}, note="a wrong key (the key's way through: tests/bookings_pages)"),
        Case("GET /b/<code>/qr.svg", "/b/{bk}/qr.svg", everyone(), query={"k": "{bk_k}"}),
        Case("GET /b/<code>/calendar.ics", "/b/{bk}/calendar.ics", everyone(), query={"k": "{bk_k}"}),
        Case("GET /q/", "/q/", everyone()),
        Case("GET /q/<int:service_id>", "/q/{svc}", everyone()),
        Case("POST /q/<int:service_id>", "/q/{svc}", everyone("domain"), form=True, json={"phone": "abc"},
             note="422 invalid_phone (the number's way through: tests/bookings_pages)"),
    ]


MATRIX: list[Case] = [*_counter_cases(), *_dossier_cases(), *_ticket_cases(), *_other_api_cases(),
                      *_page_cases(), *_socket_cases(), *_new_api_cases(), *_backoffice_cases(),
                      *_tablet_page_cases(), *_desk_cases(), *_booking_cases(), *_phone_page_cases(),
                      *notify_cases(Case, everyone, users, pages, but)]

# Endpoints the walk does not need: files served as they are.
STATIC_ENDPOINTS = ("static",)


def is_static(endpoint: str) -> bool:
    return endpoint in STATIC_ENDPOINTS or endpoint.endswith(".static")


# -- the world the concrete URLs point into ---------------------------------------------------


def build_world(app: Any) -> dict[str, Any]:
    """Devices, an integration account, tickets, a dossier and a webhook delivery in the demo
    unit; counter 1 held by clerk1 and counter 2 by clerk2. Returns the placeholders and the
    device tokens (``token:<kind>``)."""
    secret = str(app.config["SECRET_KEY"])
    with app.app_context():
        session = db.session()
        now = utcnow()
        unit = session.scalars(select(Unit).order_by(Unit.id)).one()
        # the walk's "call" calls a waiting ticket by its id: out of order, allowed here
        unit.settings = {**(unit.settings or {}), "out_of_order_calls": True}
        world: dict[str, Any] = {}
        kiosk_device = None
        for kind in DEVICES:
            counter = 1 if kind in ("counter-display", "tablet") else None
            # the kiosk prints on its own printer; counter 1's screen holds that counter's printer
            printer = {"kiosk": "dummy://matrix", "counter-display": "dummy://matrix-counter"}.get(kind)
            device, token, _code = accounts.add_device(session, unit, kind, f"matrix {kind}", now=now,
                                                       counter_number=counter, printer_uri=printer)
            world[f"token:{kind}"] = token
            if kind == "kiosk":
                kiosk_device = device
                world["printer"] = device.id
        for spare in ("spare_rotate", "spare_revoke", "spare_edit"):
            device, _token, _code = accounts.add_device(session, unit, "display", spare, now=now)
            world[spare] = device.id
        _device, _token, world["pairing_code"] = accounts.add_device(session, unit, "display", "to pair",
                                                                     now=now)
        accounts.add_user(session, unit, USERNAMES["integration"], INTEGRATION_PASSWORD, "integration")
        counters = {c.number: c for c in session.scalars(select(Counter).where(Counter.unit_id == unit.id))}
        clerks = {u.username: u for u in session.scalars(select(User))}
        queue.open_counter(session, counters[1], clerks["clerk1"].id, now=now)
        queue.open_counter(session, counters[2], clerks["clerk2"].id, now=now)
        svc = session.scalars(select(Service).where(Service.unit_id == unit.id, Service.code == "TPHT")).one()
        staff = Actor(user_id=clerks["clerk1"].id)
        done = queue.issue_ticket(session, unit, svc, actor=staff, now=now, source="counter",
                                  always_open=True)
        queue.call_ticket(session, counters[1], done.id, actor=staff, now=now)
        queue.finish(session, counters[1], actor=staff, now=now)
        tickets = [queue.issue_ticket(session, unit, svc, actor=staff, now=now, source="counter",
                                      always_open=True) for _ in range(10)]
        kiosk_ticket = queue.issue_ticket(session, unit, svc, actor=Actor(device_id=kiosk_device.id),
                                          now=now, source="kiosk", always_open=True)
        kiosk_ticket.device_id = kiosk_device.id
        # "I left": one given up with its page's key, one by staff (behind every other ticket)
        leaving = [queue.issue_ticket(session, unit, svc, actor=staff, now=now, source="counter",
                                      always_open=True) for _ in range(2)]
        proc = session.scalars(select(Procedure).where(Procedure.unit_id == unit.id,
                                                       Procedure.code == "1.001193")).one()
        dossier = dossiers.receive_dossier(
            session, unit, proc, dossiers.Applicant(name="Trần Thị Hoa", id_number="001190054321",
                                                    phone="0987654321"),
            [{"name": "Tờ khai", "count": 1}], None, actor=staff, now=now)
        pending = {}
        for state, note in (("supplement_requested", "Bổ sung bản sao giấy khai sinh"),
                            ("rejected", "Không thuộc thẩm quyền")):
            other = dossiers.receive_dossier(
                session, unit, proc, dossiers.Applicant(name="Lê Văn Nam", id_number="001190054322",
                                                        phone="0987654322"),
                [{"name": "Tờ khai", "count": 1}], None, actor=staff, now=now)
            changed = dossiers.change_state(session, other, state, actor=staff, now=now, note=note)
            pending[state] = changed.code
        day = UnitDay(unit_id=unit.id, date=dt.date(2030, 3, 9), kind="off", note="ma trận")
        session.add(day)
        other_field = session.scalars(select(Service).where(Service.unit_id == unit.id,
                                                            Service.code == "NV")).one()
        session.commit()
        world.update(call_c1=tickets[-1].id, call_c2=tickets[-2].id, svc_other=other_field.id,
                     c5=counters[5].id, dossier_supplement=pending["supplement_requested"],
                     dossier_supplement_k=lookup_token(secret, pending["supplement_requested"]),
                     dossier_rejected=pending["rejected"], unit_day=day.id, unit_code=unit.code,
                     unit_name=unit.name)
        world.update(t_done=done.id, unit=unit.id,
                     best_level=scales.levels(unit.setting("rating_scale"))[0].code,
                     spare_user=clerks["clerk8"].id, c3=counters[3].id,
                     c1=counters[1].id, c2=counters[2].id, svc=svc.id, t=tickets[0].id,
                     t_kiosk=kiosk_ticket.id, t_k=ticket_token(secret, tickets[0].id),
                     dossier=dossier.code, dossier_k=lookup_token(secret, dossier.code),
                     proc_code=proc.code, proc_id=proc.id, now=now)
        world.update(t_leave=leaving[0].id, t_leave_k=ticket_token(secret, leaving[0].id),
                     t_leave_staff=leaving[1].id)
    world.update(add_media(app))
    world.update(add_bookings(app))
    world.update(add_notify(app))
    # the database as `onestop db upgrade` leaves it: /readyz answers ready
    command.stamp(alembic_config(str(app.config["DATABASE_URL"])), "head")
    return world


def add_media(app: Any) -> dict[str, Any]:
    """Two images in the hall's media (one for each delete route) and a playlist of one line."""
    from onestop.media import engine as media

    with app.app_context():
        session = db.session()
        unit = session.scalars(select(Unit).order_by(Unit.id)).one()
        folder = media.media_dir(app.config["DATA_DIR"])
        items = [media.store(session, unit, image, title="ma trận", folder=folder, max_bytes=10**6,
                             actor_id=None, now=utcnow()) for image in (MEDIA_PNG, MEDIA_PNG + b"\0")]
        media.set_playlist(session, unit, "", [media.Line(media_id=items[1].id)])
        session.commit()
        return {"media": items[0].id, "media_name": items[0].file_name, "media_spare": items[1].id}


def add_bookings(app: Any) -> dict[str, Any]:
    """Bookings of the ticket field (issue 20): the first slot still free from now on (the
    walk books it), two bookings there (one cancelled with its key, one by staff) and one
    of this very moment to check in (made directly: no slot starts exactly now)."""
    from onestop.bookings import engine as bookings
    from onestop.bookings.models import Booking

    with app.app_context():
        session = db.session()
        now = utcnow()
        unit = session.scalars(select(Unit).order_by(Unit.id)).one()
        svc = session.scalars(select(Service).where(Service.unit_id == unit.id,
                                                    Service.code == "TPHT")).one()
        svc.booking = {**(svc.booking or {}), "per_slot": 10}
        day, found = unit.business_date(now), None
        for _ in range(30):
            found = next((s for s in bookings.slots(session, unit, svc, day, now) if s.free), None)
            if found:
                break
            day += dt.timedelta(days=1)
        assert found is not None, "no bookable slot in 30 days"
        made = [bookings.book(session, unit, svc, start=found.start, phone=phone, actor=Actor(), now=now)
                for phone in ("0912000101", "0912000102", "0912000104")]
        today = Booking(unit_id=unit.id, service_id=svc.id, code=bookings.new_code(session), start=now,
                        end=now + dt.timedelta(minutes=15), phone="+84912000103", state="booked",
                        channel="web", created_at=now)
        session.add(today)
        session.commit()
        return {"bk_day": day.isoformat(), "bk_start": unit.local(found.start).isoformat(),
                "bk": made[0].code, "bk_k": bookings.manage_key(str(app.config["SECRET_KEY"]), made[0]),
                "bk_staff": made[1].code, "bk_today": today.code,
                "bk_today_k": bookings.manage_key(str(app.config["SECRET_KEY"]), today),
                "bk_desk_id": made[2].id}


def add_webhook(app: Any, client: Any, admin_token: str, world: dict[str, Any]) -> None:
    """A webhook on ticket.issued and one delivery of it (the admin's API, then one ticket)."""
    auth = {"Authorization": f"Bearer {admin_token}"}
    res = client.post(f"{API}/webhooks", headers=auth,
                      json={"url": "http://127.0.0.1:9/onestop", "events": ["ticket.issued"]})
    assert res.status_code == 201, res.get_json()
    world["hook"] = res.get_json()["id"]
    res = client.post(f"{API}/tickets", headers=auth, json={"service_id": world["svc"]})
    assert res.status_code == 201, res.get_json()
    res = client.get(f"{API}/webhooks/{world['hook']}/deliveries", headers=auth)
    deliveries = res.get_json()["deliveries"]
    assert deliveries, "issuing a ticket queued no webhook delivery"
    world["delivery"] = deliveries[0]["id"]


def fill(value: Any, world: dict[str, Any]) -> Any:
    """``value`` with every ``{placeholder}`` string filled; a whole ``"{x}"`` keeps x's type."""
    if isinstance(value, str):
        if value.startswith("{") and value.endswith("}") and value[1:-1] in world:
            return world[value[1:-1]]
        return value.format(**world)
    if isinstance(value, dict):
        return {fill(k, world): fill(v, world) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, world) for v in value]
    return value

