"""Build the pipeline once: load every model, log each with its time, warm each up.

``get_pipeline(cfg)`` is cached by the frozen config, so the app and its tests share
one loaded pipeline per configuration; nothing loads during a turn.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from claritymentor.config import EMOTIONS, AppConfig
from claritymentor.constants import SAMPLE_RATE
from claritymentor.llm import TransformersLLM
from claritymentor.pipeline import Pipeline
from claritymentor.prompts import build_messages, conversation_prefix
from claritymentor.prosody import ProsodyAnalyzer
from claritymentor.safety import CrisisDetector, SemanticCrisisLayer
from claritymentor.stt import FasterWhisperSTT
from claritymentor.sentence_encoder import load_sentence_encoder
from claritymentor.text_emotion import load_text_emotion
from claritymentor.tts import Pyttsx3TTS
from claritymentor.types import AudioClip
from claritymentor.vad import load_vad

logger = logging.getLogger(__name__)



@dataclass(frozen=True)
class ModelStatus:
    """How one stage's model loaded, for the status panel and the health endpoint."""

    stage: str
    name: str
    load_s: float
    note: str = ""


@dataclass(frozen=True)
class LoadedPipeline:
    pipeline: Pipeline
    statuses: tuple[ModelStatus, ...]
    load_s: float


def _warm_clip(seconds: float = 1.0, rate: int = SAMPLE_RATE) -> AudioClip:
    """A voiced-sounding test signal: a 140 Hz tone with harmonics and a slow swell."""
    t = np.arange(int(seconds * rate)) / rate
    y = sum(np.sin(2 * np.pi * 140 * k * t) / k for k in (1, 2, 3)) * 0.2 * np.sin(np.pi * t / seconds)
    return AudioClip(y.astype(np.float32), rate)


@dataclass(frozen=True)
class Stage:
    """One stage to build: the ``Pipeline`` field it fills, its name on the status panel,
    how to load it and how to warm it up (one call through it, so no turn pays a first-call cost)."""

    field: str
    label: str
    load: Callable[[AppConfig], Any]
    warm: Callable[[Any, AppConfig], Any]
    native: bool = False  # runs in ONNX Runtime / CTranslate2, which release the GIL: loaded on a second thread


def _load_prosody(cfg: AppConfig) -> ProsodyAnalyzer | None:
    return ProsodyAnalyzer(cfg.prosody) if cfg.prosody.enabled else None


def _load_llm(cfg: AppConfig) -> TransformersLLM:
    return TransformersLLM.load(cfg.llm, Path(cfg.cache_dir), cfg.resolve(cfg.llm.adapter_path))


def _warm_llm(llm: TransformersLLM, cfg: AppConfig) -> None:
    """Prefill, once, what begins every first turn: the persona (both variants, for the
    page's adapter toggle) and, for the adapter, the persona + each emotion's guidance."""
    persona = conversation_prefix(cfg.prompts, [], cfg.llm.history_turns)
    llm.prepare([persona], use_adapter=False)
    llm.prepare([persona] + [build_messages(cfg.prompts, e, [], "", 0)[:-1] for e in EMOTIONS], use_adapter=True)
    llm.generate([{"role": "user", "content": "Hi"}], max_new_tokens=4)


STAGES = (
    Stage("vad", "vad", lambda cfg: load_vad(cfg.vad), lambda m, cfg: m.segments(_warm_clip()), native=True),
    Stage("stt", "speech-to-text", lambda cfg: FasterWhisperSTT.load(cfg.stt),
          lambda m, cfg: m.transcribe(_warm_clip()), native=True),
    Stage("text_emotion", "text emotion", lambda cfg: load_text_emotion(
        cfg.text_emotion, cfg.resolve(cfg.text_emotion.head_path), text_emotion_adapter(cfg)),
        lambda m, cfg: m.classify("warming up")),
    Stage("safety", "crisis check", lambda cfg: load_crisis_detector(cfg), lambda m, cfg: m.check("warming up")),
    Stage("prosody", "speech emotion", _load_prosody, lambda m, cfg: m and m.read(_warm_clip(1.5), 3, 1.5)),
    Stage("llm", "llm", _load_llm, _warm_llm),
    Stage("tts", "tts", lambda cfg: Pyttsx3TTS.load(cfg.tts),
          lambda m, cfg: m.synthesize("Hello.", cfg.prompts.style("neutral"))),
)


def _note(stage: Stage, model: Any, cfg: AppConfig) -> str:
    if stage.field == "vad" and getattr(model, "name", "") == "energy" and cfg.vad.backend == "silero":
        return "fallback: Silero could not load"
    if stage.field == "llm" and cfg.llm.use_adapter and not model.adapter:
        return "no matching LoRA adapter: base model"
    return ""


def build_pipeline(cfg: AppConfig) -> LoadedPipeline:
    """Load and warm up every stage for ``cfg`` (uncached; use ``get_pipeline``)."""
    import torch

    torch.set_num_threads(cfg.llm.torch_threads)
    loaded: dict[str, Any] = {}
    t_all = time.perf_counter()

    def run(i: int, stage: Stage) -> ModelStatus:
        t = time.perf_counter()
        model = stage.load(cfg)
        stage.warm(model, cfg)
        dt = time.perf_counter() - t
        name = getattr(model, "name", "disabled") if model is not None else "disabled"
        note = _note(stage, model, cfg)
        logger.info("[%d/%d] %s: %s ... %.1f s%s", i, len(STAGES), stage.label, name, dt, f" ({note})" if note else "")
        loaded[stage.field] = model
        return ModelStatus(stage.label, name, round(dt, 2), note)

    # The native stages load on a second thread while this one imports and loads the torch stages.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="load-native") as pool:
        beside = {s.field: pool.submit(run, i, s) for i, s in enumerate(STAGES, 1) if s.native}
        here = {s.field: run(i, s) for i, s in enumerate(STAGES, 1) if not s.native}
        done = {**here, **{field: f.result() for field, f in beside.items()}}
    total = time.perf_counter() - t_all
    logger.info("all models loaded and warmed up in %.1f s (profile %s)", total, cfg.profile)
    return LoadedPipeline(pipeline=Pipeline(cfg=cfg, **loaded), statuses=tuple(done[s.field] for s in STAGES),
                          load_s=round(total, 2))


def load_crisis_detector(cfg: AppConfig) -> CrisisDetector:
    """The phrase families, with the semantic layer (crisis-tuned MiniLM) when configured."""
    if not cfg.crisis.semantic:
        return CrisisDetector()
    encoder = load_sentence_encoder(cfg.crisis.encoder, cfg.resolve(cfg.crisis.encoder_adapter))
    return CrisisDetector(SemanticCrisisLayer.load(encoder, cfg.resolve(cfg.crisis.head_path)))


def text_emotion_adapter(cfg: AppConfig) -> Path | None:
    """The fine-tuned encoder's adapter folder, or None when the config names none."""
    return cfg.resolve(cfg.text_emotion.encoder_adapter) if cfg.text_emotion.encoder_adapter else None


@functools.lru_cache(maxsize=2)
def get_pipeline(cfg: AppConfig) -> LoadedPipeline:
    """The loaded pipeline for ``cfg``, built on first use and shared afterwards."""
    return build_pipeline(cfg)
