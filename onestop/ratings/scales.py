"""The rating scales (thang đánh giá mức độ hài lòng) a unit may use.

``"3"`` is the default: the three levels of Thông tư 01/2018/TT-VPCP (Rất hài lòng, Hài
lòng, Không hài lòng). ``"5"`` is a unit option (``Unit.settings["rating_scale"]``). Levels
are listed best first; ``score`` orders them (higher is better) so that reports need not
know the scale; ``not_rated`` (score 0) is what a tablet records when nobody answered.
Only the lowest level of a scale asks the citizen why (``needs_reason``).

Labels are Vietnamese msgids marked with ``N_``; the web layer translates them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


def N_(text: str) -> str:
    """Mark a text for the translation catalogue without translating it here."""
    return text


NOT_RATED = "not_rated"
NOT_RATED_LABEL = N_("Không đánh giá")
DEFAULT_SCALE = "3"


@dataclass(frozen=True)
class Level:
    code: str
    label: str  # Vietnamese msgid
    score: int
    needs_reason: bool = False


SCALES: dict[str, tuple[Level, ...]] = {
    "3": (
        Level("very_satisfied", N_("Rất hài lòng"), 3),
        Level("satisfied", N_("Hài lòng"), 2),
        Level("dissatisfied", N_("Không hài lòng"), 1, needs_reason=True),
    ),
    "5": (
        Level("very_satisfied", N_("Rất hài lòng"), 5),
        Level("satisfied", N_("Hài lòng"), 4),
        Level("neutral", N_("Bình thường"), 3),
        Level("dissatisfied", N_("Không hài lòng"), 2),
        Level("very_dissatisfied", N_("Rất không hài lòng"), 1, needs_reason=True),
    ),
}

# The default reasons of UNIT_DEFAULTS["rating_reasons"], marked here so that the catalogue
# has their English text; a unit's own reasons are shown as the unit wrote them.
DEFAULT_REASONS = (
    N_("Thời gian chờ lâu"),
    N_("Thái độ phục vụ chưa tốt"),
    N_("Hướng dẫn chưa rõ ràng"),
    N_("Yêu cầu bổ sung giấy tờ nhiều lần"),
    N_("Cơ sở vật chất chưa tốt"),
)
MAX_REASONS = 20
MAX_REASON_LENGTH = 200


def scale_code(setting: Any) -> str:
    """The unit's ``rating_scale`` setting as a known scale code (unknown values: ``"3"``)."""
    code = str(setting).strip() if setting is not None else DEFAULT_SCALE
    return code if code in SCALES else DEFAULT_SCALE


def levels(setting: Any) -> tuple[Level, ...]:
    """The levels of the scale named by ``setting``, best first."""
    return SCALES[scale_code(setting)]


def find_level(setting: Any, code: str) -> Level | None:
    """The level ``code`` of the scale, or ``None`` (``not_rated`` is not a level)."""
    return next((level for level in levels(setting) if level.code == code), None)


def reasons(setting: Any) -> list[str]:
    """The unit's ``rating_reasons`` setting, cleaned: strings only, blanks and duplicates
    dropped, at most ``MAX_REASONS``."""
    out: list[str] = []
    for item in setting if isinstance(setting, list | tuple) else ():
        text = str(item).strip()[:MAX_REASON_LENGTH] if isinstance(item, str) else ""
        if text and text not in out:
            out.append(text)
    return out[:MAX_REASONS]


def timeout_seconds(setting: Any, default: int = 30) -> int:
    """The unit's ``rating_timeout_seconds``, kept between 2 and 600 seconds."""
    try:
        value = int(setting)
    except (TypeError, ValueError):
        value = default
    return max(2, min(600, value))
