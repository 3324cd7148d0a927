"""Text-to-speech whose voice follows the perceived emotion (pyttsx3 + espeak-ng)."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import tempfile
import threading
from typing import Protocol

import numpy as np
import soundfile as sf

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
    """pyttsx3's espeak driver, writing to a temporary WAV. The engine is not thread-safe,
    so synthesis is serialised."""

    def __init__(self, engine, cfg: TTSConfig):
        self._engine = engine
        self._cfg = cfg
        self._lock = threading.Lock()
        self.name = f"pyttsx3/espeak-ng ({cfg.voice})"

    @classmethod
    def load(cls, cfg: TTSConfig) -> "Pyttsx3TTS":
        try:
            import pyttsx3

            engine = pyttsx3.init("espeak")
            engine.setProperty("voice", cfg.voice)
        except Exception as e:
            raise ModelLoadError(
                f"pyttsx3 could not start espeak-ng: {e}. Install it with `apt-get install espeak-ng` "
                "(scripts/setup.sh does this when run as root)."
            ) from e
        return cls(engine, cfg)

    def synthesize(self, text: str, style: EmotionStyle) -> SpeechAudio:
        if not text.strip():
            raise ValueError("nothing to say")
        fd, path = tempfile.mkstemp(suffix=".wav", prefix="cm-tts-")
        os.close(fd)
        try:
            with self._lock:
                for key, value in voice_settings(self._cfg, style).items():
                    self._engine.setProperty(key, value)
                self._engine.save_to_file(text, path)
                with contextlib.redirect_stdout(io.StringIO()):  # the espeak driver prints each saved path
                    self._engine.runAndWait()
            data, rate = sf.read(path, dtype="int16")
        finally:
            os.unlink(path)
        if data.ndim == 2:
            data = data[:, 0]
        if len(data) == 0:
            raise RuntimeError("espeak-ng produced no audio")
        return SpeechAudio(samples=np.ascontiguousarray(data), sample_rate=int(rate))
