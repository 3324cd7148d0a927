"""Evaluate the crisis detector on its lists: recall and false-alarm rate of the phrase
layer alone, the semantic layer alone and both together (what the app runs), and the
messages the app misses or wrongly flags on the held-out lists.

    .venv/bin/python scripts/eval_safety.py
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from claritymentor.config import load_config  # noqa: E402
from claritymentor.factory import load_crisis_detector  # noqa: E402
from claritymentor.safety import check_crisis  # noqa: E402
from claritymentor.safety_data import read_list  # noqa: E402

LISTS = (("dev.tsv", "dev (patterns written on it)"), ("dev2.tsv", "dev 2 (semantic layer trained on it)"),
         ("dev3.tsv", "dev 3 (semantic layer trained on it; mirrors)"),
         ("dev4.tsv", "dev 4 (semantic layer trained on it; sleep, idioms, goodbyes)"),
         ("dev5.tsv", "dev 5 (semantic layer trained on it; follow-ups)"),
         ("dev6.tsv", "dev 6 (semantic layer trained on it; indirect, plans, idioms, harmless plans)"),
         ("dev7.tsv", "dev 7 (semantic layer trained on it; topics, accidents, means in everyday settings)"),
         ("dev8.tsv", "dev 8 (semantic layer trained on it; answers with plans and times)"),
         ("heldout.tsv", "held out"), ("heldout2.tsv", "held out 2 (indirect, written before the semantic layer)"),
         ("heldout3.tsv", "held out 3 (written before dev 7; nobody read its errors)"))


def rates(flags: list[bool], labels: list[int]) -> tuple[int, int, int, int]:
    tp = sum(f for f, y in zip(flags, labels) if y)
    fp = sum(f for f, y in zip(flags, labels) if not y)
    return tp, sum(labels), fp, len(labels) - sum(labels)


def main() -> None:
    import torch

    torch.set_num_threads(2)
    detector = load_crisis_detector(load_config("embedded"))
    semantic = detector.semantic
    print(f"detector: {detector.name}; semantic threshold {semantic.threshold:.3f}\n")
    print(f"{'list':<58} {'layer':<10} {'recall':>14} {'false alarms':>14}")
    for name, title in LISTS:
        rows = read_list(name)
        labels = [y for _, y in rows]
        phrase = [check_crisis(t).crisis for t, _ in rows]
        scores = [semantic.score(t) for t, _ in rows]
        sem = [s >= semantic.threshold for s in scores]
        both = [a or b for a, b in zip(phrase, sem)]
        for layer, flags in (("phrases", phrase), ("semantic", sem), ("both", both)):
            tp, p, fp, n = rates(flags, labels)
            recall = f"{tp:>4}/{p:<3} {tp / p:>5.2f}" if p else f"{'–':>14}"
            print(f"{title:<58} {layer:<10} {recall} {fp:>4}/{n:<3} {fp / n:>5.2f}")
        if name.startswith("heldout"):
            for (t, y), f, s in zip(rows, both, scores):
                if bool(y) != f:
                    print(f"    {'MISSED' if y else 'FALSE ALARM'} ({s:.2f}): {t}")
        print()
    ordinary_false_alarms(detector)


def ordinary_false_alarms(detector) -> None:
    """False alarms on ordinary conversation: every line the person says in the held-out
    mentor dialogues (openings and follow-ups such as "probably algebra"; none is crisis
    language, none is trained on)."""
    from claritymentor.mentor_data import load_dialogues, split

    held = split(load_dialogues())[1]
    lines = list(dict.fromkeys(text for d in held for text in d.person_lines))
    follow_ups = set(text for d in held for text in d.person_lines[1:])
    fired = [(t, c) for t, c in ((t, detector.check(t)) for t in lines) if c.crisis]
    n_follow = sum(t in follow_ups for t, _ in fired)
    print(f"ordinary conversation (person's lines of the held-out mentor dialogues): false alarms "
          f"{len(fired)}/{len(lines)} {len(fired) / len(lines):.3f}; follow-up lines {n_follow}/{len(follow_ups)}")
    for t, c in fired[:15]:
        print(f"    FALSE ALARM ({c.score:.2f}, {','.join(c.matches)}): {t}")


if __name__ == "__main__":
    main()
