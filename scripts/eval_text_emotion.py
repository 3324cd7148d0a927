"""Evaluate the text-emotion model on every evaluation set, none of them trained on:

- explicit held out: the hash split of data/emotion/sentences (emotion words said outright);
- implicit held out: data/emotion/heldout_implicit (situations, consequences, questions),
  as written and in speech-to-text form (lower case, no punctuation);
- dialogue openings: the person's first line of every mentor dialogue in data/mentor,
  labelled with the dialogue's emotion.

Prints accuracy, macro-F1 and a confusion matrix for each, and the median time per
sentence.

    .venv/bin/python scripts/eval_text_emotion.py                       # the shipped model
    .venv/bin/python scripts/eval_text_emotion.py --adapter "" --head H # another head on plain MiniLM
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from claritymentor.config import load_config  # noqa: E402
from claritymentor.emotion_data import (Example, as_transcript, dialogue_openings, evaluate,  # noqa: E402
                                        load_examples, load_implicit_heldout, split)
from claritymentor.factory import text_emotion_adapter  # noqa: E402
from claritymentor.text_emotion import load_text_emotion  # noqa: E402


def evaluation_sets() -> dict[str, list[Example]]:
    implicit = load_implicit_heldout()
    return {
        "explicit held out": split(load_examples())[1],
        "implicit held out": implicit,
        "implicit held out, speech-to-text form": [Example(as_transcript(e.text), e.label) for e in implicit],
        "dialogue openings": dialogue_openings(),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--adapter", default=None, help="encoder adapter folder ('' = plain MiniLM); default: config")
    ap.add_argument("--head", default=None, help="head .npz; default: config")
    ap.add_argument("--json", default=None, help="also write the figures to this file")
    args = ap.parse_args()
    import torch

    torch.set_num_threads(2)
    cfg = load_config("embedded")
    adapter = text_emotion_adapter(cfg) if args.adapter is None else (Path(args.adapter) if args.adapter else None)
    head = Path(args.head) if args.head else cfg.resolve(cfg.text_emotion.head_path)
    clf = load_text_emotion(cfg.text_emotion, head, adapter)
    print(f"model: {clf.name} (adapter {adapter}, head {head})\n")
    figures = {}
    for name, examples in evaluation_sets().items():
        report = evaluate(clf, examples)
        figures[name] = {"n": report.n, "accuracy": round(report.accuracy, 3), "macro_f1": round(report.macro_f1, 3)}
        print(f"== {name}\n{report.format()}\n")
    sample = [e.text for e in evaluation_sets()["implicit held out"][:100]]
    times = []
    for text in sample:
        t = time.perf_counter()
        clf.classify(text)
        times.append((time.perf_counter() - t) * 1000)
    figures["ms_per_sentence_median"] = round(statistics.median(times), 1)
    clean, stt = figures["implicit held out"], figures["implicit held out, speech-to-text form"]
    print(f"time per sentence: median {figures['ms_per_sentence_median']} ms (target <= 30)")
    print(f"speech-to-text form vs clean (implicit): {stt['accuracy'] - clean['accuracy']:+.3f} accuracy "
          "(target: within 3 points)")
    print("summary: " + json.dumps(figures))
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
