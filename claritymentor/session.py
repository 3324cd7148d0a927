"""Per-browser session state: a small deep-copyable dataclass kept in ``gr.State``.

Functions here never mutate the state they are given: ``add_turn`` returns a new one,
so a failed turn leaves the session exactly as it was.
"""

from __future__ import annotations

import copy
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone

import pandas as pd

from claritymentor.config import EMOTIONS
from claritymentor.types import TurnResult

MAX_TURNS = 200  # oldest turns are dropped past this, so a session's memory stays bounded
AROUSAL_SERIES = "voice arousal"


@dataclass
class TurnRecord:
    """One finished turn, as shown on the page and returned by the history API."""

    index: int
    source: str
    user_text: str
    reply_text: str
    emotion: str
    confidence: float
    rule: str
    scores: dict[str, float]
    text_emotion: str
    text_scores: dict[str, float]
    voice: dict | None  # prosody: label, arousal, valence, confidence, features
    timings_ms: dict[str, int]
    warnings: list[str]
    spoken: bool
    model: str
    at: str


@dataclass
class SessionState:
    session_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    turns: list[TurnRecord] = field(default_factory=list)

    def history_pairs(self) -> list[tuple[str, str]]:
        """(user, mentor) pairs for the prompt."""
        return [(t.user_text, t.reply_text) for t in self.turns]


def add_turn(state: SessionState | None, result: TurnResult, model: str) -> SessionState:
    """A new state with ``result`` appended (the given state is untouched)."""
    new = copy.deepcopy(state) if state is not None else SessionState()
    e = result.emotion
    voice = None
    if e.prosody is not None:
        voice = {"label": e.prosody.label, "arousal": e.prosody.arousal, "valence": e.prosody.valence,
                 "confidence": e.prosody.confidence, "features": dict(e.prosody.features)}
    index = new.turns[-1].index + 1 if new.turns else 1
    new.turns.append(TurnRecord(
        index=index, source=result.source, user_text=result.user_text, reply_text=result.reply_text,
        emotion=e.label, confidence=e.confidence, rule=e.rule, scores=dict(e.scores),
        text_emotion=e.text.label, text_scores={k: round(v, 4) for k, v in e.text.scores.items()},
        voice=voice, timings_ms=result.timings.as_ms(), warnings=list(result.warnings),
        spoken=result.reply_audio is not None, model=model,
        at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
    ))
    del new.turns[:-MAX_TURNS]
    return new


def _emotion_caption(t: TurnRecord) -> str:
    parts = [f"perceived: **{t.emotion}** {t.confidence:.2f}", f"words: {t.text_emotion}"]
    if t.voice:
        parts.append(f"voice: {t.voice['label']} (arousal {t.voice['arousal']:+.2f})")
    return " · ".join(parts)


def chat_messages(state: SessionState) -> list[dict[str, str]]:
    """The conversation in Gradio's messages format, each user turn with its emotion."""
    out: list[dict[str, str]] = []
    for t in state.turns:
        out.append({"role": "user", "content": f"{t.user_text}\n\n<sub>{t.source} · {_emotion_caption(t)}</sub>"})
        reply = t.reply_text
        if t.warnings:
            reply += "\n\n<sub>⚠ " + " ".join(t.warnings) + "</sub>"
        out.append({"role": "assistant", "content": reply})
    return out


def timeline_frame(state: SessionState) -> pd.DataFrame:
    """Long-form rows (turn, score, series) for the emotion timeline plot: the fused
    score of each emotion per turn, plus the voice's arousal mapped to 0..1."""
    rows = []
    for t in state.turns:
        rows.extend({"turn": t.index, "score": t.scores[e], "series": e} for e in EMOTIONS)
        if t.voice:
            rows.append({"turn": t.index, "score": round((t.voice["arousal"] + 1) / 2, 3),
                         "series": AROUSAL_SERIES})
    return pd.DataFrame(rows, columns=["turn", "score", "series"])


TIMING_COLUMNS = ["turn", "input", "vad", "stt", "emotion", "llm", "tts", "total"]


def timings_frame(state: SessionState) -> pd.DataFrame:
    """Per-turn stage timings in milliseconds."""
    rows = [[t.index, t.source] + [t.timings_ms[k] for k in TIMING_COLUMNS[2:]] for t in state.turns]
    return pd.DataFrame(rows, columns=TIMING_COLUMNS)


def timeline_summary(state: SessionState, last: int = 6) -> str:
    """One line under the timeline: the perceived emotion of the recent turns."""
    if not state.turns:
        return "No turns yet: the timeline fills in as you talk."
    steps = [f"{t.index}: **{t.emotion}** {t.confidence:.2f}" for t in state.turns[-last:]]
    return "Perceived emotion by turn — " + " → ".join(steps)


def history_json(state: SessionState) -> dict:
    """The whole session for the history API."""
    return {"session_id": state.session_id, "turns": [asdict(t) for t in state.turns]}
