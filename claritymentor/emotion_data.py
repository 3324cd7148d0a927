"""The labelled emotion sentences in ``data/emotion/sentences/<label>.txt`` and their
fixed train / held-out split (by a hash of the sentence, so adding sentences never
moves an old one across the split)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from claritymentor.config import EMOTIONS, ROOT

DATA_DIR = ROOT / "data" / "emotion" / "sentences"
HELD_OUT_EVERY = 5  # one sentence in five (by hash) is held out


@dataclass(frozen=True)
class Example:
    text: str
    label: str

    @property
    def held_out(self) -> bool:
        digest = hashlib.sha1(self.text.strip().lower().encode("utf-8")).hexdigest()
        return int(digest, 16) % HELD_OUT_EVERY == 0


def load_examples(data_dir: Path = DATA_DIR) -> list[Example]:
    """All examples; raises if a label file is missing or a sentence appears twice."""
    out: list[Example] = []
    seen: dict[str, str] = {}
    for label in EMOTIONS:
        path = data_dir / f"{label}.txt"
        for line in path.read_text(encoding="utf-8").splitlines():
            text = line.strip()
            if not text or text.startswith("#"):
                continue
            key = text.lower()
            if key in seen:
                raise ValueError(f"duplicate sentence in {label} and {seen[key]}: {text!r}")
            seen[key] = label
            out.append(Example(text, label))
    return out


def split(examples: list[Example]) -> tuple[list[Example], list[Example]]:
    """(train, held_out)."""
    return [e for e in examples if not e.held_out], [e for e in examples if e.held_out]


@dataclass(frozen=True)
class EvalReport:
    n: int
    accuracy: float
    macro_f1: float
    confusion: list[list[int]]  # rows: true label, columns: predicted, in EMOTIONS order

    def format(self) -> str:
        width = max(len(e) for e in EMOTIONS) + 1
        lines = [f"held-out n={self.n}  accuracy={self.accuracy:.3f}  macro-F1={self.macro_f1:.3f}",
                 "confusion (rows true, columns predicted):",
                 " " * width + "".join(f"{e[:5]:>6}" for e in EMOTIONS)]
        for label, row in zip(EMOTIONS, self.confusion):
            lines.append(f"{label:<{width}}" + "".join(f"{v:>6}" for v in row))
        return "\n".join(lines)


def evaluate(classifier, examples: list[Example]) -> EvalReport:
    """Accuracy, macro-F1 and confusion matrix of ``classifier.classify`` on ``examples``."""
    idx = {e: i for i, e in enumerate(EMOTIONS)}
    confusion = [[0] * len(EMOTIONS) for _ in EMOTIONS]
    for ex in examples:
        confusion[idx[ex.label]][idx[classifier.classify(ex.text).label]] += 1
    n = len(examples)
    correct = sum(confusion[i][i] for i in range(len(EMOTIONS)))
    f1s = []
    for i in range(len(EMOTIONS)):
        tp = confusion[i][i]
        pred = sum(row[i] for row in confusion)
        true = sum(confusion[i])
        f1s.append(2 * tp / (pred + true) if pred + true else 0.0)
    return EvalReport(n=n, accuracy=correct / n if n else 0.0, macro_f1=sum(f1s) / len(f1s), confusion=confusion)
