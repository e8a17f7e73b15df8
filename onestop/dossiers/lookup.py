"""Public dossier lookup (tra cứu hồ sơ): the QR token, the masked public view.

The QR on a receipt carries ``{public_base_url}/lookup/{code}?k={token}``, where the token
is the first 12 characters of the base32 HMAC-SHA256 of the code under the server secret
(60 bits): whoever holds the receipt can read the status, nobody can enumerate dossiers by
guessing codes (which are sequential). A citizen without the QR types the code and the last
four digits of the phone number given at the desk.

The public view shows no ID number, e-mail or address; the name and phone are masked. An
unknown code and a wrong token or phone are indistinguishable (both ``None`` here, the same
404 in the API). Labels are Vietnamese, marked with ``N_`` for the translation catalogue;
the web layer translates them.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onestop.dossiers.engine import is_overdue
from onestop.dossiers.models import Dossier


def N_(text: str) -> str:
    """Mark a text for the translation catalogue without translating it here."""
    return text


TOKEN_LENGTH = 12
MAX_CODE = 64
STATE_LABELS: dict[str, str] = {
    "received": N_("Đã tiếp nhận"),
    "processing": N_("Đang giải quyết"),
    "supplement_requested": N_("Cần bổ sung hồ sơ"),
    "ready": N_("Đã có kết quả, mời Quý công dân đến nhận"),
    "returned": N_("Đã trả kết quả"),
    "rejected": N_("Không đủ điều kiện giải quyết"),
    "withdrawn": N_("Đã rút hồ sơ"),
}


def lookup_token(secret: str | bytes, code: str) -> str:
    """The short HMAC of ``code`` under ``secret`` (lower-case base32, 12 characters)."""
    key = secret.encode() if isinstance(secret, str) else secret
    mac = hmac.new(key, b"onestop-lookup\x00" + code.encode(), hashlib.sha256).digest()
    return base64.b32encode(mac).decode("ascii")[:TOKEN_LENGTH].lower()


def verify_token(secret: str | bytes, code: str, token: str | None) -> bool:
    """Constant-time check of a token (case and surrounding blanks do not matter)."""
    if not token or len(token) > 64:
        return False
    given = token.strip().lower().encode("utf-8")
    return hmac.compare_digest(lookup_token(secret, code).encode("ascii"), given)


def lookup_url(public_base_url: str, secret: str | bytes, code: str) -> str:
    """The ASCII URL the receipt's QR carries."""
    base = public_base_url.rstrip("/")
    return f"{base}/lookup/{quote(code, safe='')}?k={lookup_token(secret, code)}"


def parse_scanned(text: str) -> tuple[str, str | None]:
    """What a USB scanner typed into the code box: a lookup URL (code and token), or a code."""
    text = (text or "").strip()
    if "/lookup/" not in text:
        return text, None
    parts = urlsplit(text)
    code = unquote(parts.path.rsplit("/lookup/", 1)[1]).strip("/")
    token = parse_qs(parts.query).get("k", [None])[0]
    return code, token


def _by_code(session: Session, code: str, any_case: bool = False) -> Dossier | None:
    code = (code or "").strip()
    if not code or len(code) > MAX_CODE:
        return None
    dossier = session.scalar(select(Dossier).where(Dossier.code == code))
    if dossier is None and any_case:  # typed by hand: "h56.12.3-..." is the same code
        dossier = session.scalar(select(Dossier).where(func.upper(Dossier.code) == code.upper()))
    return dossier


def find_by_token(session: Session, secret: str | bytes, code: str, token: str | None) -> Dossier | None:
    """The dossier for a QR (code and token), or ``None`` for an unknown code or a bad token."""
    code = (code or "").strip()
    if not verify_token(secret, code, token):
        return None
    return _by_code(session, code)


def find_by_phone(session: Session, code: str, phone4: str | None) -> Dossier | None:
    """The dossier for a typed code and the last four digits of the applicant's phone."""
    phone4 = (phone4 or "").strip()
    if len(phone4) != 4 or not phone4.isascii() or not phone4.isdigit():
        return None
    dossier = _by_code(session, code, any_case=True)
    if dossier is None or not hmac.compare_digest(dossier.applicant_phone[-4:].encode(), phone4.encode()):
        return None
    return dossier


def mask_name(name: str) -> str:
    """``Nguyễn Văn An`` -> ``Nguyễn V** A*``: the family name, then initials."""
    words = name.split()
    if not words:
        return ""
    if len(words) == 1:
        return words[0][0] + "*" * (len(words[0]) - 1)
    return " ".join([words[0]] + [w[0] + "*" * (len(w) - 1) for w in words[1:]])


def mask_phone(phone: str) -> str:
    """Only the last three digits: ``0912345678`` -> ``*******678``."""
    return "*" * max(len(phone) - 3, 0) + phone[-3:]


def _date(when: dt.datetime, tz: ZoneInfo) -> str:
    return when.astimezone(tz).strftime("%d/%m/%Y")


def public_view(dossier: Dossier, now: dt.datetime, tz: ZoneInfo) -> dict[str, Any]:
    """What the kiosk, the lookup page and ``GET /api/v1/lookup`` show (labels untranslated)."""
    return {
        "code": dossier.code,
        "procedure": dossier.procedure.name,
        "state": dossier.state,
        "state_label": STATE_LABELS[dossier.state],
        "received_date": _date(dossier.received_at, tz),
        "appointment_date": _date(dossier.due_at, tz),
        "rescheduled": dossier.new_appointment_at is not None,
        "overdue": is_overdue(dossier, now),
        "missing": dossier.supplement_note if dossier.state == "supplement_requested" else None,
        "applicant_name": mask_name(dossier.applicant_name),
        "applicant_phone": mask_phone(dossier.applicant_phone),
    }
