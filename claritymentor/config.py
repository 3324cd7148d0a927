"""Typed, frozen configuration loaded from ``config/*.yaml``.

``load_config(profile)`` merges ``defaults`` with the chosen profile of
``voice_config.yaml``, reads ``emotion_prompts.yaml`` and ``safety.yaml`` and validates them: an unknown
key, a wrong type or a value out of range fails at start with a message that says
which file and key to fix.
"""

from __future__ import annotations

import dataclasses
import os
import typing
from pathlib import Path
from typing import Any

import yaml

# The sections are defined in config_sections.py; the rest of the package imports them from here.
from claritymentor.config_sections import (EMOTIONS, PROFILES, ROOT, DEFAULT_CONFIG_DIR, AudioConfig,  # noqa: F401
                                           VADConfig, TurnConfig, STTConfig, TextEmotionConfig, CrisisConfig,
                                           ProsodyConfig, FusionConfig, LLMConfig, TTSConfig, EmotionStyle,
                                           PromptsConfig, AppConfig)
from claritymentor.constants import SAMPLE_RATE
from claritymentor.errors import ConfigError
from claritymentor.safety import load_safety_config

_SECTIONS = {
    "audio": AudioConfig,
    "vad": VADConfig,
    "turn": TurnConfig,
    "stt": STTConfig,
    "text_emotion": TextEmotionConfig,
    "crisis": CrisisConfig,
    "prosody": ProsodyConfig,
    "fusion": FusionConfig,
    "llm": LLMConfig,
    "tts": TTSConfig,
}

_CHOICES = {
    ("vad", "backend"): ("silero", "energy"),
    ("text_emotion", "backend"): ("embedding", "transformers"),
    ("tts", "backend"): ("pyttsx3",),
}


def _build(cls: type, data: Any, where: str) -> Any:
    """Build dataclass ``cls`` from a mapping, checking keys and types."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping of settings, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {unknown}; valid keys: {sorted(names)}")
    values = {}
    for key, value in data.items():
        expected = hints[key]
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if expected in (int, float) and isinstance(value, bool) or not isinstance(value, expected):
            raise ConfigError(
                f"{where}.{key}: expected {expected.__name__}, got {value!r} ({type(value).__name__})"
            )
        values[key] = value
    return cls(**values)


def _merge(base: dict, override: dict) -> dict:
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _read_yaml(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise ConfigError(f"config file {path} is missing; restore it from the repository") from e
    except yaml.YAMLError as e:
        raise ConfigError(f"{path.name} is not valid YAML: {e}") from e
    if not isinstance(data, dict):
        raise ConfigError(f"{path.name}: expected a mapping at the top level")
    return data


def _check_ranges(sections: dict[str, Any], where: str) -> None:
    a, f, t = sections["audio"], sections["fusion"], sections["tts"]
    checks = [
        (a.sample_rate_hz == SAMPLE_RATE, f"audio.sample_rate_hz must be {SAMPLE_RATE} (Silero and Whisper need it)"),
        (0 < a.min_speech_s < a.max_duration_s, "audio.min_speech_s must be > 0 and < max_duration_s"),
        (a.max_upload_mb > 0, "audio.max_upload_mb must be > 0"),
        (0 < sections["vad"].threshold < 1, "vad.threshold must be between 0 and 1"),
        (0 < sections["turn"].threshold < 1, "turn.threshold must be between 0 and 1"),
        (100 <= sections["turn"].end_silence_ms <= 5000, "turn.end_silence_ms must be between 100 and 5000"),
        (0 <= sections["turn"].prepare_after_ms < sections["turn"].end_silence_ms,
         "turn.prepare_after_ms must be >= 0 (0: off) and below turn.end_silence_ms"),
        (0 < sections["stt"].encoder_window_s <= 30, "stt.encoder_window_s must be > 0 and at most 30"),
        (0 <= f.min_confidence <= 1, "fusion.min_confidence must be between 0 and 1"),
        (0 <= t.base_volume <= 1, "tts.base_volume must be between 0.0 and 1.0"),
        (0 <= t.base_pitch <= 99, "tts.base_pitch must be between 0 and 99"),
        (sections["llm"].max_new_tokens > 0, "llm.max_new_tokens must be > 0"),
    ]
    for (section, key), choices in _CHOICES.items():
        value = getattr(sections[section], key)
        checks.append((value in choices, f"{section}.{key} is {value!r}; choose one of {list(choices)}"))
    for ok, message in checks:
        if not ok:
            raise ConfigError(f"{where}: {message}")


def _load_prompts(path: Path) -> PromptsConfig:
    data = _read_yaml(path)
    persona = data.get("persona")
    if not isinstance(persona, str) or not persona.strip():
        raise ConfigError(f"{path.name}: 'persona' must be a non-empty string")
    emotions = data.get("emotions")
    if not isinstance(emotions, dict):
        raise ConfigError(f"{path.name}: 'emotions' must map each emotion to its settings")
    missing = [e for e in EMOTIONS if e not in emotions]
    extra = [e for e in emotions if e not in EMOTIONS]
    if missing or extra:
        raise ConfigError(
            f"{path.name}: emotions must be exactly {list(EMOTIONS)}; missing {missing}, unknown {extra}"
        )
    styles = tuple((e, _build(EmotionStyle, emotions[e], f"{path.name}: emotions.{e}")) for e in EMOTIONS)
    for name, style in styles:
        if not style.guidance.strip():
            raise ConfigError(f"{path.name}: emotions.{name}.guidance is empty")
    return PromptsConfig(persona=" ".join(persona.split()), emotions=styles)


def default_cache_dir() -> Path:
    """Where slow-to-build artefacts (the dequantised LLM) are kept between runs."""
    env = os.environ.get("CLARITYMENTOR_CACHE_DIR")
    if env:
        return Path(env)
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "claritymentor"


def load_config(profile: str | None = None, config_dir: str | Path | None = None) -> AppConfig:
    """Load and validate the configuration for ``profile``.

    ``profile`` defaults to the CLARITYMENTOR_PROFILE environment variable, then ``space`` on
    a Hugging Face Space, else ``embedded``. Raises ConfigError with what to fix.
    """
    # On a Hugging Face Space (SPACE_ID is set) the weight packages are not installed: the
    # space profile loads the same models by hub id.
    profile = profile or os.environ.get("CLARITYMENTOR_PROFILE") or ("space" if os.environ.get("SPACE_ID") else "embedded")
    if profile not in PROFILES:
        raise ConfigError(f"unknown profile {profile!r}; choose one of {list(PROFILES)}")
    cdir = Path(config_dir or os.environ.get("CLARITYMENTOR_CONFIG_DIR") or DEFAULT_CONFIG_DIR)
    raw = _read_yaml(cdir / "voice_config.yaml")
    unknown_top = sorted(set(raw) - {"defaults", "profiles"})
    if unknown_top:
        raise ConfigError(f"voice_config.yaml: unknown top-level key(s) {unknown_top}; use 'defaults' and 'profiles'")
    profiles = raw.get("profiles") or {}
    if profile not in profiles:
        raise ConfigError(f"voice_config.yaml: no profile {profile!r} under 'profiles' (found {sorted(profiles)})")
    merged = _merge(raw.get("defaults") or {}, profiles[profile] or {})
    unknown = sorted(set(merged) - set(_SECTIONS))
    if unknown:
        raise ConfigError(f"voice_config.yaml: unknown section(s) {unknown}; valid: {sorted(_SECTIONS)}")
    where = f"voice_config.yaml (profile {profile})"
    sections = {name: _build(cls, merged.get(name), f"{where}: {name}") for name, cls in _SECTIONS.items()}
    _check_ranges(sections, where)
    prompts = _load_prompts(cdir / "emotion_prompts.yaml")
    safety = load_safety_config(cdir / "safety.yaml")
    if safety.voice_emotion not in EMOTIONS:
        raise ConfigError(f"safety.yaml: voice_emotion {safety.voice_emotion!r} must be one of {list(EMOTIONS)}")
    return AppConfig(profile=profile, prompts=prompts, safety=safety, cache_dir=str(default_cache_dir()), **sections)
