"""Typed results passed between the pipeline's stages."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class AudioClip:
    """Mono float32 samples in [-1, 1] at ``sample_rate`` Hz, checked at the boundary."""

    samples: np.ndarray
    sample_rate: int
    warnings: tuple[str, ...] = ()

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.sample_rate


@dataclass(frozen=True)
class SpeechSegment:
    start_s: float
    end_s: float


@dataclass(frozen=True)
class VADResult:
    """The speech found in a clip, and the clip with the silence around it trimmed."""

    segments: tuple[SpeechSegment, ...]
    speech: AudioClip
    backend: str

    @property
    def speech_s(self) -> float:
        return sum(s.end_s - s.start_s for s in self.segments)


@dataclass(frozen=True)
class Transcript:
    text: str
    language: str
    duration_s: float


@dataclass(frozen=True)
class TextEmotion:
    """Scores over the seven labels from the words alone (sum to 1)."""

    scores: dict[str, float]
    backend: str

    @property
    def label(self) -> str:
        return max(self.scores, key=self.scores.get)

    @property
    def confidence(self) -> float:
        return self.scores[self.label]


@dataclass(frozen=True)
class ProsodyReading:
    """What the voice itself suggests: arousal in [-1, 1] (calm to agitated), an
    optional valence hint in [-1, 1], a confidence in [0, 1] and the features used."""

    arousal: float
    valence: float | None
    confidence: float
    features: dict[str, float]

    @property
    def label(self) -> str:
        if self.arousal >= 0.3:
            return "agitated"
        if self.arousal <= -0.3:
            return "subdued"
        return "steady"


@dataclass(frozen=True)
class FusedEmotion:
    """The perceived emotion: one label with a confidence, the rule that decided it,
    the full distribution, and both channels' readings."""

    label: str
    confidence: float
    scores: dict[str, float]
    rule: str
    text: TextEmotion
    prosody: ProsodyReading | None


@dataclass(frozen=True)
class SpeechAudio:
    """Synthesised speech as int16 samples."""

    samples: np.ndarray
    sample_rate: int

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.sample_rate


@dataclass
class StageTimings:
    """Seconds spent in each stage of one turn (0.0 where a stage did not run)."""

    vad: float = 0.0
    stt: float = 0.0
    emotion: float = 0.0
    llm: float = 0.0
    tts: float = 0.0
    total: float = 0.0

    def as_ms(self) -> dict[str, int]:
        return {k: int(round(v * 1000)) for k, v in self.__dict__.items()}


@dataclass(frozen=True)
class TurnResult:
    """Everything one turn produced."""

    source: str  # "voice" or "text"
    user_text: str
    reply_text: str
    emotion: FusedEmotion
    reply_audio: SpeechAudio | None
    timings: StageTimings
    warnings: tuple[str, ...] = field(default_factory=tuple)
    crisis: tuple[str, ...] = ()  # crisis-language pattern families found; empty when none
    # Milliseconds from the end of speech to: turn_start (hands-free only: the end-of-turn
    # silence it waited for), stt_done, emotion_done, first_token, first_audio (first piece
    # of speech ready) and reply_done. Without turn_start the turn started at the end of speech.
    marks: dict[str, int] = field(default_factory=dict)
    interrupted: bool = False  # stopped from outside (the person spoke over it) before it was complete
    checked_out: tuple[str, ...] = ()  # reply pieces the run-time reply check left unsaid, with why


@dataclass(frozen=True)
class Heard:
    """Stream event: what the person said and how they sounded (before the reply)."""

    user_text: str
    emotion: FusedEmotion


@dataclass(frozen=True)
class ReplyPiece:
    """Stream event: the next sentence or clause of the reply, spoken (audio is None
    when synthesis failed; the text is still shown)."""

    index: int
    text: str
    audio: SpeechAudio | None
    reply_so_far: str


@dataclass(frozen=True)
class TurnDone:
    """Stream event: the finished turn."""

    result: TurnResult


TurnEvent = Heard | ReplyPiece | TurnDone  # what a turn's stream yields, in that order
