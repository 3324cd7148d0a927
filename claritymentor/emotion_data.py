"""The labelled emotion sentences and their evaluation sets.

- ``data/emotion/sentences/<label>.txt``: mostly explicit sentences ("I'm furious"), with a
  fixed train / held-out split by a hash of the sentence (adding sentences never moves an
  old one across the split): the *explicit* held-out split.
- ``data/emotion/implicit/<label>.txt``: training sentences the way people talk to a
  mentor (situations, consequences, questions, speech-to-text form); all trained on.
- ``data/emotion/heldout_implicit/<label>.txt``: the *implicit* held-out split, written
  before the implicit training data and never trained on.
- The person's opening lines of the mentor dialogues (``data/mentor``), each tagged with
  the person's emotion: a second, independent check.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from claritymentor.config import EMOTIONS, ROOT

DATA_DIR = ROOT / "data" / "emotion" / "sentences"
IMPLICIT_DIR = ROOT / "data" / "emotion" / "implicit"
IMPLICIT_HELDOUT_DIR = ROOT / "data" / "emotion" / "heldout_implicit"
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


def load_implicit(data_dir: Path = IMPLICIT_DIR) -> list[Example]:
    """The implicit training sentences (none if the folder is absent)."""
    return load_examples(data_dir) if data_dir.is_dir() else []


def load_implicit_heldout(data_dir: Path = IMPLICIT_HELDOUT_DIR) -> list[Example]:
    """The implicit held-out split: never trained on."""
    return load_examples(data_dir)


def dialogue_openings() -> list[Example]:
    """The person's first line of every mentor dialogue, labelled with the dialogue's emotion."""
    from claritymentor.mentor_data import load_dialogues

    return [Example(d.turns[0][1], d.emotion) for d in load_dialogues()]


def training_examples() -> list[Example]:
    """What the classifier is trained on: the explicit training split and the implicit
    sentences, minus anything that also appears in an evaluation set (checked by text)."""
    explicit_train, explicit_held = split(load_examples())
    evaluation = {e.text.strip().lower() for e in [*explicit_held, *load_implicit_heldout(), *dialogue_openings()]}
    return [e for e in [*explicit_train, *load_implicit()] if e.text.strip().lower() not in evaluation]


_PUNCT = re.compile(r"[^\w\s']")


def as_transcript(text: str) -> str:
    """``text`` the way a plain speech-to-text output can look: lower case, no punctuation."""
    return " ".join(_PUNCT.sub(" ", text.lower()).split())


@dataclass(frozen=True)
class EvalReport:
    n: int
    accuracy: float
    macro_f1: float
    confusion: list[list[int]]  # rows: true label, columns: predicted, in EMOTIONS order

    def format(self) -> str:
        width = max(len(e) for e in EMOTIONS) + 1
        lines = [f"n={self.n}  accuracy={self.accuracy:.3f}  macro-F1={self.macro_f1:.3f}",
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
