"""Loading the mentor LLM's weights: the embedded SmolLM2 GGUF dequantised once into a
cached transformers copy, hub models by id, the torch dtype, and which base model a LoRA
adapter was trained on."""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from pathlib import Path

from claritymentor.config import LLMConfig
from claritymentor.errors import ModelLoadError
from claritymentor.models_paths import smollm2_gguf

logger = logging.getLogger(__name__)

EMBEDDED_BASE_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"


def _file_hash(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:16]


def dequantised_gguf_dir(gguf: Path, cache_dir: Path) -> Path:
    """A float32 transformers copy of ``gguf``, built once and cached by content hash."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    target = cache_dir / f"{gguf.stem}-{_file_hash(gguf)}"
    if (target / "config.json").is_file() and (target / "model.safetensors").is_file():
        return target
    logger.info("dequantising %s once (about 15 s); cached in %s", gguf.name, target)
    tok = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    # save_pretrained refuses a GGUF-loaded model while it still looks quantised.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.is_quantized = False
    tmp = target.with_name(target.name + ".tmp")
    model.save_pretrained(tmp)
    tok.save_pretrained(tmp)
    if target.exists():  # a partial copy from an interrupted run
        shutil.rmtree(target)
    tmp.replace(target)
    return target


def load_base(cfg: LLMConfig, cache_dir: Path):
    """(model, tokenizer, base id) for the configured base model."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if cfg.model == "embedded":
        source, base_id = dequantised_gguf_dir(smollm2_gguf(), cache_dir), EMBEDDED_BASE_ID
    else:
        source, base_id = cfg.model, cfg.model
    try:
        tok = AutoTokenizer.from_pretrained(source)
        model = AutoModelForCausalLM.from_pretrained(source, dtype="auto")
    except Exception as e:
        raise ModelLoadError(
            f"could not load the LLM {source!r}: {e}. Offline, use the embedded profile."
        ) from e
    model.eval()
    return model, tok, base_id


def cpu_has_native_bf16() -> bool:
    """Whether this CPU computes in bfloat16 natively (Linux ``/proc/cpuinfo`` flags)."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def resolve_dtype(name: str):
    """The torch dtype for ``llm.dtype``: ``auto`` is bfloat16 where the CPU has it natively."""
    import torch

    if name == "auto":
        return torch.bfloat16 if cpu_has_native_bf16() else torch.float32
    dtype = getattr(torch, name, None)
    if not isinstance(dtype, torch.dtype):
        raise ModelLoadError(f"llm.dtype {name!r} is not a torch dtype (use auto, float32 or bfloat16)")
    return dtype


def adapter_base(adapter_dir: Path) -> str | None:
    cfg = adapter_dir / "adapter_config.json"
    if not cfg.is_file():
        return None
    return json.loads(cfg.read_text())["base_model_name_or_path"]


def name_adapter_base(adapter_dir: Path, base_id: str) -> None:
    """Write the base a saved adapter belongs to by hub id, not this machine's path, so
    start-up (``adapter_base``) can check it against the loaded model."""
    cfg = adapter_dir / "adapter_config.json"
    data = json.loads(cfg.read_text())
    data["base_model_name_or_path"] = base_id
    cfg.write_text(json.dumps(data, indent=2))


def merged_adapter(model, base_id: str, adapter_dir: Path):
    """(adapter name, a copy of ``model`` with the LoRA adapter in ``adapter_dir`` merged in),
    or (None, None) when there is no adapter for this base model (the base answers alone)."""
    import copy

    wanted = adapter_base(adapter_dir)
    if wanted is None:
        logger.warning("no LoRA adapter at %s: answering with the base model", adapter_dir)
        return None, None
    if wanted != base_id:
        logger.warning("the adapter in %s was trained on %s, but the loaded LLM is %s: "
                       "answering with the base model", adapter_dir, wanted, base_id)
        return None, None
    from peft import PeftModel

    try:
        tuned = PeftModel.from_pretrained(copy.deepcopy(model), str(adapter_dir)).merge_and_unload()
    except Exception as e:
        raise ModelLoadError(f"the LoRA adapter in {adapter_dir} could not be applied: {e}") from e
    return adapter_dir.name, tuned
