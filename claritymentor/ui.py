"""The page's handlers: each takes the browser's ``Conversation`` (kept in ``gr.State``)
and the input, calls the turn runner or the conversation, and maps what they return
onto the page's components (``PageUpdate`` → one value per ``PAGE_OUTPUTS`` name).
``app.py`` only builds the page and wires these.

A ``UserInputError`` becomes ``gr.Error`` before anything is yielded: the page shows the
message and nothing else changes; the conversation is untouched.
"""

from __future__ import annotations

import logging
import platform
import time
from importlib import metadata
from pathlib import Path

import gradio as gr

from claritymentor import __version__
from claritymentor.audio import clip_from_file
from claritymentor.constants import PIECE_GAP_S
from claritymentor.conversation import Conversation
from claritymentor.errors import UserInputError
from claritymentor.factory import LoadedPipeline
from claritymentor.page import KEEP, PAGE_OUTPUTS, PageUpdate, stop_message, whole_page
from claritymentor.session import SessionState, chat_messages, history_json
from claritymentor.turns import TurnRunner

logger = logging.getLogger(__name__)

PHASE_TEXT = {"idle": "**Listening.** Speak, then pause.",
              "listening": "**Hearing you…**",
              "thinking": "**Thinking…** (speak to interrupt)",
              "speaking": "**Mentor speaking** (speak to interrupt)"}


def outputs(update: PageUpdate) -> tuple:
    """The update as Gradio values, in ``PAGE_OUTPUTS`` order (``KEEP`` → ``gr.skip()``)."""
    for w in update.warnings:
        gr.Warning(w)
    return tuple(gr.skip() if (v := getattr(update, name)) is KEEP else v for name in PAGE_OUTPUTS)


def _run(updates_or_error, title: str):
    try:
        updates = updates_or_error()
    except UserInputError as e:
        logger.info("turn rejected: %s", e)
        raise gr.Error(str(e), title=title) from e
    for update in updates:
        yield outputs(update)


def voice_turn(runner: TurnRunner, conv: Conversation, audio_path: str | None, use_adapter: bool = True):
    """A spoken turn from an audio file (the microphone's recording or an upload)."""
    yield from _run(lambda: runner.voice(conv, clip_from_file(audio_path, runner.pipeline.cfg.audio), use_adapter),
                    "Could not use that recording")


def text_turn(runner: TurnRunner, conv: Conversation, text: str | None, use_adapter: bool = True):
    """A typed turn."""
    yield from _run(lambda: runner.text(conv, text or "", use_adapter), "Nothing to send")


def hands_free_turn(runner: TurnRunner, conv: Conversation, signal: str | None, use_adapter: bool = True):
    """Answer the next utterance the hands-free microphone heard (``listen`` signalled it)."""
    sent = False
    for update in runner.hands_free(conv, use_adapter):
        sent = True
        yield outputs(update)
    if not sent:  # no utterance, or an answer prepared early and dropped
        yield outputs(PageUpdate())


def listen(conv: Conversation, chunk):
    """One streamed microphone chunk in hands-free mode. Returns (status line, utterance
    signal, player message, history signal): the utterance signal changes when a turn has
    ended, which starts ``hands_free_turn``; the history signal when a barge-in cut a
    recorded reply, which starts ``show_chat``. (The chat is not an output of this stream:
    a stream's outputs are re-rendered in the page on every chunk, four times a second.)"""
    if chunk is None:
        return gr.skip(), gr.skip(), gr.skip(), gr.skip()
    rate, samples = chunk
    r = conv.listen(int(rate), samples)
    now = f"{conv.reply_id}:{time.monotonic():.3f}"
    return (PHASE_TEXT[r.phase] if r.phase_changed else gr.skip(),
            now if r.utterances else gr.skip(),
            stop_message(r.cut.reply_id) if r.cut is not None else gr.skip(),
            now if r.history_changed else gr.skip())


def show_chat(resources: str, conv: Conversation):
    """The chat as the history has it now (after a barge-in shortened the last reply)."""
    return chat_messages(conv.state, resources)


def barge_in(resources: str, conv: Conversation):
    """The person pressed Record while the mentor was thinking or talking: stop the reply.
    Returns (player message, chat)."""
    cut = conv.barge_in()
    if cut is None:
        return gr.skip(), gr.skip()
    return stop_message(cut.reply_id), chat_messages(conv.state, resources)


def set_hands_free(conv: Conversation, on: bool):
    """Switch between push-to-talk and hands-free: show the right microphone."""
    conv.set_listening(on)
    return gr.update(visible=not on), gr.update(visible=on), PHASE_TEXT["idle"] if on else ""


def new_conversation(conv: Conversation):
    """A fresh conversation: empty history, timeline and timings; a reply still playing stops."""
    cut = conv.clear()
    return outputs(whole_page(SessionState(), feed=stop_message(cut.reply_id) if cut is not None else KEEP))


def session_history(conv: Conversation) -> dict:
    return history_json(conv.state)


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
