"""The mentor's reply to one turn, streamed (``respond``, called by ``Pipeline`` once the
words and their emotion are known).

The words go through the crisis check first: crisis language gets the configured crisis
reply, not the small LLM. Otherwise the LLM's tokens are cut into sentences and clauses
(``SpeechChunker``); each piece passes the reply check (a piece that brings in someone or
something the conversation lacks, or a red-flag phrase, is left unsaid) and is
synthesised as soon as it completes, while the LLM goes on writing the next one. A stop
from outside (a barge-in) ends it: nothing more is spoken.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

import numpy as np

from claritymentor.chunking import SpeechChunker, ends_sentence
from claritymentor.constants import PIECE_GAP_S
from claritymentor.prompts import build_messages, clean_for_speech, conversation_text, topic_history
from claritymentor.sense import ReplyCheck
from claritymentor.types import (FusedEmotion, ReplyPiece, SpeechAudio, StageTimings, TurnDone, TurnEvent,
                                 TurnResult)

if TYPE_CHECKING:
    from claritymentor.pipeline import Pipeline, _Clock

logger = logging.getLogger(__name__)

EMPTY_REPLY_FALLBACK = "I'm here and listening. Could you tell me a little more about that?"


def _reply_deltas(p: Pipeline, user_text: str, emotion: FusedEmotion, history: Sequence[tuple[str, str]],
                  use_adapter: bool, stop: threading.Event,
                  after_crisis: bool = False) -> tuple[Iterator[str], str, tuple[str, ...]]:
    """(text deltas, voice emotion, crisis families) for the reply. After a crisis turn the
    LLM answers with the safety config's follow-up guidance, in the gentle voice."""
    crisis = p.safety.check(user_text)
    if crisis.crisis:
        logger.warning("crisis language detected (%s): answering with the configured crisis reply",
                       ", ".join(crisis.matches))
        return iter([p.cfg.safety.reply]), p.cfg.safety.voice_emotion, crisis.matches
    guidance = p.cfg.safety.followup_guidance if after_crisis else None
    if p.cfg.llm.topic_history:
        history = topic_history(history, user_text)
    messages = build_messages(p.cfg.prompts, emotion, history, user_text, p.cfg.llm.history_turns, guidance)
    voice = p.cfg.safety.voice_emotion if after_crisis else emotion.label
    return p.llm.stream(messages, use_adapter=use_adapter, stop=stop), voice, ()


def _speak(p: Pipeline, text: str, style, warnings: list[str]) -> SpeechAudio | None:
    try:
        return p.tts.synthesize(text, style)
    except Exception as e:  # non-fatal: the reply is still shown as text
        logger.exception("TTS stage failed")
        if not any(w.startswith("The reply could not be spoken") for w in warnings):
            warnings.append(f"The reply could not be spoken ({type(e).__name__}: {e}); it is shown as text.")
        return None


def respond(p: Pipeline, source: str, user_text: str, emotion: FusedEmotion, history: Sequence[tuple[str, str]],
            timings: StageTimings, warnings: list[str], clock: _Clock, use_adapter: bool,
            stop: threading.Event | None, after_crisis: bool = False) -> Iterator[TurnEvent]:
    """The reply's pieces as they are spoken, then the turn's result."""
    stop = stop or threading.Event()  # set from outside: the person spoke over the reply
    llm_stop = threading.Event()  # set here: the reply is long enough, or it was stopped
    max_words = p.cfg.llm.max_reply_words
    deltas, voice_emotion, crisis = _reply_deltas(p, user_text, emotion, history, use_adapter, llm_stop,
                                                  after_crisis)
    style = p.cfg.prompts.style(voice_emotion)
    chunker = SpeechChunker()
    spoken: list[str] = []
    audio: list[SpeechAudio] = []
    t_llm = time.perf_counter()
    # The reply check: a piece that brings in someone or something the conversation lacks
    # (a manager nobody mentioned, a number, a service) or a red-flag phrase is not said.
    # After a crisis turn, pointing to a person or a crisis line is what the guidance asks for.
    check = (ReplyCheck(conversation_text(history, user_text), red_flags_only=after_crisis)
             if p.cfg.llm.reply_check and not crisis else None)

    def speak(pieces: list[str], checked: bool = True) -> Iterator[ReplyPiece]:
        for raw in pieces:
            if stop.is_set():
                return
            text = clean_for_speech(raw)
            if not text:
                continue
            if checked and check is not None and not check.allows(text):
                logger.info("reply check: left unsaid %s", check.left_out[-1])
                continue
            t = time.perf_counter()
            sound = _speak(p, text, style, warnings)
            timings.tts += clock.since(t)
            if sound is not None:
                audio.append(sound)
                clock.mark("first_audio")
            spoken.append(text)
            yield ReplyPiece(len(spoken) - 1, text, sound, " ".join(spoken))

    capped = False
    for delta in deltas:
        clock.mark("first_token")
        if stop.is_set():
            break  # stopped from outside (barge-in): nothing more is spoken
        yield from speak(chunker.feed(delta))
        if len(" ".join(spoken).split()) >= max_words:
            capped = True  # long enough: stop the LLM rather than cut the speech later
            break
    llm_stop.set()
    close = getattr(deltas, "close", None)
    if close is not None:
        close()  # ends the LLM's generation thread now, not when the generator is collected
    interrupted = stop.is_set()
    rest = [] if capped or interrupted else chunker.flush()
    if spoken and rest and not ends_sentence(rest[-1]):
        rest = []  # generation hit its token limit mid-sentence: do not speak the fragment
    yield from speak(rest)
    timings.llm = clock.since(t_llm) - timings.tts
    clock.mark("reply_done")

    reply = " ".join(spoken)
    checked_out = tuple(check.left_out) if check is not None else ()
    if not reply and not interrupted:
        if checked_out:
            logger.warning("the reply check left the whole reply unsaid: a fallback sentence was used")
        else:
            logger.warning("the LLM returned an empty reply")
            warnings.append("The language model returned an empty reply; a fallback sentence was used.")
        yield from speak([EMPTY_REPLY_FALLBACK], checked=False)
        reply = EMPTY_REPLY_FALLBACK
    timings.total = clock.since(clock.started)
    yield TurnDone(TurnResult(source=source, user_text=user_text, reply_text=reply, emotion=emotion,
                              reply_audio=join_pieces(audio), timings=timings, warnings=tuple(warnings),
                              crisis=crisis, marks=dict(clock.marks), interrupted=interrupted,
                              checked_out=checked_out))


def join_pieces(pieces: list[SpeechAudio]) -> SpeechAudio | None:
    """The pieces as one clip, with a short pause between them."""
    if not pieces:
        return None
    rate = pieces[0].sample_rate
    gap = np.zeros(int(PIECE_GAP_S * rate), np.int16)
    parts = []
    for p in pieces:
        parts.extend([p.samples, gap])
    return SpeechAudio(np.concatenate(parts[:-1]), rate)
