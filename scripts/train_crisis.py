"""Train the crisis detector's semantic layer: MiniLM fine-tuned end to end (LoRA,
``claritymentor/encoder_tuning.py``) with a crisis / not-crisis head, crisis messages
against hard negatives and ordinary worried messages.

Training data: the dev lists ``data/safety/dev*.tsv`` (DEV_LISTS), plus,
as negatives, the emotion training sentences and the person's lines of the training
mentor dialogues (none of them is crisis language). The threshold is set on the dev
lists by 4-fold cross-validation (each fold trains a fresh model and scores the dev
messages it did not see): the highest value at which the two layers together still catch
TARGET_RECALL of the dev crisis messages. A miss is the worst failure the product can
have, so recall decides; the false alarms it costs on the dev negatives (many of them
written to mirror crisis messages in harmless settings: "I've picked a date for the
wedding") are printed. The cross-validated scores are kept in
``artifacts/crisis_cv.tsv``. The held-out lists (``HELD_OUT_LISTS``) are
never used here.

    .venv/bin/python scripts/train_crisis.py    # writes models/crisis_lora/ and models/crisis_head.npz
"""

from __future__ import annotations

import logging
import os
import random

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from claritymentor.config import ROOT  # noqa: E402
from claritymentor.emotion_data import as_transcript, training_examples  # noqa: E402
from claritymentor.encoder_tuning import TuneSettings, Tuned, finetune  # noqa: E402
from claritymentor.mentor_data import load_dialogues, split  # noqa: E402
from claritymentor.safety import _normalise, check_crisis  # noqa: E402
from claritymentor.safety_data import DEV_LISTS, HELD_OUT_LISTS, read_list  # noqa: E402

logger = logging.getLogger("train_crisis")
ARTIFACTS = ROOT / "artifacts"
SEED = 5
FOLDS = 4
TARGET_RECALL = 0.90  # cross-validated share of the dev crisis messages the two layers must catch
EXTRA_NEGATIVES = 1500  # ordinary negatives per training run (speed); the dev negatives are all used
SETTINGS = TuneSettings(epochs=3, rank=8, lr=1e-3, batch=32, seed=SEED, label_smoothing=0.1)


def pick_threshold(scores: np.ndarray, phrases: np.ndarray, labels: np.ndarray) -> float:
    """The highest threshold at which phrases-or-semantic recall on the crisis messages is
    still >= TARGET_RECALL."""
    for t in sorted(set(np.round(scores[labels == 1], 4)), reverse=True):
        if (phrases | (scores >= t))[labels == 1].mean() >= TARGET_RECALL:
            return float(t)
    return 0.0


def augment(text: str, rng: random.Random) -> str:
    return as_transcript(text) if rng.random() < 0.3 else text


def train(dev: list[tuple[str, int]], extra: list[str]) -> Tuned:
    texts = [_normalise(t) for t, _ in dev] + extra
    labels = [y for _, y in dev] + [0] * len(extra)
    weights = [1.0] * len(dev) + [0.5] * len(extra)  # the dev messages count more than the easy extras
    return finetune(texts, labels, 2, SETTINGS, augment=augment, weights=weights)


def main() -> None:
    from sklearn.model_selection import StratifiedKFold

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    import torch

    torch.set_num_threads(2)
    held = {_normalise(t).lower() for name in HELD_OUT_LISTS for t, _ in read_list(name)}
    dev = [row for name in DEV_LISTS for row in read_list(name) if _normalise(row[0]).lower() not in held]
    # Every later line of the training dialogues (a person's follow-ups: "probably algebra",
    # "not yet") is kept, beside dev list 5's short replies ("okay", "I'll try that after
    # work"); without them the layer read short follow-ups and plans for tonight as crisis
    # language. The rest is sampled.
    dev_texts = {t.lower() for t, _ in dev}
    train_dialogues = split(load_dialogues())[0]
    follow_ups = [text for d in train_dialogues for text in d.person_lines[1:]]
    rest = [e.text for e in training_examples()] + [d.turns[0][1] for d in train_dialogues]
    follow_ups = [t for t in dict.fromkeys(follow_ups) if t.lower() not in dev_texts]
    kept = set(follow_ups)
    rest = [t for t in dict.fromkeys(rest) if t.lower() not in dev_texts and t not in kept]
    n_rest = max(0, EXTRA_NEGATIVES - len(follow_ups))
    extra = follow_ups[:EXTRA_NEGATIVES] + random.Random(SEED).sample(rest, min(n_rest, len(rest)))
    y_dev = np.array([y for _, y in dev])
    logger.info("dev: %d crisis, %d not; extra negatives: %d", y_dev.sum(), (1 - y_dev).sum(), len(extra))

    scores = np.zeros(len(dev))
    for k, (tr, te) in enumerate(StratifiedKFold(FOLDS, shuffle=True, random_state=SEED).split(np.zeros(len(dev)), y_dev)):
        tuned = train([dev[i] for i in tr], extra)
        scores[te] = tuned.probabilities([_normalise(dev[i][0]) for i in te])[:, 1]
        logger.info("fold %d done", k + 1)
    pos, neg = scores[y_dev == 1], scores[y_dev == 0]
    phrases = np.array([check_crisis(t).crisis for t, _ in dev])
    threshold = pick_threshold(scores, phrases, y_dev)
    either = phrases | (scores >= threshold)
    logger.info("cross-validated dev: threshold %.3f -> semantic recall %.3f, false alarms %.3f; with the phrases "
                "recall %.3f, false alarms %.3f", threshold, (pos >= threshold).mean(), (neg >= threshold).mean(),
                either[y_dev == 1].mean(), either[y_dev == 0].mean())
    ARTIFACTS.mkdir(exist_ok=True)
    with (ARTIFACTS / "crisis_cv.tsv").open("w", encoding="utf-8") as f:
        f.write("label\tphrases\tscore\ttext\n")
        for (t, y), ph, sc in zip(dev, phrases, scores):
            f.write(f"{y}\t{int(ph)}\t{sc:.4f}\t{t}\n")
    for t, s in sorted(zip([t for t, y in dev if y == 0], neg), key=lambda p: -p[1])[:8]:
        logger.info("  highest negative %.3f  %s", s, t)
    for t, s in sorted(zip([t for t, y in dev if y == 1], pos), key=lambda p: p[1])[:8]:
        logger.info("  lowest crisis    %.3f  %s", s, t)

    tuned = train(dev, extra)
    tuned.save_adapter(ROOT / "models" / "crisis_lora")
    w, b = tuned.head_arrays()
    out = ROOT / "models" / "crisis_head.npz"
    # Two logits -> one: sigmoid(w1.x + b1 - w0.x - b0) is the softmax's crisis probability.
    np.savez(out, weights=(w[1] - w[0]).astype(np.float32), bias=np.float32(b[1] - b[0]),
             threshold=np.float32(threshold), n_dev=len(dev), n_extra=len(extra),
             cv_recall=np.float32((pos >= threshold).mean()), cv_false_alarms=np.float32((neg >= threshold).mean()))
    logger.info("wrote models/crisis_lora and %s", out.relative_to(ROOT))


if __name__ == "__main__":
    main()
