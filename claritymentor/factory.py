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

NATIVE_STAGES = ("vad", "speech-to-text")  # loaded beside the others (see build_pipeline)


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


def build_pipeline(cfg: AppConfig) -> LoadedPipeline:
    """Load and warm up every stage for ``cfg`` (uncached; use ``get_pipeline``)."""
    import torch

    torch.set_num_threads(cfg.llm.torch_threads)
    cache_dir = Path(cfg.cache_dir)
    loaded: dict[str, Any] = {}
    steps: list[tuple[str, Callable[[], Any], Callable[[Any], Any]]] = [
        ("vad", lambda: load_vad(cfg.vad), lambda m: m.segments(_warm_clip())),
        ("speech-to-text", lambda: FasterWhisperSTT.load(cfg.stt), lambda m: m.transcribe(_warm_clip())),
        ("text emotion", lambda: load_text_emotion(cfg.text_emotion, cfg.resolve(cfg.text_emotion.head_path),
                                                   text_emotion_adapter(cfg)),
         lambda m: m.classify("warming up")),
        ("crisis check", lambda: load_crisis_detector(cfg), lambda m: m.check("warming up")),
        ("speech emotion", lambda: ProsodyAnalyzer(cfg.prosody) if cfg.prosody.enabled else None,
         lambda m: m and m.read(_warm_clip(1.5), 3, 1.5)),
        ("llm", lambda: TransformersLLM.load(cfg.llm, cache_dir, cfg.resolve(cfg.llm.adapter_path)),
         lambda m: (_prepare_llm(m, cfg),
                    m.generate([{"role": "user", "content": "Hi"}], max_new_tokens=4))),
        ("tts", lambda: Pyttsx3TTS.load(cfg.tts), lambda m: m.synthesize("Hello.", cfg.prompts.style("neutral"))),
    ]
    t_all = time.perf_counter()

    def run(i: int, stage: str, load: Callable[[], Any], warm: Callable[[Any], Any]) -> ModelStatus:
        t = time.perf_counter()
        model = load()
        warm(model)
        dt = time.perf_counter() - t
        name = getattr(model, "name", "disabled") if model is not None else "disabled"
        note = "fallback: Silero could not load" if stage == "vad" and name == "energy" and cfg.vad.backend == "silero" else ""
        if stage == "llm" and cfg.llm.use_adapter and not model.adapter:
            note = "no matching LoRA adapter: base model"
        logger.info("[%d/%d] %s: %s ... %.1f s%s", i, len(steps), stage, name, dt, f" ({note})" if note else "")
        loaded[stage] = model
        return ModelStatus(stage, name, round(dt, 2), note)

    # VAD and speech-to-text run in ONNX Runtime / CTranslate2, which release the GIL:
    # they load on a second thread while this one imports and loads the torch stages.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="load-native") as pool:
        beside = {stage: pool.submit(run, i, stage, load, warm)
                  for i, (stage, load, warm) in enumerate(steps, 1) if stage in NATIVE_STAGES}
        here = {stage: run(i, stage, load, warm)
                for i, (stage, load, warm) in enumerate(steps, 1) if stage not in NATIVE_STAGES}
        done = {**here, **{stage: f.result() for stage, f in beside.items()}}
    statuses = [done[stage] for stage, _, _ in steps]
    total = time.perf_counter() - t_all
    logger.info("all models loaded and warmed up in %.1f s (profile %s)", total, cfg.profile)
    pipeline = Pipeline(cfg=cfg, vad=loaded["vad"], stt=loaded["speech-to-text"],
                        text_emotion=loaded["text emotion"], prosody=loaded["speech emotion"],
                        llm=loaded["llm"], tts=loaded["tts"], safety=loaded["crisis check"])
    return LoadedPipeline(pipeline=pipeline, statuses=tuple(statuses), load_s=round(total, 2))


def load_crisis_detector(cfg: AppConfig) -> CrisisDetector:
    """The phrase families, with the semantic layer (crisis-tuned MiniLM) when configured."""
    if not cfg.crisis.semantic:
        return CrisisDetector()
    encoder = load_sentence_encoder(cfg.crisis.encoder, cfg.resolve(cfg.crisis.encoder_adapter))
    return CrisisDetector(SemanticCrisisLayer.load(encoder, cfg.resolve(cfg.crisis.head_path)))


def text_emotion_adapter(cfg: AppConfig) -> Path | None:
    """The fine-tuned encoder's adapter folder, or None when the config names none."""
    return cfg.resolve(cfg.text_emotion.encoder_adapter) if cfg.text_emotion.encoder_adapter else None


def _prepare_llm(llm: TransformersLLM, cfg: AppConfig) -> None:
    """Prefill, once, what begins every first turn: the persona (both variants, for the
    page's adapter toggle) and, for the adapter, the persona + each emotion's guidance."""
    persona = conversation_prefix(cfg.prompts, [], cfg.llm.history_turns)
    llm.prepare([persona], use_adapter=False)
    llm.prepare([persona] + [build_messages(cfg.prompts, e, [], "", 0)[:-1] for e in EMOTIONS], use_adapter=True)


@functools.lru_cache(maxsize=2)
def get_pipeline(cfg: AppConfig) -> LoadedPipeline:
    """The loaded pipeline for ``cfg``, built on first use and shared afterwards."""
    return build_pipeline(cfg)
