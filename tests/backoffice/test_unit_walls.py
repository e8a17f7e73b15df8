"""Walls between units in the back office: an admin bound to unit B manages unit B only.

The matrix: every back-office route (read from ``app.url_map`` for the back-office
blueprints, so a route added later without a row here fails ``test_every_route_has_a_case``)
is walked by B's admin twice:

- *against A*: routes that name an object get A's object (A's user, device, field, ...) and
  must answer 403/404; routes that name none are aimed at A with ``?unit=<A's code>`` and,
  where a form chooses a unit, ``unit_id=<A>``. Either way A's rows are byte-for-byte what
  they were, and no page shows anything of A's (its names, its lock's address);
- *on B*: the same request with B's objects succeeds (2xx/3xx) and, for a change, B's rows
  really change.

An admin without a unit keeps the power over every unit (last tests).
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import pytest
from sqlalchemy import select

from onestop.accounts import engine as accounts
from onestop.accounts.models import ApiToken, LoginLock, User
from onestop.audit.models import AuditEntry
from onestop.db import utcnow
from onestop.dossiers.models import Procedure
from onestop.models import Base
from onestop.queueing.models import Counter, CounterService, Service
from onestop.units.models import Unit, UnitDay
from onestop.webhooks import engine as webhooks
from tests.api.helpers import in_db
from tests.backoffice.conftest import csrf_from, login, signed_in
from tests.conftest import demo_app
from tests.notifications.matrix_world import wall_dead_message, wall_templates

BLUEPRINTS = ("backoffice", "admin_printers", "booking_desk", "admin_notify")
PASSWORD = "Mat-khau-dai-2026!"
# everything of A's that a page could show; none may appear on any page B's admin opens
A_MARKS = ("Trung tâm Bí mật A", "000.00.77.A77", "Lĩnh vực riêng của A", "a.clerk", "Cán bộ đơn vị A",
           "Ki-ốt của A", "hook-of-a", "Thủ tục riêng của A", "Nghỉ riêng của A", "10.9.9.9",
           "Ảnh riêng của A")


# --- the world: unit A with one of everything, and spares in B (the demo unit) ----------


def _lock(session: Any, user: User, address: str) -> None:
    session.add(LoginLock(user_id=user.id, address=address, failures=0, locks=1,
                          locked_until=utcnow().replace(year=2099), last_failure_at=utcnow()))


def _objects(session: Any, unit: Unit, tag: str, service: Service, counter: Counter) -> dict[str, Any]:
    """The objects the routes name, for one unit."""
    clerk = accounts.add_user(session, unit, f"{tag}.clerk", PASSWORD, "clerk",
                              full_name=f"Cán bộ đơn vị {tag.upper()}")
    locked = accounts.add_user(session, unit, f"{tag}.locked", PASSWORD, "clerk")
    _lock(session, locked, "10.9.9.9" if tag == "a" else "10.8.8.8")
    devices = {}
    for name in ("edit", "rotate", "revoke"):
        label = "Ki-ốt của A" if tag == "a" else f"Ki-ốt {name}"
        device, _token, _code = accounts.add_device(session, unit, "kiosk", label, now=utcnow())
        devices[f"device_{name}"] = device.id
    day = UnitDay(unit_id=unit.id, date=dt.date(2030, 5, 6), kind="off",
                  note="Nghỉ riêng của A" if tag == "a" else "Nghỉ của B")
    session.add(day)
    hook = webhooks.create_webhook(session, unit, f"http://127.0.0.1:9/hook-of-{tag}", ["ticket.issued"],
                                   now=utcnow(), allow_loopback=True, created_by_id=None)
    session.flush()
    return {"unit": unit.id, "unit_code": unit.code, "service": service.id, "counter": counter.id,
            "counter_number": counter.number, "user": clerk.id, "locked_user": locked.id,
            "day": day.id, "hook": hook.id, **devices, **_bookable(session, unit, service, tag),
            **_media(session, unit, tag)}


def _media(session: Any, unit: Unit, tag: str) -> dict[str, Any]:
    """An image of the unit's hall, on its playlist."""
    from flask import current_app

    from onestop.media import engine as media
    from tests.media.samples import image

    title = "Ảnh riêng của A" if tag == "a" else "Ảnh của B"
    item = media.store(session, unit, image(colour="red" if tag == "a" else "blue"), title=title,
                       folder=media.media_dir(current_app.config["DATA_DIR"]), max_bytes=10**6,
                       actor_id=None, now=utcnow())
    media.set_playlist(session, unit, "", [media.Line(media_id=item.id)])
    return {"media": item.id}


def _bookable(session: Any, unit: Unit, service: Service, tag: str) -> dict[str, Any]:
    """The field takes bookings; one booking to cancel, and the first free slot from now."""
    from onestop.bookings import engine as bookings
    from onestop.bookings.models import Booking

    service.booking = {"per_slot": 5}
    now = utcnow()
    start = now + dt.timedelta(days=1)
    booking = Booking(unit_id=unit.id, service_id=service.id, code=f"WALL{tag.upper()}2", start=start,
                      end=start + dt.timedelta(minutes=15), phone="+84912345678", state="booked",
                      channel="web", created_at=now)
    session.add(booking)
    session.flush()
    for ahead in range(10):
        day = unit.business_date(now) + dt.timedelta(days=ahead)
        free = [s for s in bookings.slots(session, unit, service, day, now) if s.free]
        if free:
            return {"booking": booking.id, "slot_day": day.isoformat(),
                    "slot_start": unit.local(free[0].start).isoformat()}
    assert tag == "a", "no free slot for B in the next 10 days"  # A's field has no windows
    return {"booking": booking.id, "slot_day": start.date().isoformat(), "slot_start": start.isoformat()}


def _build(app: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    with in_db(app) as session:
        b = session.scalars(select(Unit).order_by(Unit.id)).first()
        a = Unit(code="000.00.77.A77", name="Trung tâm Bí mật A", address="Số 1", timezone="Asia/Ho_Chi_Minh",
                 settings={"display_notice": "Thông báo của A"})
        session.add(a)
        session.flush()
        svc_a = Service(unit_id=a.id, code="RIENG", name="Lĩnh vực riêng của A", prefix="Q",
                        weekdays=[1, 2, 3, 4, 5], windows=[], cutoff_minutes=0, zone="", sort_order=0)
        session.add(svc_a)
        session.flush()
        counter_a = Counter(unit_id=a.id, number=1, name="Quầy của A", state="closed")
        counter_a.links = [CounterService(service_id=svc_a.id, position=0, weight=1)]
        session.add(counter_a)
        session.add(Procedure(unit_id=a.id, service_id=svc_a.id, code="7.777777", name="Thủ tục riêng của A"))
        accounts.add_user(session, a, "a.admin", PASSWORD, "admin")
        svc_b = session.scalars(select(Service).where(Service.unit_id == b.id).order_by(Service.id)).first()
        counter_b = session.scalars(select(Counter).where(Counter.unit_id == b.id)
                                    .order_by(Counter.number.desc())).first()
        session.flush()
        return (_objects(session, a, "a", svc_a, counter_a), _objects(session, b, "b", svc_b, counter_b))


# --- what a unit is, for "changed" and "unchanged" --------------------------------------


def fingerprint(app: Any, unit_id: int) -> dict[str, list[str]]:
    """Every row that belongs to the unit (the audit trail aside: a refused request may be
    logged, and a change must show in the rows themselves)."""
    out: dict[str, list[str]] = {}
    with in_db(app) as session:
        user_ids = select(User.id).where(User.unit_id == unit_id)
        counter_ids = select(Counter.id).where(Counter.unit_id == unit_id)
        for table in Base.metadata.sorted_tables:
            if table.name == AuditEntry.__tablename__:
                continue
            if table.name == Unit.__tablename__:
                query = select(table).where(table.c.id == unit_id)
            elif "unit_id" in table.c:
                query = select(table).where(table.c.unit_id == unit_id)
            elif table.name in (ApiToken.__tablename__, LoginLock.__tablename__):
                query = select(table).where(table.c.user_id.in_(user_ids))
            elif table.name == CounterService.__tablename__:
                query = select(table).where(table.c.counter_id.in_(counter_ids))
            else:
                continue
            out[table.name] = sorted(repr(tuple(row)) for row in session.execute(query))
    return out


# --- forms as a browser sends them --------------------------------------------------------


class _Forms(HTMLParser):
    """The POST forms of a page: their action and the values a browser would send."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, dict[str, Any]]] = []
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("method", "").lower() == "post":
            self.forms.append((a.get("action", ""), {}))
        if not self.forms:
            return
        values = self.forms[-1][1]
        name = a.get("name")
        if tag == "input" and name and name != "csrf_token":
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    values.setdefault(name, []).append(a.get("value", "y"))
            elif kind not in ("submit", "file"):
                values[name] = a.get("value", "")
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select:
            if "selected" in a or self._select not in values:
                values[self._select] = a.get("value", "")
        elif tag == "textarea" and name:
            self._textarea = name
            values[name] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        if tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea and self.forms:
            values = self.forms[-1][1]
            # a browser drops the newline that follows <textarea>
            values[self._textarea] += data if values[self._textarea] else data.lstrip("\r\n")


def form_of(client: Any, page_url: str) -> dict[str, Any]:
    """The page's main POST form (the one with most fields: not the layout's sign-out), as
    the browser would send it untouched."""
    res = client.get(page_url)
    assert res.status_code == 200, (page_url, res.status_code)
    parser = _Forms()
    parser.feed(res.get_data(as_text=True))
    assert parser.forms, f"no form on {page_url}"
    return dict(max(parser.forms, key=lambda form: len(form[1]))[1])


# --- the cases ----------------------------------------------------------------------------


@dataclass
class Case:
    """One route: ``url`` has ``{placeholders}`` filled from A's or B's objects; ``body``
    builds the form (from the admin's client, the unit's objects and a tag unique to the
    walk); ``names_object``: the URL names an object, so A's must be refused."""

    rule: str
    method: str
    url: str
    body: Any = None
    names_object: bool = False
    bound_refused: bool = False  # cross-unit power: refused to a bound admin on B too
    query: dict[str, str] = field(default_factory=dict)


def _b_form(page: str, **over: Any) -> Any:
    """B's own form page, changed: what B's admin sends (also to A's URL)."""
    def build(client: Any, b: dict[str, Any], _objs: dict[str, Any], tag: str) -> dict[str, Any]:
        values = form_of(client, page.format(**b))
        values.update({k: (v.format(**{**b, "tag": tag}) if isinstance(v, str) else v)
                       for k, v in over.items()})
        return values
    return build


def _fixed(**values: Any) -> Any:
    def build(_client: Any, _b: dict[str, Any], objs: dict[str, Any], tag: str) -> dict[str, Any]:
        return {k: (v.format(**{**objs, "tag": tag}) if isinstance(v, str) else v) for k, v in values.items()}
    return build


def _counter_form(client: Any, b: dict[str, Any], objs: dict[str, Any], tag: str) -> dict[str, Any]:
    number = {"a": 41, "b": 42}.get(tag, 43)
    return {"number": str(number), "name": f"Quầy mới {tag}", "zone": "", "service_mode": "fifo",
            f"pos_{b['service']}": "1", f"weight_{b['service']}": "1",
            f"pos_{objs['service']}": "1", f"weight_{objs['service']}": "1"}


def _upload(_client: Any, _b: dict[str, Any], _objs: dict[str, Any], tag: str) -> dict[str, Any]:
    csv = ("code,name,service_code,processing_days,fee,documents\r\n"
           f"9.99900{len(tag)},Thủ tục tường {tag},TPHT,3,Miễn phí,Tờ khai\r\n")
    return {"file": (io.BytesIO(csv.encode()), f"walls-{tag}.csv"), "replace": ""}


def _media_upload(_client: Any, _b: dict[str, Any], _objs: dict[str, Any], tag: str) -> dict[str, Any]:
    from tests.media.samples import image

    return {"file": (io.BytesIO(image(colour="green" if tag == "a" else "white")), f"walls-{tag}.png"),
            "title": f"Ảnh mới {tag}"}


NEW_PASSWORD = {"password": "Mat-khau-moi-2026!", "password2": "Mat-khau-moi-2026!"}
CASES = [
    # lists and settings pages: no object in the URL; ?unit= aims them at A
    *[Case(rule, "GET", rule) for rule in (
        "/admin/", "/admin/calendar", "/admin/counters", "/admin/devices", "/admin/display",
        "/admin/printers", "/admin/procedures", "/admin/ratings", "/admin/services", "/admin/units",
        "/admin/users", "/admin/webhooks", "/admin/counters/new", "/admin/devices/new",
        "/admin/services/new", "/admin/users/new", "/admin/webhooks/new")],
    Case("/admin/audit", "GET", "/admin/audit", query={"user_id": "{user}"}),
    Case("/admin/procedures/export.<fmt>", "GET", "/admin/procedures/export.csv"),
    Case("/admin/units/new", "GET", "/admin/units/new", bound_refused=True),
    *[Case(rule, "GET", rule) for rule in ("/admin/bookings", "/admin/bookings/new",
                                           "/admin/bookings/poster.pdf", "/admin/booking-settings")],
    # pages of one object
    *[Case(rule, "GET", url, names_object=True) for rule, url in (
        ("/admin/counters/<int:counter_id>", "/admin/counters/{counter}"),
        ("/admin/devices/<int:device_id>/edit", "/admin/devices/{device_edit}/edit"),
        ("/admin/services/<int:service_id>", "/admin/services/{service}"),
        ("/admin/units/<int:unit_id>", "/admin/units/{unit}"),
        ("/admin/users/<int:user_id>", "/admin/users/{user}"))],
    # changes to one object
    Case("/admin/counters/<int:counter_id>", "POST", "/admin/counters/{counter}", names_object=True,
         body=_b_form("/admin/counters/{counter}", name="Quầy đổi tên {tag}")),
    Case("/admin/devices/<int:device_id>/edit", "POST", "/admin/devices/{device_edit}/edit",
         names_object=True,
         body=_b_form("/admin/devices/{device_edit}/edit", name="Ki-ốt đổi tên {tag}")),
    Case("/admin/services/<int:service_id>", "POST", "/admin/services/{service}", names_object=True,
         body=_b_form("/admin/services/{service}", name="Lĩnh vực đổi tên {tag}")),
    Case("/admin/units/<int:unit_id>", "POST", "/admin/units/{unit}", names_object=True,
         body=_b_form("/admin/units/{unit}", name="Đơn vị đổi tên {tag}")),
    Case("/admin/users/<int:user_id>", "POST", "/admin/users/{user}", names_object=True,
         body=_b_form("/admin/users/{user}", full_name="Họ tên mới {tag}")),
    Case("/admin/users/<int:user_id>/password", "POST", "/admin/users/{user}/password", names_object=True,
         body=_fixed(**NEW_PASSWORD)),
    Case("/admin/users/<int:user_id>/unlock", "POST", "/admin/users/{locked_user}/unlock", names_object=True,
         body=_fixed()),
    Case("/admin/users/<int:user_id>/disable", "POST", "/admin/users/{user}/disable", names_object=True,
         body=_fixed()),
    Case("/admin/users/<int:user_id>/enable", "POST", "/admin/users/{user}/enable", names_object=True,
         body=_fixed()),
    Case("/admin/devices/<int:device_id>/rotate", "POST", "/admin/devices/{device_rotate}/rotate",
         names_object=True, body=_fixed()),
    Case("/admin/devices/<int:device_id>/revoke", "POST", "/admin/devices/{device_revoke}/revoke",
         names_object=True, body=_fixed()),
    Case("/admin/calendar/<int:day_id>/delete", "POST", "/admin/calendar/{day}/delete", names_object=True,
         body=_fixed()),
    Case("/admin/webhooks/<int:webhook_id>/deactivate", "POST", "/admin/webhooks/{hook}/deactivate",
         names_object=True, body=_fixed()),
    Case("/admin/services/<int:service_id>/booking", "GET", "/admin/services/{service}/booking",
         names_object=True),
    Case("/admin/services/<int:service_id>/booking", "POST", "/admin/services/{service}/booking",
         names_object=True, body=_b_form("/admin/services/{service}/booking", per_slot="{tag_seconds}")),
    Case("/admin/bookings/<int:booking_id>/cancel", "POST", "/admin/bookings/{booking}/cancel",
         names_object=True, body=_fixed()),
    # a booking for a citizen: A's field is not found from B (no form), B's gets the booking
    Case("/admin/bookings/new", "POST", "/admin/bookings/new",
         query={"service_id": "{service}", "day": "{slot_day}"},
         body=_fixed(start="{slot_start}", phone="0912345670", name="Công dân {tag}")),
    Case("/admin/booking-settings", "POST", "/admin/booking-settings",
         body=_b_form("/admin/booking-settings", remote_per_address_per_day="{tag_seconds}")),
    # messages to citizens (onestop/backoffice/notify.py): the admin's own unit, whatever ?unit= says
    Case("/admin/notifications", "GET", "/admin/notifications"),
    Case("/admin/notifications/templates", "GET", "/admin/notifications/templates"),
    Case("/admin/notifications/templates", "POST", "/admin/notifications/templates", body=wall_templates),
    Case("/admin/notifications/retry", "POST", "/admin/notifications/retry", body=wall_dead_message),
    # new things and settings: aimed at A with ?unit= (and unit_id= where the form has one)
    Case("/admin/calendar", "POST", "/admin/calendar",
         body=_fixed(date="2030-03-0{tag_day}", kind="off", note="Ngày {tag_day}")),
    Case("/admin/counters/new", "POST", "/admin/counters/new", body=_counter_form),
    Case("/admin/devices/new", "POST", "/admin/devices/new",
         body=_fixed(kind="kiosk", name="Ki-ốt mới {tag}", counter_id="0", printer_uri="")),
    Case("/admin/services/new", "POST", "/admin/services/new",
         body=_b_form("/admin/services/new", code="MOI{tag}", name="Lĩnh vực mới {tag}", prefix="X{tag}")),
    Case("/admin/users/new", "POST", "/admin/users/new",
         body=_fixed(username="moi.{tag}", full_name="Người mới", role="admin", unit_id="{unit}",
                     **NEW_PASSWORD)),
    Case("/admin/webhooks/new", "POST", "/admin/webhooks/new",
         body=_fixed(url="http://127.0.0.1:9/new-{tag}", events=["ticket.issued"])),
    Case("/admin/procedures", "POST", "/admin/procedures", body=_upload),
    # the hall's media: a new image and a playlist line land in the admin's own unit
    Case("/admin/media", "GET", "/admin/media"),
    Case("/admin/media", "POST", "/admin/media", body=_media_upload),
    Case("/admin/media/playlist", "POST", "/admin/media/playlist",
         body=_fixed(zone="", item="qr", seconds="5")),
    Case("/admin/media/playlist/<int:position>/delete", "POST", "/admin/media/playlist/0/delete",
         body=_fixed()),
    Case("/admin/media/<int:media_id>/delete", "POST", "/admin/media/{media}/delete", names_object=True,
         body=_fixed()),
    Case("/admin/display", "POST", "/admin/display",
         body=_b_form("/admin/display", display_notice="Thông báo mới {tag}")),
    Case("/admin/ratings", "POST", "/admin/ratings",
         body=_b_form("/admin/ratings", rating_timeout_seconds="{tag_seconds}")),
    Case("/admin/units/new", "POST", "/admin/units/new", bound_refused=True,
         body=_fixed(code="000.00.88.N{tag}", name="Đơn vị mới {tag}", address="",
                     timezone="Asia/Ho_Chi_Minh")),
]


def _rules(app: Any) -> set[tuple[str, str]]:
    out = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] in BLUEPRINTS and not rule.endpoint.endswith(".static"):
            methods = (rule.methods or set()) & {"GET", "POST", "PUT", "PATCH", "DELETE"}
            out |= {(rule.rule, m) for m in methods}
    return out


@pytest.fixture
def world(tmp_path: Any) -> Any:
    with demo_app(tmp_path, WEBHOOK_WORKER=False, WEBHOOK_ALLOW_LOOPBACK=True) as app:
        app.a, app.b = _build(app)
        yield app


def test_every_route_has_a_case(world: Any) -> None:
    listed = {(c.rule, c.method) for c in CASES}
    missing = sorted(_rules(world) - listed)
    assert not missing, f"back-office routes without a wall case: {missing}"
    assert not listed - _rules(world), f"cases for routes that are gone: {sorted(listed - _rules(world))}"


def _send(client: Any, case: Case, objs: dict[str, Any], b: dict[str, Any], tag: str, csrf: str,
          aim: dict[str, Any]) -> Any:
    values = {**objs, "tag": tag}
    url = case.url.format(**values)
    query = {k: v.format(**values) for k, v in {**case.query, "unit": aim["unit_code"]}.items()}
    if case.method == "GET":
        return client.get(url, query_string=query)
    extra = {"tag": tag, "tag_day": {"a": "5", "b": "6"}[tag], "tag_seconds": {"a": "33", "b": "44"}[tag]}
    body = case.body(client, {**b, **extra}, {**objs, **extra}, tag) if case.body else {}
    return client.post(url, query_string=query, data={**body, "csrf_token": csrf},
                       content_type="multipart/form-data")


def _shows_nothing_of_a(res: Any) -> list[str]:
    text = res.get_data().decode("utf-8", "replace")  # a PDF too (the poster)
    return [mark for mark in A_MARKS if mark in text]


def test_an_admin_of_unit_b_cannot_reach_unit_a(world: Any) -> None:
    """Every route against A's objects: refused or landing in B; A unchanged; nothing of A shown."""
    a, b = world.a, world.b
    client = signed_in(world, "admin")  # the demo admin, bound to the demo unit (B)
    csrf = csrf_from(client.get("/admin/").get_data(as_text=True))
    failures = []
    for case in CASES:
        before = fingerprint(world, a["unit"])
        res = _send(client, case, a, b, "a", csrf, aim=a)
        after = fingerprint(world, a["unit"])
        problem = None
        if res.status_code >= 500:
            problem = f"server error {res.status_code}"
        elif (case.names_object or case.bound_refused) and res.status_code not in (403, 404):
            problem = f"answered {res.status_code}, not 403/404"
        elif before != after:
            changed = sorted(k for k in before if before[k] != after[k])
            problem = f"changed A's {changed}"
        elif leaked := _shows_nothing_of_a(res):
            problem = f"shows A's {leaked}"
        if problem:
            failures.append(f"{case.method} {case.rule}: {problem}")
    assert not failures, "\n".join(failures)


def test_the_same_admin_manages_unit_b(world: Any) -> None:
    """The same requests on B's objects go through, and a change is really made in B."""
    b = world.b
    client = signed_in(world, "admin")
    csrf = csrf_from(client.get("/admin/").get_data(as_text=True))
    failures = []
    for case in CASES:
        before = fingerprint(world, b["unit"])
        res = _send(client, case, b, b, "b", csrf, aim=b)
        after = fingerprint(world, b["unit"])
        if case.bound_refused:
            if res.status_code != 403 or before != after:
                failures.append(f"{case.method} {case.rule}: {res.status_code}, should be 403 "
                                "for a unit's admin")
            continue
        if not 200 <= res.status_code < 400:
            failures.append(f"{case.method} {case.rule}: answered {res.status_code}")
        elif case.method == "POST" and before == after:
            failures.append(f"{case.method} {case.rule}: answered {res.status_code} but changed nothing in B")
        elif leaked := _shows_nothing_of_a(res):
            failures.append(f"{case.method} {case.rule}: shows A's {leaked}")
    assert not failures, "\n".join(failures)


def test_a_unit_admin_cannot_move_an_account_or_itself_into_another_unit(world: Any) -> None:
    a, b = world.a, world.b
    client = signed_in(world, "admin")
    with in_db(world) as session:
        me = session.scalars(select(User).where(User.username == "admin")).one()
        my_id, my_unit = me.id, me.unit_id
    for user_id in (my_id, b["user"]):
        values = form_of(client, f"/admin/users/{user_id}")
        csrf = csrf_from(client.get(f"/admin/users/{user_id}").get_data(as_text=True))
        res = client.post(f"/admin/users/{user_id}",
                          data={**values, "unit_id": str(a["unit"]), "csrf_token": csrf})
        assert res.status_code == 422, (user_id, res.status_code)
    with in_db(world) as session:
        assert session.get(User, my_id).unit_id == my_unit
        assert session.get(User, b["user"]).unit_id == b["unit"]
    # the choices offered are B's only
    assert "Trung tâm Bí mật A" not in client.get("/admin/users/new").get_data(as_text=True)


def test_an_admin_without_a_unit_keeps_the_power_over_every_unit(world: Any) -> None:
    a = world.a
    with in_db(world) as session:
        root = User(username="root", full_name="Quản trị tỉnh", role="admin", unit_id=None)
        root.set_password(PASSWORD)
        session.add(root)
    client = world.test_client()
    assert login(client, "root", PASSWORD).status_code == 302
    assert "a.clerk" in client.get("/admin/users").get_data(as_text=True)
    page = client.get(f"/admin/users/{a['user']}")
    assert page.status_code == 200
    values = form_of(client, f"/admin/users/{a['user']}")
    csrf = csrf_from(page.get_data(as_text=True))
    res = client.post(f"/admin/users/{a['user']}",
                      data={**values, "full_name": "Đổi bởi tỉnh", "csrf_token": csrf})
    assert res.status_code == 302
    with in_db(world) as session:
        assert session.get(User, a["user"]).full_name == "Đổi bởi tỉnh"
    assert client.get(f"/admin/units/{a['unit']}").status_code == 200
    assert client.get("/admin/units/new").status_code == 200
    services = client.get(f"/admin/services?unit={a['unit_code']}").get_data(as_text=True)
    assert "Lĩnh vực riêng của A" in services
    assert "10.9.9.9" in client.get("/admin/users").get_data(as_text=True)  # every unit's locks
    # ... and is out of reach of a unit's admin: no page, no new password, not in the list
    with in_db(world) as session:
        root_id = session.scalars(select(User.id).where(User.username == "root")).one()
    unit_admin = signed_in(world, "admin")
    csrf = csrf_from(unit_admin.get("/admin/").get_data(as_text=True))
    assert unit_admin.get(f"/admin/users/{root_id}").status_code == 404
    res = unit_admin.post(f"/admin/users/{root_id}/password", data={**NEW_PASSWORD, "csrf_token": csrf})
    assert res.status_code == 404
    assert login(world.test_client(), "root", PASSWORD).status_code == 302
    assert "Quản trị tỉnh" not in unit_admin.get("/admin/users").get_data(as_text=True)
