"""Speech emotion from prosody: how the person sounds, not what they say.

Features: RMS energy (level and spread), pitch median and range (YIN, ``pitch.py``, on
frames with enough energy), speaking rate (words per second of VAD speech) and the
pause ratio. They give *arousal* (calm to agitated, [-1, 1]) with a confidence that
grows with the amount of voiced speech. Prosody says little about valence: a hint is
given only for the clearly subdued pattern (quiet, slow, flat), which leans sad.
The reference values are those of ordinary conversational speech; no per-speaker
baseline is kept, so a naturally fast or loud speaker reads as more aroused.
"""

from __future__ import annotations

import logging
import math
from typing import Protocol

import numpy as np

from claritymentor.config import ProsodyConfig
from claritymentor.pitch import frame_rms, yin
from claritymentor.types import AudioClip, ProsodyReading

logger = logging.getLogger(__name__)

FRAME = 512  # samples per analysis frame (32 ms at 16 kHz)
HOP = 160  # 10 ms hop at 16 kHz
# Reference points of conversational speech and the spread that counts as one unit.
REF_WORDS_PER_S, UNIT_WORDS_PER_S = 2.6, 0.8
REF_RANGE_ST, UNIT_RANGE_ST = 6.0, 3.0  # pitch range p10..p90 in semitones
REF_LEVEL_DB, UNIT_LEVEL_DB = -24.0, 6.0  # RMS level of speech frames, dBFS
REF_PITCH_HZ, UNIT_PITCH_ST = 150.0, 4.0
OCTAVE_ERROR_ST = 9.0  # pitch frames further than this from the median are tracking errors
WEIGHTS = {"rate": 0.3, "range": 0.25, "level": 0.25, "pitch": 0.2}


class SpeechEmotionModel(Protocol):
    name: str

    def read(self, speech: AudioClip, word_count: int, speech_s: float) -> ProsodyReading:
        """Arousal, valence hint and confidence from the speech audio."""
        ...


def _z(value: float, ref: float, unit: float) -> float:
    return float(np.clip((value - ref) / unit, -2.0, 2.0))


class ProsodyAnalyzer:
    """Rule-based prosody reader (no trained weights)."""

    name = "prosody"

    def __init__(self, cfg: ProsodyConfig):
        self._cfg = cfg

    def features(self, speech: AudioClip, word_count: int, speech_s: float) -> dict[str, float]:
        y = speech.samples
        sr = speech.sample_rate
        if len(y) < FRAME * 2:
            return {}
        rms = frame_rms(y, FRAME, HOP)
        loud = rms > max(1e-4, 0.1 * float(np.percentile(rms, 95)))
        f0 = yin(y, self._cfg.pitch_fmin_hz, self._cfg.pitch_fmax_hz, sr, FRAME * 2, HOP)
        n = min(len(f0), len(loud))
        f0, voiced_mask = f0[:n], loud[:n]
        # YIN pins unvoiced frames to the search limits; keep energetic frames inside them.
        voiced_mask &= (f0 > self._cfg.pitch_fmin_hz * 1.05) & (f0 < self._cfg.pitch_fmax_hz * 0.95)
        voiced = f0[voiced_mask]
        total_s = len(y) / sr
        feats = {
            "level_db": float(20 * np.log10(np.mean(rms[loud]) + 1e-9)) if loud.any() else -90.0,
            "level_spread": float(np.std(rms[loud]) / (np.mean(rms[loud]) + 1e-9)) if loud.any() else 0.0,
            "voiced_ratio": float(voiced_mask.mean()) if n else 0.0,
            "words_per_s": word_count / speech_s if speech_s > 0 else 0.0,
            "pause_ratio": float(max(0.0, 1.0 - speech_s / total_s)) if total_s > 0 else 0.0,
        }
        if len(voiced) >= 10:
            median = float(np.median(voiced))
            # YIN's octave errors (halving/doubling) would pass for a wide, lively range:
            # keep frames within OCTAVE_ERROR_ST of the median before measuring the spread.
            semitones = 12 * np.log2(voiced / median)
            kept = voiced[np.abs(semitones) <= OCTAVE_ERROR_ST]
            p10, p90 = np.percentile(kept, [10, 90])
            feats["pitch_median_hz"] = median
            feats["pitch_range_st"] = float(12 * math.log2(p90 / p10))
        return feats

    def read(self, speech: AudioClip, word_count: int, speech_s: float) -> ProsodyReading:
        feats = self.features(speech, word_count, speech_s)
        if not feats or "pitch_median_hz" not in feats:
            return ProsodyReading(arousal=0.0, valence=None, confidence=0.0, features=feats)
        parts = {
            "level": _z(feats["level_db"], REF_LEVEL_DB, UNIT_LEVEL_DB),
            "range": _z(feats["pitch_range_st"], REF_RANGE_ST, UNIT_RANGE_ST),
            "pitch": _z(12 * math.log2(feats["pitch_median_hz"] / REF_PITCH_HZ), 0.0, UNIT_PITCH_ST),
        }
        weights = dict(WEIGHTS)
        if word_count > 0:
            parts["rate"] = _z(feats["words_per_s"], REF_WORDS_PER_S, UNIT_WORDS_PER_S)
        else:
            weights.pop("rate")
        score = sum(weights[k] * parts[k] for k in parts) / sum(weights.values())
        arousal = float(np.tanh(score))
        valence = None
        if parts["level"] < -0.5 and parts["range"] < -0.5 and parts.get("rate", 0.0) <= 0.0:
            valence = -0.3  # quiet, flat, unhurried: the subdued pattern that leans sad
        # More voiced speech, more evidence: full weight from about 3 s of voiced frames.
        voiced_s = feats["voiced_ratio"] * speech.duration_s
        confidence = float(np.clip(voiced_s / 3.0, 0.0, 1.0) * 0.8)
        feats.update({f"z_{k}": v for k, v in parts.items()})
        return ProsodyReading(arousal=round(arousal, 3), valence=valence,
                              confidence=round(confidence, 3), features={k: round(v, 3) for k, v in feats.items()})
