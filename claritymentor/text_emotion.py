"""Emotion from the words: scores over the seven labels.

Embedded: all-MiniLM-L6-v2, fine-tuned end to end on the labelled sentences in
``data/emotion`` (LoRA adapters on every linear layer of the encoder, merged at load,
``models/text_emotion_lora``) with a linear head on its normalised mean-pooled
embedding (``models/text_emotion_head.npz``); both from ``scripts/train_text_emotion.py``. Hub: a transformers text-classification pipeline
(``j-hartmann/emotion-english-distilroberta-base``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from claritymentor.config import EMOTIONS, TextEmotionConfig
from claritymentor.errors import ModelLoadError
from claritymentor.sentence_encoder import SentenceEncoder, load_sentence_encoder
from claritymentor.types import TextEmotion

logger = logging.getLogger(__name__)


class TextEmotionModel(Protocol):
    name: str

    def classify(self, text: str) -> TextEmotion:
        """Scores over EMOTIONS for ``text``."""
        ...


def neutral_reading(backend: str) -> TextEmotion:
    return TextEmotion(scores={e: (1.0 if e == "neutral" else 0.0) for e in EMOTIONS}, backend=backend)


@dataclass(frozen=True)
class LinearHead:
    """softmax(W x + b) over ``labels``; x is a unit-length sentence embedding."""

    weights: np.ndarray  # (n_labels, dim)
    bias: np.ndarray  # (n_labels,)
    labels: tuple[str, ...]

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        logits = np.atleast_2d(x) @ self.weights.T + self.bias
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        return p / p.sum(axis=1, keepdims=True)

    def save(self, path: Path, **meta: object) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, weights=self.weights.astype(np.float32), bias=self.bias.astype(np.float32),
                 labels=np.array(self.labels), **{k: np.array(v) for k, v in meta.items()})

    @classmethod
    def load(cls, path: Path) -> "LinearHead":
        if not path.is_file():
            raise ModelLoadError(
                f"the text-emotion head {path} is missing; train it with "
                "`.venv/bin/python scripts/train_text_emotion.py`"
            )
        with np.load(path, allow_pickle=False) as z:
            head = cls(weights=z["weights"], bias=z["bias"], labels=tuple(str(s) for s in z["labels"]))
        if sorted(head.labels) != sorted(EMOTIONS):
            raise ModelLoadError(f"{path} has labels {head.labels}; expected {EMOTIONS}. Retrain the head.")
        return head


class EmbeddingEmotionClassifier:
    """MiniLM embeddings + a trained linear head."""

    def __init__(self, encoder: SentenceEncoder, head: LinearHead, name: str = "minilm+head"):
        self._encoder = encoder
        self._head = head
        self.name = name

    def embed(self, texts: list[str]) -> np.ndarray:
        return self._encoder.encode(texts)

    def classify(self, text: str) -> TextEmotion:
        if not text.strip():
            return neutral_reading(self.name)
        p = self._head.predict_proba(self.embed([text]))[0]
        return TextEmotion(scores={lab: float(p[i]) for i, lab in enumerate(self._head.labels)},
                           backend=self.name)


class TransformersEmotionClassifier:
    """A transformers text-classification pipeline whose labels are the seven emotions."""

    def __init__(self, pipe, name: str):
        self._pipe = pipe
        self.name = name

    @classmethod
    def load(cls, model: str) -> "TransformersEmotionClassifier":
        from transformers import pipeline

        try:
            pipe = pipeline("text-classification", model=model, top_k=None, device="cpu")
        except Exception as e:
            raise ModelLoadError(
                f"could not load the text-emotion classifier {model!r}: {e}. Offline, use the embedded profile."
            ) from e
        labels = {str(v).lower() for v in pipe.model.config.id2label.values()}
        if labels != set(EMOTIONS):
            raise ModelLoadError(f"{model} predicts {sorted(labels)}; ClarityMentor needs {list(EMOTIONS)}")
        return cls(pipe, model)

    def classify(self, text: str) -> TextEmotion:
        if not text.strip():
            return neutral_reading(self.name)
        out = self._pipe(text[:2000], truncation=True)
        rows = out[0] if out and isinstance(out[0], list) else out
        scores = {e: 0.0 for e in EMOTIONS}
        for row in rows:
            scores[str(row["label"]).lower()] = float(row["score"])
        total = sum(scores.values()) or 1.0
        return TextEmotion(scores={k: v / total for k, v in scores.items()}, backend=self.name)


def load_text_emotion(cfg: TextEmotionConfig, head_path: Path, adapter_dir: Path | None = None) -> TextEmotionModel:
    """The configured classifier; ``adapter_dir`` is the fine-tuned encoder's LoRA adapter
    (``text_emotion.encoder_adapter``), None for the plain encoder."""
    if cfg.backend == "transformers":
        return TransformersEmotionClassifier.load(cfg.model)
    name = "minilm-finetuned+head" if adapter_dir is not None else "minilm+head"
    return EmbeddingEmotionClassifier(load_sentence_encoder(cfg.model, adapter_dir), LinearHead.load(head_path), name)
