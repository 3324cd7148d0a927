"""One conversational turn through the stages: VAD -> STT -> emotion (text + prosody,
fused) -> LLM -> TTS. The stages are passed in; nothing is loaded here.

This module hears the turn (speech -> words -> emotion); ``reply.respond`` answers it.
The reply streams: each piece is synthesised as soon as the LLM has written it, so the
first audio is ready long before the reply is finished. The ``*_stream`` methods yield
``Heard``, ``ReplyPiece`` ... and a final ``TurnDone``; ``voice_turn`` / ``text_turn``
consume the same stream and return the ``TurnResult``.

Input problems the person can fix raise ``UserInputError``. A non-essential stage that
fails (prosody, TTS) is logged and reported in ``TurnResult.warnings``; the turn still
completes.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from claritymentor.config import AppConfig
from claritymentor.constants import MAX_TEXT_CHARS
from claritymentor.errors import UserInputError
from claritymentor.fusion import fuse
from claritymentor.llm import MentorLLM
from claritymentor.prompts import conversation_prefix, current_topic
from claritymentor.prosody import SpeechEmotionModel
from claritymentor.safety import CrisisDetector
from claritymentor.reply import EMPTY_REPLY_FALLBACK, respond  # noqa: F401  (the fallback is re-exported)
from claritymentor.stt import SpeechToText
from claritymentor.text_emotion import TextEmotionModel
from claritymentor.tts import TextToSpeech
from claritymentor.types import (AudioClip, Heard, ProsodyReading, StageTimings, TurnDone,  # noqa: F401
                                 TurnEvent, TurnResult)
from claritymentor.vad import VoiceActivityDetector, trim_to_speech

logger = logging.getLogger(__name__)



class _Clock:
    """Milliseconds since the turn started (the end of the person's speech)."""

    def __init__(self, t0: float | None = None):
        now = time.perf_counter()
        self.started = now  # when the turn's work started (stage totals count from here)
        self.t0 = min(t0, now) if t0 is not None else now  # the end of speech (marks count from here)
        self.marks: dict[str, int] = {}

    def since(self, t: float) -> float:
        return time.perf_counter() - t

    def mark(self, name: str) -> None:
        self.marks.setdefault(name, int(round((time.perf_counter() - self.t0) * 1000)))


@dataclass
class Pipeline:
    """The composed stages and the config they run under."""

    cfg: AppConfig
    vad: VoiceActivityDetector
    stt: SpeechToText
    text_emotion: TextEmotionModel
    prosody: SpeechEmotionModel | None
    llm: MentorLLM
    tts: TextToSpeech
    safety: CrisisDetector = dataclasses.field(default_factory=CrisisDetector)  # phrase layer only by default

    # -- whole turns -------------------------------------------------------------------
    def voice_turn(self, clip: AudioClip, history: Sequence[tuple[str, str]],
                   use_adapter: bool = True, after_crisis: bool = False) -> TurnResult:
        """A turn from a checked audio clip (see ``audio.prepare_audio``)."""
        return _result(self.voice_turn_stream(clip, history, use_adapter, after_crisis=after_crisis))

    def text_turn(self, text: str, history: Sequence[tuple[str, str]], use_adapter: bool = True,
                  after_crisis: bool = False) -> TurnResult:
        """A typed turn: the words alone decide the emotion."""
        return _result(self.text_turn_stream(text, history, use_adapter, after_crisis=after_crisis))

    # -- streamed turns ----------------------------------------------------------------
    def voice_turn_stream(self, clip: AudioClip, history: Sequence[tuple[str, str]], use_adapter: bool = True,
                          stop: threading.Event | None = None,
                          speech_end: float | None = None, after_crisis: bool = False) -> Iterator[TurnEvent]:
        """Events of a spoken turn; input errors are raised before the first event.
        ``after_crisis``: an earlier turn of the session was a crisis turn (see ``_respond``).

        ``speech_end`` (a ``time.perf_counter`` value) is when the person stopped speaking,
        if that was before now (hands-free: the end-of-turn silence); the marks count from
        it, and ``turn_start`` says how long after it the turn started."""
        clock = _Clock(speech_end)
        timings = StageTimings()
        warnings = list(clip.warnings)
        if speech_end is not None:
            clock.mark("turn_start")

        t = time.perf_counter()
        vad = trim_to_speech(self.vad, clip)
        timings.vad = clock.since(t)
        if not vad.segments:
            raise UserInputError("No speech was detected in the recording. Please speak clearly and try again.")
        if vad.speech_s < self.cfg.audio.min_speech_s:
            raise UserInputError(
                f"Only {vad.speech_s:.2f} s of speech was detected: too short to answer. Please say a full sentence."
            )

        t = time.perf_counter()
        transcript = self.stt.transcribe(vad.speech)
        timings.stt = clock.since(t)
        clock.mark("stt_done")
        if not transcript.text.strip():
            raise UserInputError("No words could be made out. Please speak a little closer to the microphone.")

        t = time.perf_counter()
        text_reading = self.text_emotion.classify(transcript.text)
        prosody = self._read_prosody(vad.speech, transcript.text, vad.speech_s, warnings)
        emotion = fuse(text_reading, prosody, self.cfg.fusion)
        timings.emotion = clock.since(t)
        clock.mark("emotion_done")
        yield Heard(transcript.text, emotion)
        yield from respond(self, "voice", transcript.text, emotion, history, timings, warnings, clock,
                                 use_adapter, stop, after_crisis)

    def text_turn_stream(self, text: str, history: Sequence[tuple[str, str]], use_adapter: bool = True,
                         stop: threading.Event | None = None, after_crisis: bool = False) -> Iterator[TurnEvent]:
        clock = _Clock()
        text = (text or "").strip()
        if not text:
            raise UserInputError("The message is empty. Type something to the mentor first.")
        if len(text) > MAX_TEXT_CHARS:
            raise UserInputError(f"The message is {len(text)} characters; please keep it under {MAX_TEXT_CHARS}.")
        timings = StageTimings()
        emotion = fuse(self.text_emotion.classify(text), None, self.cfg.fusion)
        timings.emotion = clock.since(clock.t0)
        clock.mark("emotion_done")
        yield Heard(text, emotion)
        yield from respond(self, "text", text, emotion, history, timings, [], clock, use_adapter, stop, after_crisis)

    # -- stages ------------------------------------------------------------------------
    def _read_prosody(self, speech: AudioClip, text: str, speech_s: float,
                      warnings: list[str]) -> ProsodyReading | None:
        if self.prosody is None:
            return None
        try:
            return self.prosody.read(speech, len(text.split()), speech_s)
        except Exception as e:  # non-fatal: the words still carry the emotion
            logger.exception("speech-emotion stage failed")
            warnings.append(f"Speech emotion could not be read ({type(e).__name__}); using the words only.")
            return None

    def prefill_conversation(self, history: Sequence[tuple[str, str]], use_adapter: bool) -> threading.Thread | None:
        """Start prefilling, in the background, the persona + ``history`` that the next turn's
        prompt begins with (``Conversation`` calls it after each change of its history: a
        reply recorded while it plays, a reply cut while the person speaks): that turn then
        prefills only the emotion's guidance and its own words. A turn that starts meanwhile
        takes the LLM first (``prefill`` gives way between steps). Returns the thread."""
        if not self.cfg.llm.prefill_next_turn:
            return None
        if self.cfg.llm.topic_history:
            history = current_topic(history)
        messages = conversation_prefix(self.cfg.prompts, history, self.cfg.llm.history_turns)

        def work() -> None:
            try:
                self.llm.prefill(messages, use_adapter=use_adapter)
            except Exception:  # only a lost speed-up: the next turn prefills it all
                logger.exception("prefilling the next turn failed")

        thread = threading.Thread(target=work, name="llm-prefill", daemon=True)
        thread.start()
        return thread

def _result(events: Iterator[TurnEvent]) -> TurnResult:
    for event in events:
        if isinstance(event, TurnDone):
            return event.result
    raise RuntimeError("turn stream ended without a result")
