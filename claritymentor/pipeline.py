"""One conversational turn through the stages: VAD -> STT -> emotion (text + prosody,
fused) -> LLM -> TTS. The stages are passed in; nothing is loaded here.

When the words contain self-harm or suicidal language (``safety.check_crisis``), the
reply is not left to the small LLM: the configured crisis reply is spoken instead.

Input problems the person can fix raise ``UserInputError``. A non-essential stage that
fails (prosody, TTS) is logged and reported in ``TurnResult.warnings``; the turn still
completes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

from claritymentor.config import AppConfig
from claritymentor.errors import UserInputError
from claritymentor.fusion import fuse
from claritymentor.llm import MentorLLM
from claritymentor.prompts import build_messages, shape_for_speech
from claritymentor.prosody import SpeechEmotionModel
from claritymentor.safety import check_crisis
from claritymentor.stt import SpeechToText
from claritymentor.text_emotion import TextEmotionModel
from claritymentor.tts import TextToSpeech
from claritymentor.types import AudioClip, FusedEmotion, ProsodyReading, StageTimings, TurnResult
from claritymentor.vad import VoiceActivityDetector, trim_to_speech

logger = logging.getLogger(__name__)

MAX_TEXT_CHARS = 2000
EMPTY_REPLY_FALLBACK = "I'm here and listening. Could you tell me a little more about that?"


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

    def voice_turn(self, clip: AudioClip, history: Sequence[tuple[str, str]],
                   use_adapter: bool = True) -> TurnResult:
        """A turn from a checked audio clip (see ``audio.prepare_audio``)."""
        t0 = time.perf_counter()
        timings = StageTimings()
        warnings = list(clip.warnings)

        vad = trim_to_speech(self.vad, clip)
        timings.vad = time.perf_counter() - t0
        if not vad.segments:
            raise UserInputError("No speech was detected in the recording. Please speak clearly and try again.")
        if vad.speech_s < self.cfg.audio.min_speech_s:
            raise UserInputError(
                f"Only {vad.speech_s:.2f} s of speech was detected: too short to answer. Please say a full sentence."
            )

        t = time.perf_counter()
        transcript = self.stt.transcribe(vad.speech)
        timings.stt = time.perf_counter() - t
        if not transcript.text.strip():
            raise UserInputError("No words could be made out. Please speak a little closer to the microphone.")

        t = time.perf_counter()
        text_reading = self.text_emotion.classify(transcript.text)
        prosody = self._read_prosody(vad.speech, transcript.text, vad.speech_s, warnings)
        emotion = fuse(text_reading, prosody, self.cfg.fusion)
        timings.emotion = time.perf_counter() - t
        return self._respond("voice", transcript.text, emotion, history, timings, warnings, t0, use_adapter)

    def text_turn(self, text: str, history: Sequence[tuple[str, str]], use_adapter: bool = True) -> TurnResult:
        """A typed turn: the words alone decide the emotion."""
        t0 = time.perf_counter()
        text = (text or "").strip()
        if not text:
            raise UserInputError("The message is empty. Type something to the mentor first.")
        if len(text) > MAX_TEXT_CHARS:
            raise UserInputError(f"The message is {len(text)} characters; please keep it under {MAX_TEXT_CHARS}.")
        timings = StageTimings()
        emotion = fuse(self.text_emotion.classify(text), None, self.cfg.fusion)
        timings.emotion = time.perf_counter() - t0
        return self._respond("text", text, emotion, history, timings, [], t0, use_adapter)

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

    def _respond(self, source: str, user_text: str, emotion: FusedEmotion,
                 history: Sequence[tuple[str, str]], timings: StageTimings, warnings: list[str],
                 t0: float, use_adapter: bool) -> TurnResult:
        llm_cfg = self.cfg.llm
        style = self.cfg.prompts.style(emotion.label)
        crisis = check_crisis(user_text)
        t = time.perf_counter()
        if crisis.crisis:
            logger.warning("crisis language detected (%s): answering with the configured crisis reply",
                           ", ".join(crisis.matches))
            reply = self.cfg.safety.reply
            style = self.cfg.prompts.style(self.cfg.safety.voice_emotion)
        else:
            messages = build_messages(self.cfg.prompts, emotion, history, user_text, llm_cfg.history_turns)
            reply = shape_for_speech(self.llm.generate(messages, use_adapter=use_adapter), llm_cfg.max_reply_words)
        timings.llm = time.perf_counter() - t
        if not reply:
            logger.warning("the LLM returned an empty reply")
            warnings.append("The language model returned an empty reply; a fallback sentence was used.")
            reply = EMPTY_REPLY_FALLBACK

        t = time.perf_counter()
        audio = None
        try:
            audio = self.tts.synthesize(reply, style)
        except Exception as e:  # non-fatal: the reply is still shown as text
            logger.exception("TTS stage failed")
            warnings.append(f"The reply could not be spoken ({type(e).__name__}: {e}); it is shown as text.")
        timings.tts = time.perf_counter() - t
        timings.total = time.perf_counter() - t0
        return TurnResult(source=source, user_text=user_text, reply_text=reply, emotion=emotion,
                          reply_audio=audio, timings=timings, warnings=tuple(warnings), crisis=crisis.matches)
