"""Per-browser session state: a small deep-copyable dataclass kept in ``gr.State``.

Functions here never mutate the state they are given: ``add_turn`` returns a new one,
so a failed turn leaves the session exactly as it was.
"""

from __future__ import annotations

import copy
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone

import pandas as pd

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
    crisis: list[str] = field(default_factory=list)  # crisis-language families found in this turn
    marks: dict[str, int] = field(default_factory=dict)  # ms from end of speech: stt_done ... reply_done
    interrupted: bool = False  # the person spoke over the reply: reply_text is only what was played


@dataclass
class SessionState:
    session_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    turns: list[TurnRecord] = field(default_factory=list)

    def history_pairs(self) -> list[tuple[str, str]]:
        """(user, mentor) pairs for the prompt: the whole conversation, or, once a turn was a
        crisis turn, only from the latest crisis turn on. What came before (a flatmate, an
        exam) is not what the mentor should bring back to someone in crisis, and the small
        model would otherwise pick it up from a reply to "ok"."""
        start = max((i for i, t in enumerate(self.turns) if t.crisis), default=0)
        return [(t.user_text, t.reply_text) for t in self.turns[start:]]

    def had_crisis(self) -> bool:
        """Whether any turn of this session was a crisis turn: the resources then stay on the
        page and the mentor keeps the gentle crisis guidance for the rest of the session."""
        return any(t.crisis for t in self.turns)


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
        spoken=result.reply_audio is not None, model="crisis reply (config/safety.yaml)" if result.crisis else model,
        at=datetime.now(timezone.utc).isoformat(timespec="seconds"), crisis=list(result.crisis),
        marks=dict(result.marks), interrupted=result.interrupted,
    ))
    del new.turns[:-MAX_TURNS]
    return new


def mark_interrupted(state: SessionState, index: int, said: str) -> SessionState:
    """A new state in which turn ``index``'s reply is cut to ``said`` (what had started
    playing when the person spoke over it) and marked interrupted. Unknown turns (one
    dropped by "New conversation") leave the state as it is."""
    if not any(t.index == index for t in state.turns):
        return state
    new = copy.deepcopy(state)
    for t in new.turns:
        if t.index == index:
            t.reply_text, t.interrupted = said, True
    return new


INTERRUPTED_MARK = "[interrupted]"


def perceived_caption(label: str, confidence: float) -> str:
    return f"perceived: **{label}** {confidence:.2f}"


def user_message(text: str, caption: str) -> dict[str, str]:
    """A user turn in the chat, with its caption (source and emotion) under it."""
    return {"role": "user", "content": f"{text}\n\n<sub>{caption}</sub>"}


def _emotion_caption(t: TurnRecord) -> str:
    parts = [perceived_caption(t.emotion, t.confidence), f"words: {t.text_emotion}"]
    if t.voice:
        parts.append(f"voice: {t.voice['label']} (arousal {t.voice['arousal']:+.2f})")
    return " · ".join(parts)


CRISIS_MARK = "⚠ crisis support"


def chat_messages(state: SessionState, resources: str = "") -> list[dict[str, str]]:
    """The conversation in Gradio's messages format, each user turn with its emotion;
    a crisis turn is marked and its reply carries ``resources``."""
    out: list[dict[str, str]] = []
    for t in state.turns:
        mark = f"**{CRISIS_MARK}** · " if t.crisis else ""
        out.append(user_message(t.user_text, f"{mark}{t.source} · {_emotion_caption(t)}"))
        reply = t.reply_text
        if t.interrupted:
            reply = f"{reply} <sub>{INTERRUPTED_MARK}</sub>" if reply else f"<sub>{INTERRUPTED_MARK} before answering</sub>"
        if t.crisis and resources:
            reply += f"\n\n**{resources}**"
        if t.warnings:
            reply += "\n\n<sub>⚠ " + " ".join(t.warnings) + "</sub>"
        out.append({"role": "assistant", "content": reply})
    return out


SERIES_PERCEIVED = "perceived (fused)"
SERIES_WORDS = "words"
TIMELINE_COLUMNS = ["turn", "score", "series", "label"]


def timeline_frame(state: SessionState) -> pd.DataFrame:
    """Long-form rows for the timeline plot, one line per channel, as intensities in
    0..1: the perceived (fused) emotion's confidence (0 when neutral), the words'
    emotional charge (1 - their neutral score) and, for voice turns, the voice's arousal
    (0 calm .. 1 agitated). ``label`` names the emotion for the tooltip.

    ``turn`` is a string, so the axis shows whole turns only, zero-padded to a common
    width so that the plot's ascending order is numeric order ("09" before "10").
    (Gradio's explicit ``sort`` list lags one update behind the data, hiding the newest
    turn, so it is not used.)"""
    rows = []
    width = len(str(state.turns[-1].index)) if state.turns else 1
    for t in state.turns:
        turn = str(t.index).zfill(width)
        rows.append([turn, t.confidence if t.emotion != "neutral" else 0.0, SERIES_PERCEIVED, t.emotion])
        rows.append([turn, round(1.0 - t.text_scores["neutral"], 3), SERIES_WORDS, t.text_emotion])
        if t.voice:
            rows.append([turn, round((t.voice["arousal"] + 1) / 2, 3), AROUSAL_SERIES, t.voice["label"]])
    return pd.DataFrame(rows, columns=TIMELINE_COLUMNS)


MOOD_WORDS = {"anger": "frustrated", "disgust": "put off", "fear": "anxious", "joy": "upbeat",
              "neutral": "calm", "sadness": "low", "surprise": "surprised"}
TREND_TURNS = 3  # the "recent" window of the trend
TREND_DELTA = 0.15  # change in mean intensity that counts as calmer / more stirred up


def _intensity(t: TurnRecord) -> float:
    """How strongly emotional a turn read: the confidence of a non-neutral perceived
    emotion, averaged with the voice's arousal (0..1) when there is a voice."""
    value = t.confidence if t.emotion != "neutral" else 0.0
    if t.voice:
        value = (value + (t.voice["arousal"] + 1) / 2) / 2
    return value


def session_summary(state: SessionState) -> str:
    """One line for the whole session, e.g. "mostly anxious (fear in 3 of 5 turns);
    calmer over the last three turns"."""
    turns = state.turns
    if not turns:
        return "No turns yet: the timeline fills in as you talk."
    counts = Counter(t.emotion for t in turns)
    label, n = counts.most_common(1)[0]
    if n * 2 >= len(turns):
        mood = f"mostly {MOOD_WORDS[label]} ({label} in {n} of {len(turns)} turns)"
    else:
        top = [f"{MOOD_WORDS[e]} ({c})" for e, c in counts.most_common(3)]
        mood = "mixed: " + ", ".join(top)
    if len(turns) <= TREND_TURNS:
        return f"{mood}."
    recent = [_intensity(t) for t in turns[-TREND_TURNS:]]
    earlier = [_intensity(t) for t in turns[:-TREND_TURNS]]
    delta = sum(recent) / len(recent) - sum(earlier) / len(earlier)
    if delta <= -TREND_DELTA:
        trend = "calmer over the last three turns"
    elif delta >= TREND_DELTA:
        trend = "more stirred up over the last three turns"
    else:
        trend = "about the same over the last three turns"
    return f"{mood}; {trend}."


def timeline_summary(state: SessionState, last: int = 6) -> str:
    """The lines under the timeline: the session summary and the recent turns."""
    if not state.turns:
        return session_summary(state)
    steps = [f"{t.index}: **{t.emotion}** {t.confidence:.2f}" for t in state.turns[-last:]]
    return f"**Session:** {session_summary(state)}  \nPerceived by turn — " + " → ".join(steps)


TIMING_COLUMNS = ["turn", "input", "vad", "stt", "emotion", "llm", "tts", "total", "1st audio"]


def timings_frame(state: SessionState) -> pd.DataFrame:
    """Per-turn stage timings in milliseconds."""
    rows = [[t.index, t.source] + [t.timings_ms[k] for k in TIMING_COLUMNS[2:-1]] + [t.marks.get("first_audio")]
            for t in state.turns]
    return pd.DataFrame(rows, columns=TIMING_COLUMNS)


def history_json(state: SessionState) -> dict:
    """The whole session for the history API."""
    return {"session_id": state.session_id, "turns": [asdict(t) for t in state.turns]}
