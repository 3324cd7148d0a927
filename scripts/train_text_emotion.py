"""Train the embedded text-emotion head: MiniLM embeddings + multinomial logistic
regression, regularisation chosen by cross-validation on the training split only.
Writes models/text_emotion_head.npz and prints held-out figures.

    .venv/bin/python scripts/train_text_emotion.py
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from claritymentor.config import EMOTIONS, ROOT  # noqa: E402
from claritymentor.emotion_data import evaluate, load_examples, split  # noqa: E402
from claritymentor.text_emotion import EmbeddingEmotionClassifier, LinearHead, load_sentence_encoder  # noqa: E402

SEED = 13


def main() -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV, StratifiedKFold

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    train, held = split(load_examples())
    encoder = load_sentence_encoder("embedded")
    clf = EmbeddingEmotionClassifier(encoder, head=None)  # only its embed() is used here
    x_train = clf.embed([e.text for e in train])
    y_train = np.array([EMOTIONS.index(e.label) for e in train])
    search = GridSearchCV(
        LogisticRegression(max_iter=5000),
        {"C": [0.5, 1, 2, 4, 8, 16, 32]},
        cv=StratifiedKFold(5, shuffle=True, random_state=SEED),
        scoring="f1_macro",
    )
    search.fit(x_train, y_train)
    model = search.best_estimator_
    logging.info("train %d / held out %d sentences; best C=%s (cv macro-F1 %.3f)",
                 len(train), len(held), search.best_params_["C"], search.best_score_)
    head = LinearHead(weights=model.coef_, bias=model.intercept_, labels=EMOTIONS)
    out = ROOT / "models" / "text_emotion_head.npz"
    head.save(out, C=float(search.best_params_["C"]), n_train=len(train))
    logging.info("wrote %s", out.relative_to(ROOT))
    logging.info("%s", evaluate(EmbeddingEmotionClassifier(encoder, head), held).format())


if __name__ == "__main__":
    main()
