"""Vietnamese voice announcements: number reading, the sentence, and audio back ends."""

from hardware.voice.announce import (
    CHAINS,
    SERVER_VOICES,
    Announcer,
    VoiceStatus,
    chain,
    folders,
    generated_chime,
)
from hardware.voice.backends import ClipPack, Espeak, MissingClip, VoiceUnavailable, clip_pack
from hardware.voice.numbers import digits_to_words, number_to_words, read_label
from hardware.voice.sentence import DEFAULT_TEMPLATE, VoiceSettings, display_sentence, spoken_sentence

__all__ = [
    "CHAINS", "DEFAULT_TEMPLATE", "SERVER_VOICES", "Announcer", "ClipPack", "Espeak", "MissingClip",
    "VoiceSettings", "VoiceStatus", "VoiceUnavailable", "chain", "clip_pack", "digits_to_words",
    "display_sentence", "folders", "generated_chime", "number_to_words", "read_label", "spoken_sentence",
]
