"""Whisper's encoder window: the standard 30 s against the short window (stt.encoder_window_s).

Speaks a fixed set of sentences with espeak-ng in three voices and speeds (1-14 s each),
transcribes each with the embedded tiny.en both ways, and prints the median time, the
word error rate against the sentence that was spoken, and how often the short window's
result was rejected (a loop) and redone with 30 s. The sentences in TUNING were the ones
looked at when 10 s was chosen; HELD_OUT were written afterwards and only measured.

    .venv/bin/python scripts/bench_stt_window.py [--window 10]
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import statistics
import tempfile
import time
from pathlib import Path

from claritymentor.audio import prepare_audio
from claritymentor.config import AudioConfig, load_config
from claritymentor.devtools.speech import UTTERANCES, espeak_speech
from claritymentor.stt import FasterWhisperSTT
from claritymentor.types import AudioClip

TUNING = UTTERANCES + [
    "Hi mentor.", "Yes.", "Thanks, that helps a lot.",
    "Why does it always happen to me? Every single time I try, something breaks.",
    "I don't know what to do anymore, everything at work is going wrong and my family keeps asking me "
    "questions I cannot answer, and honestly I am tired of pretending that I am fine when I am not.",
]
HELD_OUT = [
    "Good morning.", "No, not really.", "Okay, I will try that tonight.",
    "My sister stopped talking to me after the wedding and I miss her.",
    "I got the results back and I passed every module this year.",
    "Should I tell my teacher that I copied part of the homework?",
    "Every time the phone rings I think it is the hospital with bad news.",
    "We lost the final by one goal and the whole team blames the goalkeeper.",
    "I have three deadlines on Monday, a presentation on Tuesday, and I have not started any of them, "
    "so I sit at my desk all evening and scroll through my phone instead.",
    "What would you do if your best friend kept borrowing money and never paid it back?",
]
VOICES = [("en-us", 150), ("en+f3", 175), ("en-gb", 130)]


def words(text: str) -> list[str]:
    text = text.lower().replace("can't", "cannot").replace("i'm", "i am").replace("don't", "do not")
    return re.sub(r"[^a-z' ]", " ", text).split()


def wer(ref: str, hyp: str) -> float:
    """Word error rate: word-level edit distance over the reference's length."""
    r, h = words(ref), words(hyp)
    row = list(range(len(h) + 1))
    for i, rw in enumerate(r, 1):
        prev, row[0] = row[0], i
        for j, hw in enumerate(h, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (rw != hw))
    return row[-1] / max(1, len(r))


def clips(texts: list[str], tmp: Path) -> list[tuple[str, AudioClip]]:
    out = []
    for i, text in enumerate(texts):
        for voice, speed in VOICES:
            # 0.12 s either side: the VAD stage keeps ~120 ms around speech
            data, rate = espeak_speech(text, voice=voice, speed=speed, pad_s=0.12, rate=None)
            out.append((text, prepare_audio(rate, data, AudioConfig())))
    return out


def measure(stt: FasterWhisperSTT, items: list[tuple[str, AudioClip]]) -> tuple[float, float, int]:
    times, errors, before = [], [], stt.fallbacks
    for text, clip in items:
        t = time.perf_counter()
        got = stt.transcribe(clip).text
        times.append(time.perf_counter() - t)
        errors.append(wer(text, got))
    return statistics.median(times) * 1000, statistics.mean(errors), stt.fallbacks - before


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--window", type=float, default=10.0)
    args = ap.parse_args()
    cfg = load_config("embedded").stt
    full = FasterWhisperSTT.load(dataclasses.replace(cfg, encoder_window_s=30.0))
    short = full.with_window(args.window)  # the same loaded model, the short window
    with tempfile.TemporaryDirectory() as tmp:
        for name, texts in (("tuning", TUNING), ("held out", HELD_OUT)):
            items = clips(texts, Path(tmp))
            full.transcribe(items[0][1])  # warm-up
            f_ms, f_wer, _ = measure(full, items)
            s_ms, s_wer, redone = measure(short, items)
            durations = [c.duration_s for _, c in items]
            print(f"{name}: {len(items)} clips of {min(durations):.1f}-{max(durations):.1f} s")
            print(f"  {'30 s window':<16} median {f_ms:5.0f} ms   WER {f_wer:.3f}")
            print(f"  {f'{args.window:g} s window':<16} median {s_ms:5.0f} ms   WER {s_wer:.3f}   "
                  f"redone with 30 s: {redone}/{len(items)}   time ratio {s_ms / f_ms:.2f}")


if __name__ == "__main__":
    main()
