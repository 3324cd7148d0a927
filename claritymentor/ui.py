"""Handlers behind the web page and its API: each takes the session state and the
input and returns (or, for turns, yields as the reply streams) the new state and what
the page shows. ``app.py`` only wires them.

A ``UserInputError`` becomes ``gr.Error`` before anything is yielded: the page shows the
message and no output (the session state included) changes.
"""

from __future__ import annotations

import logging
import platform
from importlib import metadata

import gradio as gr

from claritymentor import __version__
from claritymentor.audio import clip_from_file
from claritymentor.errors import UserInputError
from claritymentor.factory import LoadedPipeline
from claritymentor.session import (CRISIS_MARK, SessionState, add_turn, chat_messages, history_json,
                                   perceived_caption, timeline_frame, timeline_summary, timings_frame, user_message)
from claritymentor.types import ReplyPiece, TurnDone, TurnResult

logger = logging.getLogger(__name__)

STAGE_LABELS = ("vad", "stt", "emotion", "llm", "tts", "total")


def _model_label(loaded: LoadedPipeline, use_adapter: bool) -> str:
    llm = loaded.pipeline.llm
    return llm.name if use_adapter or not getattr(llm, "adapter", None) else f"{llm.base_id} (base)"


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
    }


def timings_markdown(result: TurnResult) -> str:
    ms = result.timings.as_ms()
    line = "**Last turn (ms):** " + " · ".join(f"{k.upper() if k != 'total' else 'total'} {ms[k]}"
                                               for k in STAGE_LABELS)
    m = result.marks
    if "first_audio" in m:
        line += (f"  \n**From end of speech:** first token {m.get('first_token', '–')} ms · "
                 f"first audio ready {m['first_audio']} ms · reply done {m.get('reply_done', '–')} ms")
    return line


OUTPUT_NAMES = ("state", "chat", "reply audio", "timeline", "timeline summary", "timings table",
                "last-turn timings", "details", "notice")


def _outputs(state: SessionState, result: TurnResult | None, resources: str = ""):
    """One value per OUTPUT_NAMES entry."""
    audio = None
    notice = ""
    if result is not None:
        if result.reply_audio is not None:
            audio = (result.reply_audio.sample_rate, result.reply_audio.samples)
        for w in result.warnings:
            gr.Warning(w)
        notice = "⚠ " + " ".join(result.warnings) if result.warnings else ""
        if result.crisis:
            notice = f"### {CRISIS_MARK}\n{resources}\n\n{notice}".strip()
    return (
        state,
        chat_messages(state, resources),
        audio,
        timeline_frame(state),
        timeline_summary(state),
        timings_frame(state),
        timings_markdown(result) if result else "",
        details(result, state.turns[-1].index) if result else {},
        notice,
    )


def _stream(loaded: LoadedPipeline, state: SessionState, source: str, first, events, use_adapter: bool):
    """Yield the page as the turn streams: the transcript with its emotion as soon as it is
    known, the reply growing piece by piece, then everything at the end. Only the last
    yield changes the session state."""
    heard = first
    chat = chat_messages(state)
    pending = [user_message(heard.user_text,
                            f"{source} · {perceived_caption(heard.emotion.label, heard.emotion.confidence)}")]
    skip = [gr.skip()] * (len(OUTPUT_NAMES) - 2)
    yield (gr.skip(), chat + pending + [{"role": "assistant", "content": "…"}], *skip)
    for event in events:
        if isinstance(event, ReplyPiece):
            yield (gr.skip(), chat + pending + [{"role": "assistant", "content": event.reply_so_far + " …"}], *skip)
        elif isinstance(event, TurnDone):
            yield _outputs(add_turn(state, event.result, _model_label(loaded, use_adapter)), event.result,
                           loaded.pipeline.cfg.safety.resources)


def voice_turn(loaded: LoadedPipeline, state: SessionState | None, audio_path: str | None,
               use_adapter: bool = True):
    """A spoken turn from an audio file (the microphone's recording or an upload)."""
    state = state or SessionState()
    p = loaded.pipeline
    try:
        clip = clip_from_file(audio_path, p.cfg.audio)
        events = p.voice_turn_stream(clip, state.history_pairs(), use_adapter=use_adapter)
        first = next(events)  # input problems surface here, before anything on the page changes
    except UserInputError as e:
        logger.info("voice turn rejected: %s", e)
        raise gr.Error(str(e), title="Could not use that recording") from e
    yield from _stream(loaded, state, "voice", first, events, use_adapter)


def text_turn(loaded: LoadedPipeline, state: SessionState | None, text: str | None, use_adapter: bool = True):
    """A typed turn."""
    state = state or SessionState()
    try:
        events = loaded.pipeline.text_turn_stream(text or "", state.history_pairs(), use_adapter=use_adapter)
        first = next(events)
    except UserInputError as e:
        logger.info("text turn rejected: %s", e)
        raise gr.Error(str(e), title="Nothing to send") from e
    yield from _stream(loaded, state, "text", first, events, use_adapter)


def new_conversation():
    """A fresh session: empty history, timeline and timings."""
    return _outputs(SessionState(), None)


def session_history(state: SessionState | None) -> dict:
    return history_json(state or SessionState())


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def health(loaded: LoadedPipeline) -> dict:
    """Models loaded, versions and device, for the status panel and the health API."""
    import torch

    return {
        "ok": True,
        "claritymentor": __version__,
        "profile": loaded.pipeline.cfg.profile,
        "device": "cuda" if torch.cuda.is_available() else "cpu",
        "python": platform.python_version(),
        "load_s": loaded.load_s,
        "models": [{"stage": s.stage, "name": s.name, "load_s": s.load_s, "note": s.note}
                   for s in loaded.statuses],
        "versions": {d: _version(d) for d in ("torch", "transformers", "peft", "faster-whisper", "ctranslate2",
                                              "silero-vad", "sentence-transformers", "pyttsx3", "gradio")},
    }


def status_markdown(loaded: LoadedPipeline) -> str:
    """The status panel: each model's load state."""
    lines = [f"**Profile:** `{loaded.pipeline.cfg.profile}` · all models loaded in {loaded.load_s:.1f} s",
             "", "| stage | model | load + warm-up | note |", "|---|---|---|---|"]
    for s in loaded.statuses:
        lines.append(f"| ✅ {s.stage} | {s.name} | {s.load_s:.2f} s | {s.note} |")
    return "\n".join(lines)
