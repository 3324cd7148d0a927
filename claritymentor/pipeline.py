"""One conversational turn through the stages: VAD -> STT -> emotion (text + prosody,
fused) -> LLM -> TTS. The stages are passed in; nothing is loaded here.

The reply streams: LLM tokens are cut into sentences and clauses (``SpeechChunker``) and
each piece is synthesised as soon as it completes, while the LLM goes on writing the
next one, so the first audio is ready long before the reply is finished. The
``*_stream`` methods yield ``Heard``, ``ReplyPiece`` ... and a final ``TurnDone``;
``voice_turn`` / ``text_turn`` consume the same stream and return the ``TurnResult``.

When the words contain self-harm or suicidal language (``safety.CrisisDetector``), the
reply is not left to the small LLM: the configured crisis reply is spoken instead.

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

import numpy as np

from claritymentor.chunking import SpeechChunker, ends_sentence
from claritymentor.config import AppConfig
from claritymentor.constants import MAX_TEXT_CHARS, PIECE_GAP_S
from claritymentor.errors import UserInputError
from claritymentor.fusion import fuse
from claritymentor.llm import MentorLLM
from claritymentor.prompts import build_messages, clean_for_speech, conversation_prefix, conversation_text
from claritymentor.prosody import SpeechEmotionModel
from claritymentor.safety import CrisisDetector
from claritymentor.sense import ReplyCheck
from claritymentor.stt import SpeechToText
from claritymentor.text_emotion import TextEmotionModel
from claritymentor.tts import TextToSpeech
from claritymentor.types import (AudioClip, FusedEmotion, Heard, ProsodyReading, ReplyPiece, SpeechAudio,
                                 StageTimings, TurnDone, TurnResult)
from claritymentor.vad import VoiceActivityDetector, trim_to_speech

logger = logging.getLogger(__name__)

EMPTY_REPLY_FALLBACK = "I'm here and listening. Could you tell me a little more about that?"
TurnEvent = Heard | ReplyPiece | TurnDone


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
        yield from self._respond("voice", transcript.text, emotion, history, timings, warnings, clock,
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
        yield from self._respond("text", text, emotion, history, timings, [], clock, use_adapter, stop, after_crisis)

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

    def _reply_deltas(self, user_text: str, emotion: FusedEmotion, history: Sequence[tuple[str, str]],
                      use_adapter: bool, stop: threading.Event,
                      after_crisis: bool = False) -> tuple[Iterator[str], str, tuple[str, ...]]:
        """(text deltas, voice emotion, crisis families) for the reply. After a crisis turn the
        LLM answers with the safety config's follow-up guidance, in the gentle voice."""
        crisis = self.safety.check(user_text)
        if crisis.crisis:
            logger.warning("crisis language detected (%s): answering with the configured crisis reply",
                           ", ".join(crisis.matches))
            return iter([self.cfg.safety.reply]), self.cfg.safety.voice_emotion, crisis.matches
        guidance = self.cfg.safety.followup_guidance if after_crisis else None
        messages = build_messages(self.cfg.prompts, emotion, history, user_text, self.cfg.llm.history_turns, guidance)
        voice = self.cfg.safety.voice_emotion if after_crisis else emotion.label
        return self.llm.stream(messages, use_adapter=use_adapter, stop=stop), voice, ()

    def prefill_conversation(self, history: Sequence[tuple[str, str]], use_adapter: bool) -> threading.Thread | None:
        """Start prefilling, in the background, the persona + ``history`` that the next turn's
        prompt begins with (``Conversation`` calls it after each change of its history: a
        reply recorded while it plays, a reply cut while the person speaks): that turn then
        prefills only the emotion's guidance and its own words. A turn that starts meanwhile
        takes the LLM first (``prefill`` gives way between steps). Returns the thread."""
        if not self.cfg.llm.prefill_next_turn:
            return None
        messages = conversation_prefix(self.cfg.prompts, history, self.cfg.llm.history_turns)

        def work() -> None:
            try:
                self.llm.prefill(messages, use_adapter=use_adapter)
            except Exception:  # only a lost speed-up: the next turn prefills it all
                logger.exception("prefilling the next turn failed")

        thread = threading.Thread(target=work, name="llm-prefill", daemon=True)
        thread.start()
        return thread

    def _speak(self, text: str, style, warnings: list[str]) -> SpeechAudio | None:
        try:
            return self.tts.synthesize(text, style)
        except Exception as e:  # non-fatal: the reply is still shown as text
            logger.exception("TTS stage failed")
            if not any(w.startswith("The reply could not be spoken") for w in warnings):
                warnings.append(f"The reply could not be spoken ({type(e).__name__}: {e}); it is shown as text.")
            return None

    def _respond(self, source: str, user_text: str, emotion: FusedEmotion, history: Sequence[tuple[str, str]],
                 timings: StageTimings, warnings: list[str], clock: _Clock, use_adapter: bool,
                 stop: threading.Event | None, after_crisis: bool = False) -> Iterator[TurnEvent]:
        stop = stop or threading.Event()  # set from outside: the person spoke over the reply
        llm_stop = threading.Event()  # set here: the reply is long enough, or it was stopped
        max_words = self.cfg.llm.max_reply_words
        deltas, voice_emotion, crisis = self._reply_deltas(user_text, emotion, history, use_adapter, llm_stop,
                                                           after_crisis)
        style = self.cfg.prompts.style(voice_emotion)
        chunker = SpeechChunker()
        spoken: list[str] = []
        audio: list[SpeechAudio] = []
        t_llm = time.perf_counter()
        # The reply check: a piece that brings in someone or something the conversation lacks
        # (a manager nobody mentioned, a number, a service) or a red-flag phrase is not said.
        # After a crisis turn, pointing to a person or a crisis line is what the guidance asks for.
        check = (ReplyCheck(conversation_text(history, user_text), red_flags_only=after_crisis)
                 if self.cfg.llm.reply_check and not crisis else None)

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
                sound = self._speak(text, style, warnings)
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
                                  reply_audio=_join(audio), timings=timings, warnings=tuple(warnings),
                                  crisis=crisis, marks=dict(clock.marks), interrupted=interrupted,
                                  checked_out=checked_out))


def _join(pieces: list[SpeechAudio]) -> SpeechAudio | None:
    """The pieces as one clip, with a short pause between them."""
    if not pieces:
        return None
    rate = pieces[0].sample_rate
    gap = np.zeros(int(PIECE_GAP_S * rate), np.int16)
    parts = []
    for p in pieces:
        parts.extend([p.samples, gap])
    return SpeechAudio(np.concatenate(parts[:-1]), rate)


def _result(events: Iterator[TurnEvent]) -> TurnResult:
    for event in events:
        if isinstance(event, TurnDone):
            return event.result
    raise RuntimeError("turn stream ended without a result")
