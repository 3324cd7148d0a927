"""The embedded LLM (SmolLM2-135M + ClarityMentor adapter, merged) in three precisions:
float32, bfloat16, and bfloat16 with int8 decode weights (the default where the CPU has
native bfloat16).

Prints, for each: tokens per second while generating (median over held-out prompts),
the prompt's prefill time, and the held-out perplexity of the reference replies. For the
int8 row the perplexity is computed with the int8 weights on every position (in the app
only generated tokens use them), so it is the worst case.

    .venv/bin/python scripts/bench_llm.py [--prompts 12] [--tokens 48]
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import math
import statistics
import time
from pathlib import Path


from claritymentor.config import load_config  # noqa: E402
from claritymentor.llm import TransformersLLM  # noqa: E402
from claritymentor.lora_data import encode_examples, reply_prompts  # noqa: E402
from claritymentor.mentor_data import load_dialogues, split  # noqa: E402
from claritymentor.quantize import Int8DecodeLinear  # noqa: E402
from claritymentor.lora_data import reply_loss  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--prompts", type=int, default=12)
    ap.add_argument("--tokens", type=int, default=48)
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    import torch

    cfg = load_config("embedded")
    torch.set_num_threads(cfg.llm.torch_threads)
    _, held = split(load_dialogues())
    prompts = [m for d in held for m, _ in reply_prompts(cfg.prompts, d)][:args.prompts]
    rows = []
    for name, dtype, int8 in (("float32", "float32", False), ("bfloat16", "bfloat16", False),
                              ("bfloat16 + int8 decode", "bfloat16", True)):
        llm = TransformersLLM.load(dataclasses.replace(cfg.llm, dtype=dtype, int8_decode=int8),
                                   Path(cfg.cache_dir), cfg.resolve(cfg.llm.adapter_path))
        model, tok = llm.model_for(True), llm.tokenizer
        rates, prefills = [], []
        with torch.inference_mode():
            for i, messages in enumerate(prompts):
                enc = tok.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt",
                                              return_dict=True)
                t = time.perf_counter()
                model(**enc)
                prefills.append(time.perf_counter() - t)
                t = time.perf_counter()
                out = model.generate(**enc, max_new_tokens=args.tokens, min_new_tokens=args.tokens, do_sample=False,
                                     repetition_penalty=cfg.llm.repetition_penalty, pad_token_id=tok.eos_token_id)
                n = out.shape[1] - enc["input_ids"].shape[1]
                if i:  # the first is a warm-up
                    rates.append(n / (time.perf_counter() - t))
            for m in model.modules():
                if isinstance(m, Int8DecodeLinear):
                    m.max_rows = 1 << 30  # the int8 weights everywhere: the worst case
            loss = reply_loss(model, encode_examples(tok, cfg.prompts, held))
        rows.append((name, statistics.median(rates), statistics.median(prefills[1:]) * 1000, math.exp(loss)))
        print(f"{name:24s} {rows[-1][1]:5.1f} tokens/s   prefill {rows[-1][2]:4.0f} ms   "
              f"held-out perplexity {rows[-1][3]:.2f}", flush=True)
    base = rows[0]
    print(f"\n{len(prompts) - 1} prompts, {args.tokens} tokens each, greedy; against float32:")
    for name, rate, prefill, ppl in rows[1:]:
        print(f"  {name:24s} speed x{rate / base[1]:.2f}   prefill x{prefill / base[2]:.2f}   "
              f"perplexity {ppl / base[3] - 1:+.1%}")


if __name__ == "__main__":
    main()
