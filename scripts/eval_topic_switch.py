"""Does the mentor carry an earlier subject into a new one? Each case is the first exchange
of a held-out mentor dialogue (the person's words and the reference reply) followed by an
unrelated held-out opening message (no key word in common, longer than a short answer).
The reply to the new message *leaks* when it uses a key word of the person's earlier words
that the new message lacks ("…clean those spills" in a reply about a driving test). Printed for
the prompt with the whole history and with ``llm.topic_history`` (only the current topic),
same model, same greedy decoding: with the rule the model never sees the earlier exchange,
so its count is the rate of chance matches, and the difference is what the history
carried over. Also: how often the rule keeps the history for the real follow-up lines of
the held-out dialogues (those need it). ``--own-replies``: the earlier reply is the
model's own, as in the app, instead of the reference reply.

    .venv/bin/python scripts/eval_topic_switch.py [--cases 60]
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import logging
import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from claritymentor.config import ROOT, load_config  # noqa: E402
from claritymentor.devtools.eval_stages import Silent, TaggedEmotion  # noqa: E402
from claritymentor.llm import TransformersLLM  # noqa: E402
from claritymentor.mentor_data import DATA_DIR, load_dialogues, split  # noqa: E402
from claritymentor.pipeline import Pipeline  # noqa: E402
from claritymentor.prompts import SHORT_WORDS, continues  # noqa: E402
from claritymentor.sense import key_words  # noqa: E402

logger = logging.getLogger("eval_topic_switch")


def cases(n: int) -> list[tuple[tuple[str, str], str, str]]:
    """(earlier exchange, new message, its emotion) pairs on unrelated subjects."""
    with (DATA_DIR / "heldout_messages.tsv").open(encoding="utf-8") as f:
        messages = [(r["message"], r["emotion"]) for r in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)]
    messages = [(m, e) for m, e in messages if len(m.split()) > SHORT_WORDS]
    out, j = [], 0
    for d in split(load_dialogues())[1]:
        first = d.exchanges[0]
        earlier = key_words(" ".join(first))
        for k in range(len(messages)):
            m, e = messages[(j + k) % len(messages)]
            if not key_words(m) & earlier:
                out.append((first, m, e))
                j += k + 1
                break
        if len(out) == n:
            break
    return out


def follow_ups_kept() -> tuple[int, int]:
    """Of the held-out dialogues' later lines, how many the rule answers with their history."""
    kept = total = 0
    for d in split(load_dialogues())[1]:
        pairs = d.exchanges
        for k in range(1, len(pairs)):
            total += 1
            kept += continues(pairs[:k], pairs[k][0])
    return kept, total


def leaked(reply: str, earlier: tuple[str, str], message: str) -> set[str]:
    """Key words of the person's earlier words (their subject: "flatmate", "dishes") that the
    reply uses and the new message lacks. (The earlier *reply's* words would count the
    mentor's stock phrases, which turn up by chance.)"""
    return key_words(reply) & (key_words(earlier[0]) - key_words(message))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=60)
    ap.add_argument("--json", type=Path, default=ROOT / "artifacts" / "eval_topic_switch.json")
    ap.add_argument("--own-replies", action="store_true",
                    help="the earlier exchange's reply is the model's own (as in the app), not the reference")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    import torch

    torch.set_num_threads(2)
    base = load_config("embedded")
    llm = TransformersLLM.load(base.llm, Path(base.cache_dir), base.resolve(base.llm.adapter_path))
    tagged = TaggedEmotion()
    chosen = cases(args.cases)
    if args.own_replies:  # the earlier exchange as the app would have it: the model's own reply
        cfg = dataclasses.replace(base, llm=dataclasses.replace(base.llm, prefill_next_turn=False))
        first = Pipeline(cfg=cfg, vad=None, stt=None, text_emotion=tagged, prosody=None, llm=llm, tts=Silent())
        chosen = [((u, first.text_turn(u, []).reply_text), m, e) for (u, _), m, e in chosen]
    figures: dict = {"earlier_reply": "the model's own" if args.own_replies else "the reference"}
    for rule in (False, True):
        cfg = dataclasses.replace(base, llm=dataclasses.replace(base.llm, topic_history=rule, prefill_next_turn=False))
        pipeline = Pipeline(cfg=cfg, vad=None, stt=None, text_emotion=tagged, prosody=None, llm=llm, tts=Silent())
        rows = []
        for earlier, message, emotion in chosen:
            tagged.label = emotion
            reply = pipeline.text_turn(message, [earlier]).reply_text
            rows.append({"earlier": earlier[0], "message": message, "reply": reply,
                         "leaked": sorted(leaked(reply, earlier, message))})
        name = "current topic only" if rule else "whole history"
        n_leak = sum(bool(r["leaked"]) for r in rows)
        figures[name] = {"cases": len(rows), "replies_leaking": n_leak, "share": round(n_leak / len(rows), 3),
                         "rows": rows}
        print(f"{name:<20} replies that carry the earlier subject: {n_leak}/{len(rows)} ({n_leak / len(rows):.0%})")
        for r in rows[:3]:
            print(f"    after {r['earlier'][:50]!r}\n    to {r['message'][:70]!r}\n    -> {r['reply'][:160]!r} "
                  f"{r['leaked']}")
    kept, total = follow_ups_kept()
    figures["follow_ups_kept"] = {"kept": kept, "total": total}
    print(f"held-out dialogue follow-up lines answered with their history under the rule: {kept}/{total} "
          f"({kept / total:.0%})")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
