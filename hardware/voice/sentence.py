"""The announcement sentence and the settings that shape it.

The settings come from the unit (``Unit.settings``, keys ``announcement_*``); this module
only sees a plain mapping, so it works the same from the web app and the command line.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from hardware.voice.numbers import number_to_words, read_label

DEFAULT_TEMPLATE = "Xin mời công dân có số thứ tự {số} đến quầy số {quầy}"
# placeholders an office may write in its template (Vietnamese first, English aliases)
NUMBER_KEYS = ("{số}", "{number}")
COUNTER_KEYS = ("{quầy}", "{counter}")
FIELD_KEYS = ("{lĩnh vực}", "{field}")
MAX_REPEAT = 3


@dataclass(frozen=True)
class VoiceSettings:
    """How a call is announced. ``number_mode``: "words" or "digits"; ``style``: "north"
    (linh, nghìn) or "south" (lẻ, ngàn)."""

    template: str = DEFAULT_TEMPLATE
    number_mode: str = "words"
    read_prefix: bool = True
    style: str = "north"
    repeat: int = 1
    chime: bool = True
    espeak_voice: str = "vi"
    espeak_speed: int = 150

    @classmethod
    def from_settings(cls, get: Callable[[str], Any] | Mapping[str, Any]) -> VoiceSettings:
        """Build from the unit's ``announcement_*`` settings (a mapping or a getter)."""
        lookup = get.get if isinstance(get, Mapping) else get

        def value(key: str, default: Any) -> Any:
            found = lookup(f"announcement_{key}")
            return default if found is None else found

        return cls(
            template=str(value("template", DEFAULT_TEMPLATE))[:300] or DEFAULT_TEMPLATE,
            number_mode="digits" if value("number_mode", "words") == "digits" else "words",
            read_prefix=bool(value("read_prefix", True)),
            style="south" if value("style", "north") == "south" else "north",
            repeat=max(1, min(MAX_REPEAT, _int(value("repeat", 1), 1))),
            chime=bool(value("chime", True)),
            espeak_voice=str(value("espeak_voice", "vi"))[:40],
            espeak_speed=max(80, min(300, _int(value("espeak_speed", 150), 150))),
        )


def _int(raw: Any, default: int) -> int:
    try:
        return int(raw)
    except (TypeError, ValueError):
        return default


def _fill(template: str, number: str, counter: str, field: str) -> str:
    # plain replacement, never str.format: the template is typed by an administrator
    for keys, value in ((NUMBER_KEYS, number), (COUNTER_KEYS, counter), (FIELD_KEYS, field)):
        for key in keys:
            template = template.replace(key, value)
    return " ".join(template.split())


def spoken_sentence(label: str, counter_number: int, settings: VoiceSettings | None = None,
                    field: str = "") -> str:
    """What is said: "Xin mời công dân có số thứ tự A, mười hai đến quầy số ba"."""
    s = settings or VoiceSettings()
    number = read_label(label, s.number_mode, s.read_prefix, s.style)
    return _fill(s.template, number, number_to_words(counter_number, s.style), field)


def display_sentence(label: str, counter_number: int, settings: VoiceSettings | None = None,
                     field: str = "") -> str:
    """What is shown: "Xin mời công dân có số thứ tự A012 đến quầy số 3"."""
    s = settings or VoiceSettings()
    return _fill(s.template, label, str(counter_number), field)
