"""Text-to-speech whose voice follows the perceived emotion (pyttsx3 + espeak-ng)."""

from __future__ import annotations

import ctypes
import logging
import threading
from typing import Protocol

import numpy as np

from claritymentor.config import EmotionStyle, TTSConfig
from claritymentor.errors import ModelLoadError
from claritymentor.types import SpeechAudio

logger = logging.getLogger(__name__)


class TextToSpeech(Protocol):
    name: str

    def synthesize(self, text: str, style: EmotionStyle) -> SpeechAudio:
        """Speech for ``text`` in the voice ``style`` asks for."""
        ...


def voice_settings(cfg: TTSConfig, style: EmotionStyle) -> dict[str, float]:
    """Rate (words/min), pitch (0-99) and volume (0-1) for one emotion's style."""
    return {
        "rate": int(round(cfg.base_rate_wpm * style.rate_scale)),
        "pitch": int(min(99, max(0, cfg.base_pitch + style.pitch_shift))),
        "volume": float(min(1.0, max(0.0, cfg.base_volume * style.volume_scale))),
    }


class Pyttsx3TTS:
    """pyttsx3's espeak-ng driver. Voice, rate, pitch and volume are set through the
    driver; the samples are collected by our own synthesis callback, because the driver's
    drops the samples that arrive with espeak's last callback (replies lost their last
    syllables, and a short piece could come back empty). The engine is not thread-safe,
    so synthesis is serialised."""

    RATE = 22050  # espeak-ng's output rate

    def __init__(self, engine, cfg: TTSConfig):
        self._engine = engine
        self._driver = engine.proxy._driver
        self._cfg = cfg
        self._lock = threading.Lock()
        self._chunks: list[bytes] = []
        self.name = f"pyttsx3/espeak-ng ({cfg.voice})"

    @classmethod
    def load(cls, cfg: TTSConfig) -> "Pyttsx3TTS":
        try:
            import pyttsx3

            engine = pyttsx3.init("espeak")
            engine.proxy._driver.setProperty("voice", cfg.voice)
        except Exception as e:
            raise ModelLoadError(
                f"pyttsx3 could not start espeak-ng: {e}. Install it with `apt-get install espeak-ng` "
                "(scripts/setup.sh does this when run as root)."
            ) from e
        return cls(engine, cfg)

    def _on_synth(self, wav, numsamples, events) -> int:
        if numsamples > 0:
            self._chunks.append(ctypes.string_at(wav, numsamples * ctypes.sizeof(ctypes.c_short)))
        return 0

    def synthesize(self, text: str, style: EmotionStyle) -> SpeechAudio:
        if not text.strip():
            raise ValueError("nothing to say")
        from pyttsx3.drivers import _espeak

        with self._lock:
            for key, value in voice_settings(self._cfg, style).items():
                self._driver.setProperty(key, value)
            self._chunks = []
            _espeak.SetSynthCallback(self._on_synth)  # synchronous: retrieval mode calls back inside Synth
            _espeak.Synth(text.encode("utf-8"), flags=_espeak.ENDPAUSE | _espeak.CHARS_UTF8)
            _espeak.Synchronize()
            data = np.frombuffer(b"".join(self._chunks), dtype=np.int16).copy()
        if len(data) == 0:
            raise RuntimeError("espeak-ng produced no audio")
        return SpeechAudio(samples=data, sample_rate=self.RATE)
