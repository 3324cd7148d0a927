"""What the page shows, by name: ``PageUpdate`` holds one value per page output (or
``KEEP`` to leave it as it is), and the functions here render a session and a turn's
result into those values. Plain Python: ``ui.py`` maps an update onto Gradio components,
``app.py`` lists the components under the same names (``PAGE_OUTPUTS``).
"""

from __future__ import annotations

import base64
import io
import json
import time
import wave
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from claritymentor.session import (CRISIS_MARK, SessionState, chat_messages, timeline_frame, timeline_summary,
                                   timings_frame)
from claritymentor.types import SpeechAudio, TurnResult


class _Keep:
    def __repr__(self) -> str:
        return "KEEP"


KEEP: Any = _Keep()  # leave this output as the page shows it


@dataclass(frozen=True)
class PageUpdate:
    """One update of the page's outputs (in the order of ``PAGE_OUTPUTS``)."""

    chat: Any = KEEP
    reply_audio: Any = KEEP  # the whole reply, for replay: (rate, samples)
    timeline: Any = KEEP
    timeline_summary: Any = KEEP
    timings_table: Any = KEEP
    last_timings: Any = KEEP
    details: Any = KEEP
    notice: Any = KEEP
    feed: Any = KEEP  # a message for the page's reply player (``piece_message``, ``stop_message``)
    warnings: tuple[str, ...] = ()  # shown as pop-ups, not an output


PAGE_OUTPUTS = tuple(f.name for f in fields(PageUpdate) if f.name != "warnings")
STAGE_LABELS = ("vad", "stt", "emotion", "llm", "tts", "total")


def whole_page(state: SessionState, result: TurnResult | None = None, resources: str = "",
               feed: Any = KEEP) -> PageUpdate:
    """Every output for ``state`` after ``result`` (None: no turn to report)."""
    audio, notice, warnings = None, "", ()
    if result is not None:
        if result.reply_audio is not None:
            audio = (result.reply_audio.sample_rate, result.reply_audio.samples)
        warnings = tuple(result.warnings)
        notice = "⚠ " + " ".join(result.warnings) if result.warnings else ""
    return PageUpdate(
        chat=chat_messages(state, resources), reply_audio=audio, timeline=timeline_frame(state),
        timeline_summary=timeline_summary(state), timings_table=timings_frame(state),
        last_timings=timings_markdown(result) if result else "",
        details=details(result, state.turns[-1].index) if result else {},
        notice=notice_area(state, notice, resources), feed=feed, warnings=warnings)


def notice_only(state: SessionState, notice: str, resources: str) -> PageUpdate:
    """A hands-free problem shown in the notice area (nobody pressed anything to get a pop-up)."""
    return PageUpdate(chat=chat_messages(state, resources), notice=notice_area(state, notice, resources))


def notice_area(state: SessionState, notice: str, resources: str) -> str:
    """The notice area: after a crisis turn the resources come first and stay for the rest
    of the session, then any other notice."""
    if state.had_crisis() and resources:
        return f"### {CRISIS_MARK}\n{resources}\n\n{notice}".strip()
    return notice


def details(result: TurnResult, turn_index: int) -> dict:
    """The turn's details panel: both emotion channels, the fusion rule, timings."""
    e = result.emotion
    return {
        "turn": turn_index,
        "perceived": {"emotion": e.label, "confidence": e.confidence, "rule": e.rule},
        "words": {"emotion": e.text.label, "scores": {k: round(v, 3) for k, v in e.text.scores.items()},
                  "backend": e.text.backend},
        "voice": None if e.prosody is None else {
            "label": e.prosody.label, "arousal": e.prosody.arousal, "valence_hint": e.prosody.valence,
            "confidence": e.prosody.confidence, "features": e.prosody.features},
        "timings_ms": result.timings.as_ms(),
        "marks_ms": dict(result.marks),
        "warnings": list(result.warnings),
        "crisis": list(result.crisis),
        "reply_check": list(result.checked_out),  # pieces the reply check left unsaid, with why
    }


def timings_markdown(result: TurnResult) -> str:
    ms = result.timings.as_ms()
    line = "**Last turn (ms):** " + " · ".join(f"{k.upper() if k != 'total' else 'total'} {ms[k]}"
                                               for k in STAGE_LABELS)
    m = result.marks
    if "first_audio" in m:
        waited = f"answer started {m['turn_start']} ms · " if "turn_start" in m else ""
        if "turn_confirmed" in m:
            waited += f"end of turn confirmed {m['turn_confirmed']} ms · "
        line += (f"  \n**From end of speech:** {waited}first token {m.get('first_token', '–')} ms · "
                 f"first audio ready {m['first_audio']} ms · reply done {m.get('reply_done', '–')} ms")
    return line


def piece_message(reply_id: int, seq: int, audio: SpeechAudio) -> str:
    """A reply piece for the page's player (claritymentor/player.js): WAV, base64."""
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(audio.sample_rate)
        w.writeframes(np.asarray(audio.samples, dtype=np.int16).tobytes())
    return json.dumps({"turn": reply_id, "seq": seq, "sent": round(time.time() * 1000),  # wall clock, for the log
                       "wav": base64.b64encode(buf.getvalue()).decode("ascii")})


def stop_message(reply_id: int) -> str:
    """Tell the page's player to stop reply ``reply_id`` and drop what it has queued."""
    return json.dumps({"cmd": "stop", "turn": reply_id, "at": round(time.time(), 3)})
