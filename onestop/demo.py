"""Demo data: a commune-level centre with ten fields, eight counters, demo accounts and, for
``onestop demo``, a kiosk, a hall display, a counter display and a tablet to pair.

Only ever loaded by ``onestop demo``; the accounts all use the password ``demo``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestop.accounts import engine as accounts_engine
from onestop.accounts.models import Device, User
from onestop.dossiers.models import Procedure
from onestop.queueing.models import Counter, CounterService, Service
from onestop.units.models import Unit

if TYPE_CHECKING:
    from onestop.demo_history import HistorySummary

DEMO_PASSWORD = "demo"
UNIT_CODE = "H56.12.3"
# every demo field takes bookings (onestop/bookings/settings.py), and numbers from the phone
# are allowed: both can be tried at once (issue 20)
BOOKING = {"slot_minutes": 15, "per_slot": 2}
UNIT_SETTINGS = {"remote_tickets": True}
MWF, TT, WEEK = [1, 3, 5], [2, 4], [1, 2, 3, 4, 5]
WINDOWS = [["07:30", "11:30"], ["13:30", "17:00"]]

# code, name, English name, prefix, weekdays, zone
FIELDS: list[tuple[str, str, str, str, list[int], str]] = [
    ("TPHT", "Tư pháp – Hộ tịch", "Justice – Civil status", "A", WEEK, "A"),
    ("DD", "Đất đai", "Land", "B", MWF, "A"),
    ("LDTBXH", "Lao động – Thương binh và Xã hội", "Labour, Invalids and Social Affairs", "C", WEEK, "A"),
    ("KTHT", "Kinh tế – Hạ tầng", "Economy – Infrastructure", "D", TT, "B"),
    ("DKKD", "Đăng ký kinh doanh", "Business registration", "E", MWF, "B"),
    ("YT", "Y tế", "Health", "F", TT, "B"),
    ("GD", "Giáo dục", "Education", "G", TT, "B"),
    ("VHTT", "Văn hóa – Thông tin", "Culture – Information", "H", MWF, "B"),
    ("NV", "Nội vụ", "Home affairs", "K", TT, "A"),
    ("NN", "Nông nghiệp", "Agriculture", "L", MWF, "A"),
]

# counter number -> field codes served (in order)
COUNTERS: dict[int, list[str]] = {
    1: ["TPHT"], 2: ["TPHT", "NV"], 3: ["DD", "NN"], 4: ["LDTBXH", "YT"],
    5: ["KTHT", "DKKD"], 6: ["DKKD", "VHTT", "GD"], 7: ["DD", "KTHT"],
    8: ["TPHT", "LDTBXH", "YT", "GD", "VHTT", "NN"],
}

PROCEDURES: list[tuple[str, str, str, int, str, list[str]]] = [
    ("TPHT", "1.001193", "Đăng ký khai sinh", 0, "Miễn phí",
     ["Tờ khai đăng ký khai sinh", "Giấy chứng sinh", "Giấy tờ tùy thân của người đi đăng ký"]),
    ("TPHT", "1.000894", "Đăng ký kết hôn", 0, "Miễn phí",
     ["Tờ khai đăng ký kết hôn", "Giấy tờ tùy thân của hai bên"]),
    ("TPHT", "1.000656", "Đăng ký khai tử", 0, "Miễn phí",
     ["Tờ khai đăng ký khai tử", "Giấy báo tử hoặc giấy tờ thay thế"]),
    ("TPHT", "2.000908", "Chứng thực bản sao từ bản chính", 0, "2.000 đồng/trang",
     ["Bản chính giấy tờ", "Bản sao cần chứng thực"]),
    ("DD", "1.004227", "Đăng ký biến động quyền sử dụng đất", 10, "Theo quy định của tỉnh",
     ["Đơn đăng ký biến động", "Giấy chứng nhận đã cấp", "Hợp đồng chuyển nhượng"]),
    ("DD", "1.003003", "Hòa giải tranh chấp đất đai", 30, "Miễn phí",
     ["Đơn đề nghị hòa giải", "Giấy tờ liên quan đến thửa đất"]),
    ("LDTBXH", "1.001776", "Trợ cấp xã hội hằng tháng cho người cao tuổi", 15, "Miễn phí",
     ["Tờ khai đề nghị trợ giúp xã hội", "Bản sao căn cước"]),
    ("LDTBXH", "1.002252", "Xác nhận hộ nghèo, hộ cận nghèo", 7, "Miễn phí",
     ["Giấy đề nghị xác nhận"]),
    ("KTHT", "1.009994", "Cấp giấy phép xây dựng nhà ở riêng lẻ", 15, "75.000 đồng",
     ["Đơn đề nghị cấp giấy phép", "Giấy tờ về quyền sử dụng đất", "Bản vẽ thiết kế"]),
    ("DKKD", "2.000575", "Đăng ký thành lập hộ kinh doanh", 3, "100.000 đồng",
     ["Giấy đề nghị đăng ký hộ kinh doanh", "Bản sao giấy tờ pháp lý của chủ hộ"]),
    ("DKKD", "2.000720", "Đăng ký thay đổi nội dung đăng ký hộ kinh doanh", 3, "50.000 đồng",
     ["Thông báo thay đổi nội dung đăng ký hộ kinh doanh"]),
    ("YT", "1.003500", "Cấp giấy chứng nhận đủ điều kiện an toàn thực phẩm", 15, "Theo quy định",
     ["Đơn đề nghị", "Giấy xác nhận đủ sức khỏe của chủ cơ sở"]),
    ("GD", "1.004439", "Cho phép trường mẫu giáo hoạt động giáo dục", 20, "Miễn phí",
     ["Tờ trình đề nghị", "Quyết định thành lập"]),
    ("VHTT", "1.003635", "Công nhận gia đình văn hóa", 5, "Miễn phí", ["Đơn đề nghị"]),
    ("NV", "1.003596", "Công nhận ban vận động thành lập hội", 10, "Miễn phí",
     ["Đơn đề nghị", "Danh sách ban vận động"]),
    ("NN", "1.008004", "Hỗ trợ khôi phục sản xuất vùng bị thiệt hại do thiên tai", 10, "Miễn phí",
     ["Bản đề nghị hỗ trợ"]),
]


def load(session: Session) -> Unit:
    """Create the demo centre if it is not there yet; return it."""
    unit = session.scalar(select(Unit).where(Unit.code == UNIT_CODE))
    if unit is not None:
        return unit
    unit = Unit(code=UNIT_CODE, name="Trung tâm Phục vụ hành chính công xã Hòa Bình",
                address="Số 1 đường Trần Hưng Đạo, xã Hòa Bình, tỉnh Mẫu",
                timezone="Asia/Ho_Chi_Minh", settings=dict(UNIT_SETTINGS))
    session.add(unit)
    session.flush()
    services = _services(session, unit)
    _counters(session, unit, services)
    _users(session, unit)
    _procedures(session, unit, services)
    session.flush()
    return unit


def _services(session: Session, unit: Unit) -> dict[str, Service]:
    out = {}
    for order, (code, name, name_en, prefix, days, zone) in enumerate(FIELDS):
        svc = Service(unit_id=unit.id, code=code, name=name, name_en=name_en, prefix=prefix,
                      weekdays=list(days), windows=[list(w) for w in WINDOWS], cutoff_minutes=15,
                      daily_cap=300, zone=zone, sort_order=order, booking=dict(BOOKING))
        session.add(svc)
        out[code] = svc
    session.flush()
    return out


def _counters(session: Session, unit: Unit, services: dict[str, Service]) -> None:
    for number, codes in COUNTERS.items():
        counter = Counter(unit_id=unit.id, number=number, name=f"Quầy {number}",
                          zone=services[codes[0]].zone, state="closed", service_mode="fifo")
        counter.links = [CounterService(service_id=services[c].id, position=i)
                         for i, c in enumerate(codes)]
        session.add(counter)


def _users(session: Session, unit: Unit) -> None:
    people: list[tuple[str, str, str]] = [
        ("admin", "Quản trị hệ thống", "admin"), ("manager", "Nguyễn Thị Lan", "manager")]
    names = ["Trần Văn An", "Lê Thị Bình", "Phạm Minh Châu", "Hoàng Văn Dũng",
             "Vũ Thị Hà", "Đặng Quốc Khánh", "Bùi Thị Mai", "Đỗ Văn Nam"]
    people += [(f"clerk{i}", name, "clerk") for i, name in enumerate(names, start=1)]
    # one password for all, hashed once: each hash costs about 0.1 s (scrypt), and the demo
    # starts on every `make demo` and in every browser test
    hashed = ""
    for username, full_name, role in people:
        user = User(unit_id=unit.id, username=username, full_name=full_name, role=role)
        if not hashed:
            user.set_password(DEMO_PASSWORD)
            hashed = user.password_hash
        user.password_hash = hashed
        session.add(user)


def _procedures(session: Session, unit: Unit, services: dict[str, Service]) -> None:
    for field, code, name, days, fee, docs in PROCEDURES:
        proc = Procedure(unit_id=unit.id, service_id=services[field].id, code=code, name=name,
                         processing_days=days, fee=fee, documents=list(docs))
        proc.refresh_search()
        session.add(proc)


# kind, name, counter number, pairing page: what `onestop demo` registers for a newcomer
DEVICES: list[tuple[str, str, int | None, str]] = [
    ("kiosk", "Ki-ốt sảnh (demo)", None, "/kiosk/pair"),
    ("display", "Màn hình gọi số sảnh (demo)", None, "/display/pair"),
    ("counter-display", "Màn hình quầy 1 (demo)", 1, "/display/pair"),
    ("tablet", "Máy tính bảng đánh giá quầy 1 (demo)", 1, "/counter/tablet/pair"),
]


@dataclass(frozen=True)
class DemoDevice:
    kind: str
    name: str
    code: str  # the one-time pairing code, valid 24 h
    pair_path: str  # the pairing page; ``pair_url`` adds the code

    def pair_url(self, base: str) -> str:
        return f"{base}{self.pair_path}?code={self.code}"


def register_devices(session: Session, unit: Unit, *, now: dt.datetime) -> list[DemoDevice]:
    """The demo's devices (``DEVICES``), each with a fresh pairing code.

    Idempotent: a device an earlier run registered (same unit, kind and name, not revoked)
    is reused, keeps its token (a screen paired then stays paired) and only gets a new
    code, so running the demo again never piles devices up."""
    out = []
    for kind, name, counter, pair_path in DEVICES:
        device = session.scalar(select(Device).where(
            Device.unit_id == unit.id, Device.kind == kind, Device.name == name,
            Device.revoked_at.is_(None)).order_by(Device.id).limit(1))
        if device is None:
            _device, _token, code = accounts_engine.add_device(
                session, unit, kind, name, now=now, counter_number=counter)
        else:
            code = accounts_engine.new_pairing_code(session, device, now=now)
        out.append(DemoDevice(kind=kind, name=name, code=code, pair_path=pair_path))
    return out


# today's demo bookings (lịch hẹn) in Tư pháp – Hộ tịch: minutes after the demo starts
# (check in at once at the kiosk, or a little later), and one in two hours (too early)
BOOKING_OFFSETS = (0, 15, 30, 120)
BOOKING_PEOPLE = (("Nguyễn Văn Hùng", "+84912345601"), ("Trần Thị Hoa", "+84912345602"),
                  ("Lê Minh Tuấn", "+84912345603"), ("Phạm Thị Thu", "+84912345604"))


@dataclass(frozen=True)
class DemoBooking:
    code: str
    time: str  # the slot's local start, HH:MM
    last4: str  # the phone's last four digits, typed at the kiosk with the code


def seed_bookings(session: Session, unit: Unit, *, now: dt.datetime) -> list[DemoBooking]:
    """A few bookings for today, so that the kiosk's check-in can be tried at once. Idempotent:
    a day that has bookings already gets none more (the ones there are listed)."""
    from onestop.bookings.engine import new_code
    from onestop.bookings.models import Booking

    service = session.scalar(select(Service).where(Service.unit_id == unit.id, Service.code == FIELDS[0][0]))
    assert service is not None
    slot = dt.timedelta(minutes=int((service.booking or BOOKING)["slot_minutes"]))
    local = unit.local(now)
    day_start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    # the first starts within the last five minutes: inside the check-in's tolerance at once
    five = dt.timedelta(minutes=5)
    first = day_start + five * ((local - day_start) // five)
    day = (day_start.astimezone(dt.UTC), (day_start + dt.timedelta(days=1)).astimezone(dt.UTC))
    held = list(session.scalars(select(Booking).where(
        Booking.unit_id == unit.id, Booking.start >= day[0], Booking.start < day[1]).order_by(Booking.start)))
    if not held:
        for minutes, (name, phone) in zip(BOOKING_OFFSETS, BOOKING_PEOPLE, strict=True):
            start = (first + dt.timedelta(minutes=minutes)).astimezone(dt.UTC)
            if start >= day[1]:
                continue  # late in the evening: no slot after midnight
            booking = Booking(unit_id=unit.id, service_id=service.id, code=new_code(session), start=start,
                              end=start + slot, phone=phone, name=name, channel="staff", created_at=now)
            session.add(booking)
            session.flush()
            held.append(booking)
    return [DemoBooking(code=b.code, time=f"{unit.local(b.start):%H:%M}", last4=b.phone[-4:]) for b in held]


def loopback_warning(public_base_url: str) -> str:
    """A warning when the address printed in QR codes (tickets, receipts) only works on this
    machine (127.0.0.1, localhost, ::1, 0.0.0.0): a phone that scans it opens nothing."""
    import ipaddress
    from urllib.parse import urlsplit

    host = (urlsplit(public_base_url).hostname or "").lower()
    try:
        local = ipaddress.ip_address(host).is_loopback or ipaddress.ip_address(host).is_unspecified
    except ValueError:
        local = host == "localhost" or host.endswith(".localhost")
    if not local:
        return ""
    return (f"CẢNH BÁO / WARNING: ONESTOP_PUBLIC_BASE_URL = {public_base_url} chỉ mở được trên chính "
            "máy này: mã QR trên phiếu và giấy hẹn sẽ không mở được trên điện thoại. Đặt địa chỉ "
            "trong mạng LAN, ví dụ ONESTOP_PUBLIC_BASE_URL=http://192.168.1.10:8000 / it only opens "
            "on this machine: QR codes on tickets and receipts will not open on a phone. Set the "
            "LAN address, e.g. ONESTOP_PUBLIC_BASE_URL=http://192.168.1.10:8000")


def accounts() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = [{"username": "admin", "role": "admin"},
                                  {"username": "manager", "role": "manager"}]
    rows += [{"username": f"clerk{n}", "role": "clerk", "counter": n} for n in COUNTERS]
    return rows


def seed_history(session: Session, unit: Unit, *, weeks: int, now: dt.datetime) -> HistorySummary:
    """Weeks of past activity before today, on a fresh demo database only (see
    ``onestop.demo_history``); a database that has tickets or dossiers is left alone."""
    from onestop.demo_history import seed_history as seed

    return seed(session, unit, weeks=weeks, today=unit.business_date(now))
