"""Handlers behind the web page and its API: each takes the session state and the
input and returns (or, for turns, yields as the reply streams) the new state and what
the page shows. ``app.py`` only wires them.

A ``UserInputError`` becomes ``gr.Error`` before anything is yielded: the page shows the
message and no output (the session state included) changes.
"""

from __future__ import annotations

import base64
import dataclasses
import inspect
import io
import json
import logging
import platform
import threading
import time
import typing
import wave
from importlib import metadata
from pathlib import Path

import numpy as np

import gradio as gr

from claritymentor import __version__
from claritymentor.audio import clip_from_file
from claritymentor.constants import PIECE_GAP_S
from claritymentor.errors import UserInputError
from claritymentor.factory import LoadedPipeline
from claritymentor.live import Interruption, LiveRegistry, LiveSession
from claritymentor.run_ahead import RunAhead
from claritymentor.session import (CRISIS_MARK, SessionState, add_turn, chat_messages, history_json,
                                   mark_interrupted, perceived_caption, timeline_frame, timeline_summary,
                                   timings_frame, user_message)
from claritymentor.types import ReplyPiece, SpeechAudio, TurnDone, TurnResult

logger = logging.getLogger(__name__)

def bind(fn, *bound):
    """``fn`` with its first arguments bound, keeping the rest of its signature and type
    hints: Gradio finds the ``gr.Request`` parameter by its annotation, which
    ``functools.partial`` hides (every browser would then share one live session)."""
    sig = inspect.signature(fn)
    params = list(sig.parameters.values())[len(bound):]
    if inspect.isgeneratorfunction(fn):
        def wrapper(*args, **kwargs):
            yield from fn(*bound, *args, **kwargs)
    else:
        def wrapper(*args, **kwargs):
            return fn(*bound, *args, **kwargs)
    names = {p.name for p in params} | {"return"}
    wrapper.__signature__ = sig.replace(parameters=params)
    wrapper.__annotations__ = {k: v for k, v in typing.get_type_hints(fn).items() if k in names}
    wrapper.__name__, wrapper.__doc__ = fn.__name__, fn.__doc__
    return wrapper


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


OUTPUT_NAMES = ("state", "chat", "reply audio", "timeline", "timeline summary", "timings table",
                "last-turn timings", "details", "notice", "audio feed")


def _outputs(state: SessionState, result: TurnResult | None, resources: str = "", feed=None):
    """One value per OUTPUT_NAMES entry (``feed`` defaults to leaving the player alone)."""
    audio = None
    notice = ""
    if result is not None:
        if result.reply_audio is not None:
            audio = (result.reply_audio.sample_rate, result.reply_audio.samples)
        for w in result.warnings:
            gr.Warning(w)
        notice = "⚠ " + " ".join(result.warnings) if result.warnings else ""
    if state.had_crisis() and resources:  # the resources stay on the page for the rest of the session
        notice = crisis_banner(resources, notice)
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
        gr.skip() if feed is None else feed,
    )


def crisis_banner(resources: str, notice: str = "") -> str:
    """The notice area after a crisis turn: the resources first, then any other notice."""
    return f"### {CRISIS_MARK}\n{resources}\n\n{notice}".strip()


def _skip_all() -> tuple:
    return tuple(gr.skip() for _ in OUTPUT_NAMES)


def piece_message(turn_id: int, seq: int, audio: SpeechAudio) -> str:
    """A reply piece for the page's player (claritymentor/player.js): WAV, base64."""
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(audio.sample_rate)
        w.writeframes(np.asarray(audio.samples, dtype=np.int16).tobytes())
    return json.dumps({"turn": turn_id, "seq": seq, "sent": round(time.time() * 1000),  # wall clock, for the log
                       "wav": base64.b64encode(buf.getvalue()).decode("ascii")})


def stop_message(turn_id: int) -> str:
    """Tell the page's player to stop reply ``turn_id`` and drop what it has queued."""
    return json.dumps({"cmd": "stop", "turn": turn_id, "at": round(time.time(), 3)})


def _with_interruption(state: SessionState, found: Interruption | None) -> SessionState:
    if found is None or found.record is None:
        return state
    return mark_interrupted(state, found.record, found.said)


def _stream(loaded: LoadedPipeline, live: LiveSession, state: SessionState, source: str, first, events,
            stop: threading.Event, use_adapter: bool, marks: dict[str, int] | None = None):
    """Yield the page as the turn streams: the transcript with its emotion as soon as it is
    known, then each reply piece (its text in the chat, its audio to the player) as soon
    as it is ready, then everything at the end. Only the last yield changes the session
    state; a barge-in stops the reply and keeps only what had started playing. ``marks``
    are added to the turn's own (hands-free: when the end of the turn was confirmed)."""
    heard = first
    chat = chat_messages(state)
    pending = [user_message(heard.user_text,
                            f"{source} · {perceived_caption(heard.emotion.label, heard.emotion.confidence)}")]
    skip = [gr.skip()] * (len(OUTPUT_NAMES) - 3)
    turn_id = live.begin_turn(stop)
    yield (gr.skip(), chat + pending + [{"role": "assistant", "content": "…"}], *skip, gr.skip())
    for event in events:
        if isinstance(event, ReplyPiece):
            feed = gr.skip()
            if event.audio is not None and live.piece_sent(turn_id, event.text, event.audio.duration_s):
                feed = piece_message(turn_id, event.index, event.audio)
            yield (gr.skip(), chat + pending + [{"role": "assistant", "content": event.reply_so_far + " …"}],
                   *skip, feed)
        elif isinstance(event, TurnDone):
            r = event.result if not marks else dataclasses.replace(event.result, marks={**event.result.marks, **marks})
            new = add_turn(state, r, _model_label(loaded, use_adapter))
            history = new.history_pairs()

            def on_cut(said: str, history=history) -> None:  # spoken over while playing: prefill what is kept
                loaded.pipeline.prefill_conversation([*history[:-1], (history[-1][0], said)], use_adapter)

            found = live.end_turn(turn_id, new.turns[-1].index, on_cut)
            new = _with_interruption(new, found)
            if found is not None:  # spoken over before it was finished: the pipeline prefilled nothing
                loaded.pipeline.prefill_conversation(new.history_pairs(), use_adapter)
            logger.info("turn %d (%s): stages %s; from end of speech %s", new.turns[-1].index, source,
                        r.timings.as_ms(), r.marks)
            yield _outputs(new, r, loaded.pipeline.cfg.safety.resources)


def _live(registry: LiveRegistry, request: gr.Request | None) -> LiveSession:
    return registry.get(getattr(request, "session_hash", None) or "no-session")


def _session_for_turn(registry: LiveRegistry, state: SessionState | None,
                      request: gr.Request | None) -> tuple[LiveSession, SessionState]:
    """The browser's live state, and its session with any barge-in on the previous reply
    written into the history first."""
    live = _live(registry, request)
    return live, _with_interruption(state or SessionState(), live.take_interruption())


def voice_turn(loaded: LoadedPipeline, registry: LiveRegistry, state: SessionState | None, audio_path: str | None,
               use_adapter: bool = True, request: gr.Request = None):
    """A spoken turn from an audio file (the microphone's recording or an upload)."""
    live, state = _session_for_turn(registry, state, request)
    p = loaded.pipeline
    stop = threading.Event()
    try:
        clip = clip_from_file(audio_path, p.cfg.audio)
        events = p.voice_turn_stream(clip, state.history_pairs(), use_adapter=use_adapter, stop=stop,
                                     after_crisis=state.had_crisis())
        first = next(events)  # input problems surface here, before anything on the page changes
    except UserInputError as e:
        logger.info("voice turn rejected: %s", e)
        raise gr.Error(str(e), title="Could not use that recording") from e
    yield from _stream(loaded, live, state, "voice", first, events, stop, use_adapter)


def text_turn(loaded: LoadedPipeline, registry: LiveRegistry, state: SessionState | None, text: str | None,
              use_adapter: bool = True, request: gr.Request = None):
    """A typed turn."""
    live, state = _session_for_turn(registry, state, request)
    stop = threading.Event()
    try:
        events = loaded.pipeline.text_turn_stream(text or "", state.history_pairs(), use_adapter=use_adapter,
                                                  stop=stop, after_crisis=state.had_crisis())
        first = next(events)
    except UserInputError as e:
        logger.info("text turn rejected: %s", e)
        raise gr.Error(str(e), title="Nothing to send") from e
    yield from _stream(loaded, live, state, "text", first, events, stop, use_adapter)


PHASE_TEXT = {"idle": "**Listening.** Speak, then pause.",
              "listening": "**Hearing you…**",
              "thinking": "**Thinking…** (speak to interrupt)",
              "speaking": "**Mentor speaking** (speak to interrupt)"}


def listen(registry: LiveRegistry, chunk, request: gr.Request = None):
    """One streamed microphone chunk in hands-free mode: feeds the session's turn detector.
    Returns (hands-free status, utterance signal, player message); the utterance signal
    changes when a turn has ended, which starts ``hands_free_turn``."""
    if chunk is None:
        return gr.skip(), gr.skip(), gr.skip()
    live = _live(registry, request)
    rate, samples = chunk
    result = live.listen(int(rate), samples)
    feed = stop_message(result.barged_in.turn) if result.barged_in is not None else gr.skip()
    signal = f"{live.turn_id}:{time.monotonic():.3f}" if result.utterances else gr.skip()
    status = PHASE_TEXT[result.phase]
    if status == live.shown_status:
        status = gr.skip()  # the page re-renders what it is sent: send only changes
    else:
        live.shown_status = status
    return status, signal, feed


CONFIRM_TIMEOUT_S = 3.0  # an early utterance whose microphone stream went quiet counts as confirmed


def hands_free_turn(loaded: LoadedPipeline, registry: LiveRegistry, state: SessionState | None, signal: str | None,
                    use_adapter: bool = True, request: gr.Request = None):
    """Answer the next utterance the turn detector heard. Problems (a cough, the mentor's
    own voice coming back through the speakers) are shown as a notice, not a pop-up: in
    hands-free mode nobody pressed anything.

    An utterance handed on early (after a short pause) is answered ahead: the pipeline
    runs while the detector waits for the end-of-turn silence; nothing reaches the page
    until that confirms it, and if the person goes on speaking the answer is dropped."""
    live = _live(registry, request)
    utterance = live.next_utterance()
    if utterance is None:
        yield _skip_all()
        return
    state = _with_interruption(state or SessionState(), live.take_interruption())
    p = loaded.pipeline
    stop = threading.Event()
    notice = None
    marks: dict[str, int] = {}
    try:
        events = p.voice_turn_stream(utterance.clip, state.history_pairs(), use_adapter=use_adapter, stop=stop,
                                     speech_end=utterance.ended_at, after_crisis=state.had_crisis())
        confirmation = utterance.confirmation
        if confirmation.accepted is None:
            events = RunAhead(events)
            if not confirmation.wait(CONFIRM_TIMEOUT_S):
                stop.set()
                events.close()
                logger.info("dropped an answer prepared early: the person went on speaking")
                yield _skip_all()
                return
            if confirmation.decided_at is not None:
                marks["turn_confirmed"] = int(round((confirmation.decided_at - utterance.ended_at) * 1000))
        first = next(events)
        if live.is_echo(first.user_text, utterance.ended_at - utterance.clip.duration_s):
            stop.set()
            events.close()
            logger.info("ignored an echo of the reply: %r", first.user_text)
            notice = f"Ignored “{first.user_text}”: it sounded like the mentor's own voice. Headphones help."
    except UserInputError as e:
        logger.info("hands-free utterance rejected: %s", e)
        notice = f"Heard something but could not use it: {e}"
    if notice is not None:
        out = list(_outputs(state, None))
        out[2:8] = [gr.skip()] * 6
        out[8] = crisis_banner(p.cfg.safety.resources, notice) if state.had_crisis() else notice
        yield tuple(out)
        return
    yield from _stream(loaded, live, state, "voice", first, events, stop, use_adapter, marks)


def barge_in(registry: LiveRegistry, request: gr.Request = None):
    """The person pressed Record while the mentor was thinking or talking: stop the reply."""
    found = _live(registry, request).barge_in()
    return stop_message(found.turn) if found is not None else gr.skip()


def set_hands_free(registry: LiveRegistry, on: bool, request: gr.Request = None):
    """Switch between push-to-talk and hands-free: show the right microphone."""
    live = _live(registry, request)
    live.reset_listening()
    live.shown_status = PHASE_TEXT["idle"] if on else ""
    return gr.update(visible=not on), gr.update(visible=on), live.shown_status


def forget_session(registry: LiveRegistry, request: gr.Request = None) -> None:
    """The page was closed: drop its live state (turn detector, playback model)."""
    key = getattr(request, "session_hash", None)
    if key:
        registry.drop(key)


def new_conversation(registry: LiveRegistry, request: gr.Request = None):
    """A fresh session: empty history, timeline and timings; a reply still playing stops."""
    live = _live(registry, request)
    found = live.barge_in()
    live.take_interruption()  # the interrupted reply is in the history being cleared
    return _outputs(SessionState(), None, feed=stop_message(found.turn) if found is not None else None)


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
                                              "silero-vad", "pyttsx3", "gradio")},
    }


def player_js() -> str:
    """The page's reply player (run once on page load)."""
    js = Path(__file__).with_name("player.js").read_text(encoding="utf-8")
    return js.replace("__PIECE_GAP_S__", repr(PIECE_GAP_S))


def status_markdown(loaded: LoadedPipeline) -> str:
    """The status panel: each model's load state."""
    lines = [f"**Profile:** `{loaded.pipeline.cfg.profile}` · all models loaded in {loaded.load_s:.1f} s",
             "", "| stage | model | load + warm-up | note |", "|---|---|---|---|"]
    for s in loaded.statuses:
        lines.append(f"| ✅ {s.stage} | {s.name} | {s.load_s:.2f} s | {s.note} |")
    return "\n".join(lines)
