"""Evaluate the shipped text-emotion head on the held-out split.

    .venv/bin/python scripts/eval_text_emotion.py
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from claritymentor.config import load_config  # noqa: E402
from claritymentor.emotion_data import evaluate, load_examples, split  # noqa: E402
from claritymentor.text_emotion import load_text_emotion  # noqa: E402

if __name__ == "__main__":
    cfg = load_config("embedded")
    clf = load_text_emotion(cfg.text_emotion, cfg.resolve(cfg.text_emotion.head_path))
    _, held = split(load_examples())
    print(evaluate(clf, held).format())
