"""Train the ClarityMentor LoRA adapter on SmolLM2-135M-Instruct (the embedded base).

Each mentor reply in data/mentor (training split) becomes one example: the runtime
prompt (persona + the earlier turns + the emotion's guidance + the person's words) and,
as the only tokens with a loss, the reply. Dialogues whose own replies invent a person,
number or service, or carry a red-flag phrase (``claritymentor.sense``), are left out
unless ``--keep-flawed``. LoRA on the attention and MLP projections by default. Examples
are batched by length (less padding). Runs on a 2-core CPU, seeded.

    .venv/bin/python scripts/train_lora.py [--epochs 2] [--out models/claritymentor-lora]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from claritymentor.config import ROOT, load_config  # noqa: E402
from claritymentor.lora_data import LORA_TARGETS, encode_examples, flawed_replies  # noqa: E402
from claritymentor.llm_loading import EMBEDDED_BASE_ID, load_base, name_adapter_base  # noqa: E402
from claritymentor.mentor_data import load_dialogues, split  # noqa: E402

logger = logging.getLogger("train_lora")


def halve_precision(adapter_dir: Path) -> None:
    """Store the LoRA weights in float16 (half the file; merged into the float32 or bfloat16
    model at load, the difference is far below the model's own rounding)."""
    from safetensors.torch import load_file, save_file

    path = adapter_dir / "adapter_model.safetensors"
    weights = load_file(str(path))
    save_file({k: v.half().contiguous() for k, v in weights.items()}, str(path), metadata={"format": "pt"})


def main() -> None:
    import torch
    from peft import LoraConfig, get_peft_model

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--targets", default=",".join(LORA_TARGETS))
    ap.add_argument("--keep-flawed", action="store_true", help="train on dialogues whose replies fail the sense check")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--rank", type=int, default=16)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", default=str(ROOT / "models" / "claritymentor-lora"))
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.set_num_threads(2)

    cfg = load_config("embedded")
    model, tok, base_id = load_base(cfg.llm, Path(cfg.cache_dir))
    assert base_id == EMBEDDED_BASE_ID
    train, held = split(load_dialogues())
    flawed = [] if args.keep_flawed else [d for d in train if flawed_replies(d)]
    train = [d for d in train if d not in flawed]
    examples = encode_examples(tok, cfg.prompts, train)
    logger.info("training on %d replies from %d dialogues (%d dialogues held out, %d left out whose replies invent "
                "or red-flag)", len(examples), len(train), len(held), len(flawed))
    targets = args.targets.split(",")

    lora = LoraConfig(r=args.rank, lora_alpha=2 * args.rank, lora_dropout=0.05, target_modules=targets,
                      task_type="CAUSAL_LM")
    model = get_peft_model(model, lora)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    logger.info("LoRA r=%d on %s: %d trainable parameters", args.rank, ",".join(targets), trainable)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=args.lr, weight_decay=0.0)
    steps_per_epoch = (len(examples) + args.batch - 1) // args.batch
    total = steps_per_epoch * args.epochs
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / 10) * max(0.0, 1 - s / total))
    pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
    model.train()
    step, t0 = 0, time.time()
    for epoch in range(args.epochs):
        order = list(range(len(examples)))
        random.shuffle(order)
        # Batches of similar length (sorted within windows of 16 batches), in random order: less padding.
        window = 16 * args.batch
        order = [i for w in range(0, len(order), window)
                 for i in sorted(order[w:w + window], key=lambda i: len(examples[i][0]))]
        batches = [order[b:b + args.batch] for b in range(0, len(order), args.batch)]
        random.shuffle(batches)
        running = 0.0
        for n_batch, members in enumerate(batches):
            b = n_batch * args.batch
            batch = [examples[i] for i in members]
            width = max(len(ids) for ids, _ in batch)
            ids = torch.full((len(batch), width), pad)
            labels = torch.full((len(batch), width), -100)
            mask = torch.zeros((len(batch), width), dtype=torch.long)
            for i, (x, y) in enumerate(batch):
                ids[i, :len(x)] = torch.tensor(x)
                labels[i, :len(y)] = torch.tensor(y)
                mask[i, :len(x)] = 1
            loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            opt.zero_grad()
            step += 1
            running += loss.item()
            if step % 10 == 0 or step == total:
                logger.info("epoch %d step %d/%d loss %.3f (%.0f s)", epoch + 1, step, total,
                            running / ((b // args.batch) + 1), time.time() - t0)
    out = Path(args.out)
    model.save_pretrained(out)
    halve_precision(out)
    # The adapter names its base by hub id, so start-up can check it matches the loaded LLM.
    name_adapter_base(out, EMBEDDED_BASE_ID)
    meta = {"base": EMBEDDED_BASE_ID, "epochs": args.epochs, "lr": args.lr, "rank": args.rank, "alpha": 2 * args.rank,
            "dropout": 0.05, "batch": args.batch, "seed": args.seed, "targets": targets, "left_out_flawed_dialogues": len(flawed),
            "train_dialogues": len(train), "train_replies": len(examples), "held_out_dialogues": len(held),
            "trainable_parameters": trainable, "train_seconds": round(time.time() - t0, 1)}
    (out / "training.json").write_text(json.dumps(meta, indent=2))
    logger.info("wrote %s in %.0f s; now run scripts/eval_lora.py", out, time.time() - t0)


if __name__ == "__main__":
    main()
