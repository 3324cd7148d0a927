"""Voice activity detection: find the speech in a clip and trim the silence around it.

``SileroVAD`` wraps the Silero model shipped in the ``silero-vad`` wheel. Silero keeps
its RNN state on the model object, so calls are serialised with a lock and every call
starts from reset state (``get_speech_timestamps`` resets it): two sessions never mix
their streams. ``EnergyVAD`` is the fallback used only when Silero cannot load.
"""

from __future__ import annotations

import logging
import threading
from typing import Protocol

import numpy as np

from claritymentor.config import VADConfig
from claritymentor.constants import SAMPLE_RATE
from claritymentor.types import AudioClip, SpeechSegment, VADResult

logger = logging.getLogger(__name__)


class VoiceActivityDetector(Protocol):
    name: str

    def segments(self, clip: AudioClip) -> list[SpeechSegment]:
        """Speech regions in ``clip`` (16 kHz mono), in seconds."""
        ...


def trim_to_speech(vad: VoiceActivityDetector, clip: AudioClip) -> VADResult:
    """Run ``vad`` and cut ``clip`` from the first speech onset to the last offset."""
    segs = tuple(vad.segments(clip))
    if not segs:
        empty = AudioClip(np.zeros(0, np.float32), clip.sample_rate, clip.warnings)
        return VADResult(segments=(), speech=empty, backend=vad.name)
    start = int(segs[0].start_s * clip.sample_rate)
    end = int(segs[-1].end_s * clip.sample_rate)
    speech = AudioClip(clip.samples[start:end], clip.sample_rate, clip.warnings)
    return VADResult(segments=segs, speech=speech, backend=vad.name)


class SileroVAD:
    """Silero VAD (ONNX) on a preloaded model."""

    name = "silero"

    def __init__(self, model, cfg: VADConfig):
        self._model = model
        self._cfg = cfg
        self._lock = threading.Lock()

    @classmethod
    def load(cls, cfg: VADConfig) -> "SileroVAD":
        from silero_vad import load_silero_vad

        return cls(load_silero_vad(onnx=True), cfg)

    def segments(self, clip: AudioClip) -> list[SpeechSegment]:
        import torch
        from silero_vad import get_speech_timestamps

        if clip.sample_rate != SAMPLE_RATE:
            raise ValueError(f"Silero VAD needs {SAMPLE_RATE} Hz audio, got {clip.sample_rate} Hz")
        with self._lock:
            stamps = get_speech_timestamps(
                torch.from_numpy(clip.samples),
                self._model,
                threshold=self._cfg.threshold,
                sampling_rate=clip.sample_rate,
                min_speech_duration_ms=self._cfg.min_speech_ms,
                min_silence_duration_ms=self._cfg.min_silence_ms,
                speech_pad_ms=self._cfg.speech_pad_ms,
                return_seconds=True,
            )
        return [SpeechSegment(float(s["start"]), float(s["end"])) for s in stamps]


class EnergyVAD:
    """Frame-energy VAD: speech is where the 30 ms RMS stands well above the noise floor."""

    name = "energy"
    FRAME_S = 0.03

    def __init__(self, cfg: VADConfig, min_rms: float = 0.01):
        self._cfg = cfg
        self._min_rms = min_rms

    def segments(self, clip: AudioClip) -> list[SpeechSegment]:
        frame = int(self.FRAME_S * clip.sample_rate)
        n = len(clip.samples) // frame
        if n == 0:
            return []
        frames = clip.samples[: n * frame].reshape(n, frame)
        rms = np.sqrt(np.mean(frames**2, axis=1))
        floor = float(np.percentile(rms, 10))
        voiced = rms > max(self._min_rms, floor * 4)
        min_gap = max(1, int(self._cfg.min_silence_ms / 1000 / self.FRAME_S))
        min_len = max(1, int(self._cfg.min_speech_ms / 1000 / self.FRAME_S))
        pad = self._cfg.speech_pad_ms / 1000
        out: list[SpeechSegment] = []
        i = 0
        while i < n:
            if not voiced[i]:
                i += 1
                continue
            j = i
            gap = 0
            while j < n and gap < min_gap:
                gap = 0 if voiced[j] else gap + 1
                j += 1
            end = j - gap
            if end - i >= min_len:
                out.append(SpeechSegment(max(0.0, i * self.FRAME_S - pad), min(clip.duration_s, end * self.FRAME_S + pad)))
            i = j
        return out


def load_vad(cfg: VADConfig) -> VoiceActivityDetector:
    """Silero when configured and loadable; otherwise the energy VAD, logged as a fallback."""
    if cfg.backend == "silero":
        try:
            return SileroVAD.load(cfg)
        except Exception as e:  # any failure to load falls back, loudly
            logger.warning("Silero VAD could not load (%s); falling back to the energy VAD", e)
    return EnergyVAD(cfg)
