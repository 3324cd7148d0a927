"""espeak-ng speech for tests and benchmarks, and the benchmark's spoken questions."""

from __future__ import annotations

import statistics
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

from claritymentor.constants import SAMPLE_RATE

# The benchmarks' questions (3-8 s spoken), one per emotion and a plain request.
UTTERANCES = [
    "I have my statistics exam on Friday and I keep freezing when I practise.",
    "My manager took credit for my work again and I am really angry about it.",
    "I moved to a new city for my job and I feel lonely most evenings.",
    "I just got an offer for the internship I wanted and I am so happy.",
    "Can you help me plan my revision for the next two weeks?",
    "I failed my driving test again and I feel like giving up on it.",
    "My flatmate never cleans the kitchen and it is starting to make me sick.",
    "They moved my interview to this afternoon and I did not expect it at all.",
]


def espeak_speech(text: str, *, speed: int = 160, pitch: int = 50, amplitude: int = 100, voice: str | None = None,
                  pad_s: float = 0.5, rate: int | None = SAMPLE_RATE) -> tuple[np.ndarray, int]:
    """(float32 samples, sample rate): espeak-ng saying ``text`` with ``pad_s`` of silence
    either side, resampled to ``rate`` (None: espeak's own 22,050 Hz)."""
    import soxr

    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "espeak.wav"
        cmd = ["espeak-ng", "-s", str(speed), "-p", str(pitch), "-a", str(amplitude), "-w", str(raw), text]
        if voice:
            cmd[1:1] = ["-v", voice]
        subprocess.run(cmd, check=True)
        data, native = sf.read(raw, dtype="float32")
    if rate is not None and rate != native:
        data = soxr.resample(data, native, rate, quality="HQ").astype(np.float32)
    rate = rate or native
    pad = np.zeros(int(pad_s * rate), np.float32)
    return np.concatenate([pad, data, pad]), rate


def espeak_wav(path: Path, text: str, **kwargs) -> Path:
    """``espeak_speech`` written to ``path`` as 16-bit PCM."""
    data, rate = espeak_speech(text, **kwargs)
    sf.write(path, data, rate, subtype="PCM_16")
    return path


def stats(values: list[float]) -> str:
    """Median and P90 of millisecond figures, as the benchmarks print them."""
    v = sorted(values)
    p90 = v[min(len(v) - 1, int(round(0.9 * (len(v) - 1))))]
    return f"median {statistics.median(v):7.0f} ms   P90 {p90:7.0f} ms"
