"""Int8 weights for the LLM's decode steps on CPU.

Generating a token multiplies one row of activations by every weight matrix: the time
goes into reading the weights from memory (SmolLM2-135M: 270 MB per token in bfloat16).
``Int8DecodeLinear`` keeps, beside each layer's weights, an int8 copy with one scale per
output channel, and uses it (``torch._weight_int8pack_mm``) for those single-row steps:
half the bytes, ~1.5x the tokens per second of bfloat16. The prompt (many rows at once, bound by
arithmetic, not memory) still runs on the original weights. Weight-only int8 keeps the
held-out perplexity within 1% (scripts/bench_llm.py); quantising the activations too
(``torch.ao`` dynamic int8) tripled it, so that is not used.
"""

from __future__ import annotations

import logging

import torch
from torch import nn

logger = logging.getLogger(__name__)

DECODE_ROWS = 4  # inputs with at most this many rows (token positions x batch) use the int8 copy


def int8_decode_works(dtype: torch.dtype) -> bool:
    """Whether this torch build multiplies ``dtype`` rows by int8 weights, and correctly."""
    if not hasattr(torch, "_weight_int8pack_mm"):
        return False
    try:
        gen = torch.Generator().manual_seed(0)
        linear = nn.Linear(64, 32, bias=False).to(dtype)
        nn.init.normal_(linear.weight, generator=gen)
        x = torch.randn(1, 64, generator=gen).to(dtype)
        with torch.inference_mode():
            got, want = Int8DecodeLinear(linear)(x).float(), linear(x).float()
        return bool(torch.allclose(got, want, rtol=0.05, atol=0.05 * float(want.abs().max())))
    except RuntimeError as e:
        logger.warning("int8 decode weights unavailable: %s", e)
        return False


class Int8DecodeLinear(nn.Module):
    """A linear layer whose few-row inputs are multiplied by an int8 copy of its weights."""

    def __init__(self, linear: nn.Linear, max_rows: int = DECODE_ROWS):
        super().__init__()
        self.weight = linear.weight  # shared, not copied: tied embeddings stay tied
        self.bias = linear.bias
        self.in_features, self.out_features = linear.in_features, linear.out_features
        self.max_rows = max_rows
        w = linear.weight.detach().float()
        scales = w.abs().amax(dim=1).clamp(min=1e-8) / 127
        self.register_buffer("qweight", torch.round(w / scales[:, None]).clamp(-127, 127).to(torch.int8),
                             persistent=False)
        self.register_buffer("scales", scales.to(linear.weight.dtype), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rows = x.numel() // self.in_features
        if rows > self.max_rows or x.dtype != self.scales.dtype:
            return nn.functional.linear(x, self.weight, self.bias)
        y = torch._weight_int8pack_mm(x.reshape(rows, self.in_features), self.qweight, self.scales)
        y = y.reshape(*x.shape[:-1], self.out_features)
        return y if self.bias is None else y + self.bias


def int8_decode(model: nn.Module, max_rows: int = DECODE_ROWS) -> int:
    """Give every ``nn.Linear`` of ``model`` an int8 decode copy, in place; returns how many."""
    count = 0
    for module in list(model.modules()):
        for name, child in list(module.named_children()):
            if type(child) is nn.Linear:
                setattr(module, name, Int8DecodeLinear(child, max_rows))
                count += 1
    return count
