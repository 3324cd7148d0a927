"""The pipeline composed from scripted fakes: order, errors, non-fatal stage failures."""

import numpy as np
import pytest

from claritymentor.errors import UserInputError
from claritymentor.pipeline import EMPTY_REPLY_FALLBACK
from claritymentor.types import AudioClip
from tests.fakes import FakeLLM, FakeProsody, FakeSTT, FakeTextEmotion, FakeTTS, FakeVAD
from tests.fakes import make_pipeline as make


CLIP = AudioClip(np.full(16000, 0.1, np.float32), 16000)


def test_voice_turn_runs_every_stage(config):
    import time

    p = make(config)
    started = time.perf_counter()
    r = p.voice_turn(CLIP, [("earlier", "reply")])
    wall = time.perf_counter() - started
    assert r.user_text == "I feel nervous about tomorrow"
    assert r.emotion.label == "fear" and r.emotion.rule == "agreement"
    assert r.reply_text == FakeLLM().reply and r.reply_audio is not None
    msgs = p.llm.seen[0]
    assert msgs == [{"role": "system", "content": config.prompts.persona},
                    {"role": "user", "content": "earlier"}, {"role": "assistant", "content": "reply"},
                    {"role": "system", "content": config.prompts.style("fear").guidance},
                    {"role": "user", "content": "I feel nervous about tomorrow"}]
    assert p.tts.styles and all(s == config.prompts.style("fear") for s in p.tts.styles)
    t = r.timings
    assert all(v > 0 for v in (t.vad, t.stt, t.emotion, t.llm, t.tts))  # every stage was timed
    assert t.vad + t.stt + t.emotion + t.llm + t.tts <= t.total <= wall  # parts of the turn, within its wall time


def test_no_speech_stops_before_stt(config):
    p = make(config, vad=FakeVAD(segments=()))
    with pytest.raises(UserInputError, match="No speech was detected"):
        p.voice_turn(CLIP, [])
    assert p.stt.calls == 0


def test_speech_too_short(config):
    with pytest.raises(UserInputError, match="too short"):
        make(config, vad=FakeVAD(segments=((0.1, 0.2),))).voice_turn(CLIP, [])


def test_no_words(config):
    with pytest.raises(UserInputError, match="No words could be made out"):
        make(config, stt=FakeSTT(" ")).voice_turn(CLIP, [])


def test_prosody_failure_is_a_warning_and_the_turn_completes(config):
    r = make(config, prosody=FakeProsody(fail=True)).voice_turn(CLIP, [])
    assert r.emotion.prosody is None and r.emotion.rule == "text_only"
    assert any("Speech emotion could not be read (RuntimeError)" in w for w in r.warnings)


def test_tts_failure_is_a_warning_and_the_reply_is_kept(config):
    r = make(config, tts=FakeTTS(fail=True)).text_turn("hello there", [])
    assert r.reply_audio is None and r.reply_text
    assert any("could not be spoken" in w for w in r.warnings)


def test_empty_llm_reply_is_flagged_not_silent(config):
    r = make(config, llm=FakeLLM(reply="")).text_turn("hello", [])
    assert r.reply_text == EMPTY_REPLY_FALLBACK
    assert any("empty reply" in w for w in r.warnings)


@pytest.mark.parametrize("text", ["", "   ", None])
def test_empty_text_turn(config, text):
    with pytest.raises(UserInputError, match="empty"):
        make(config).text_turn(text, [])


def test_text_turn_uses_words_only(config):
    r = make(config).text_turn("I am nervous", [])
    assert r.source == "text" and r.emotion.rule == "text_only" and r.timings.stt == 0.0


def test_reply_streams_in_pieces_with_audio_and_latency_marks(config):
    from claritymentor.types import Heard, ReplyPiece, TurnDone

    reply = "That sounds like a lot, and it makes sense to feel tense. Try one small step tonight. What is it?"
    p = make(config, llm=FakeLLM(reply=reply))
    events = list(p.voice_turn_stream(CLIP, []))
    assert isinstance(events[0], Heard) and isinstance(events[-1], TurnDone)
    pieces = [e for e in events if isinstance(e, ReplyPiece)]
    assert [e.index for e in pieces] == list(range(len(pieces))) and len(pieces) >= 3
    assert pieces[0].text == "That sounds like a lot,"  # the first piece is an early clause
    assert all(e.audio is not None for e in pieces)
    result = events[-1].result
    assert result.reply_text == reply
    m = result.marks
    assert m["stt_done"] <= m["emotion_done"] <= m["first_token"] <= m["first_audio"] <= m["reply_done"]
    assert result.reply_audio.duration_s > 0.1 * len(pieces)  # the pieces, joined


def test_markdown_and_emoji_never_reach_the_voice(config):
    p = make(config, llm=FakeLLM(reply="**Breathe.** 😊\n- First, list it\n2. Then *rest* tonight.\n"))
    r = p.text_turn("help", [])
    spoken = [s for s in p.tts.styles]
    assert r.reply_text == "Breathe. First, list it Then rest tonight."
    assert not any(c in r.reply_text for c in "*#-😊") and len(spoken) == 3


def test_long_reply_is_capped_and_the_llm_is_stopped(config):
    llm = FakeLLM(reply=" ".join("Keep going with the plan." for _ in range(60)))
    r = make(config, llm=llm).text_turn("hello", [])
    assert config.llm.max_reply_words <= len(r.reply_text.split()) < config.llm.max_reply_words + 8
    assert llm.stop.is_set()


def test_unfinished_last_sentence_is_not_spoken(config):
    r = make(config, llm=FakeLLM(reply="Rest tonight. Then plan the week and")).text_turn("hello", [])
    assert r.reply_text == "Rest tonight."


def test_stop_from_outside_ends_the_reply_without_a_fallback(config):
    """Barge-in: once the stop flag is set, no further piece is synthesised or yielded,
    the LLM is told to stop, and the result is marked interrupted (no fallback sentence)."""
    import threading

    from claritymentor.types import ReplyPiece, TurnDone

    stop = threading.Event()
    llm = FakeLLM(reply="That sounds hard. Try one small step tonight. Then rest. What would help?")
    p = make(config, llm=llm)
    pieces, done = [], None
    for event in p.text_turn_stream("I am tired", [], stop=stop):
        if isinstance(event, ReplyPiece):
            pieces.append(event)
            stop.set()  # the person speaks over the first piece
        elif isinstance(event, TurnDone):
            done = event.result
    assert [e.text for e in pieces] == ["That sounds hard."]
    assert done.interrupted and done.reply_text == "That sounds hard." and llm.stop.is_set()
    assert len(p.tts.styles) == 1  # nothing synthesised after the stop
    assert not llm.prefilled  # the pipeline never prefills by itself (the conversation does)

    stop = threading.Event()
    stop.set()  # stopped before anything was said
    r = [e for e in p.text_turn_stream("hello", [], stop=stop) if isinstance(e, TurnDone)][0].result
    assert r.interrupted and r.reply_text == "" and not r.warnings


def test_a_complete_reply_is_not_marked_interrupted(config):
    r = make(config).text_turn("hello", [])
    assert not r.interrupted and r.reply_text


def test_marks_count_from_the_end_of_speech_when_it_was_earlier(config):
    import time

    from claritymentor.types import TurnDone

    events = make(config).voice_turn_stream(CLIP, [], speech_end=time.perf_counter() - 0.6)
    r = [e for e in events if isinstance(e, TurnDone)][0].result
    assert 600 <= r.marks["turn_start"] < 700  # the end-of-turn silence it waited for
    assert r.marks["turn_start"] <= r.marks["stt_done"] <= r.marks["first_audio"]
    assert r.timings.total < r.marks["reply_done"] / 1000  # stage totals exclude the wait


def _with_llm_reply(config, reply, emotion="anger"):
    return make(config, text_emotion=FakeTextEmotion(emotion, 0.8), prosody=None, llm=FakeLLM(reply))


def test_reply_check_leaves_unsaid_a_piece_that_invents_someone(config):
    """Regression: the adapter told a person angry at their flatmate to call their manager."""
    p = _with_llm_reply(config, "Tonight, tell your flatmate the food is yours. Then call your manager three times. "
                                "How did they react before?")
    r = p.text_turn("My flatmate keeps eating my food and I'm furious.", [])
    assert "manager" not in r.reply_text and "flatmate the food is yours" in r.reply_text
    assert r.reply_text.endswith("How did they react before?")
    assert len(r.checked_out) == 1 and "invented: manager" in r.checked_out[0]


def test_reply_check_falls_back_when_nothing_is_left(config):
    p = _with_llm_reply(config, "Call your manager and say goodbye.")
    r = p.text_turn("My flatmate keeps eating my food.", [])
    assert r.reply_text == EMPTY_REPLY_FALLBACK and r.checked_out and not r.warnings


def test_reply_check_can_be_switched_off(config):
    import dataclasses

    cfg = dataclasses.replace(config, llm=dataclasses.replace(config.llm, reply_check=False))
    p = make(cfg, text_emotion=FakeTextEmotion("anger", 0.8), prosody=None, llm=FakeLLM("Call your manager."))
    assert p.text_turn("My flatmate keeps eating my food.", []).reply_text == "Call your manager."


def test_reply_check_drops_the_rest_of_a_sentence_whose_clause_it_cut(config):
    """Regression: cutting one clause left a dangling "and try ..." fragment in the reply."""
    p = _with_llm_reply(config, "Being stuck is hard, so ask your manager for help, and then try a short break. "
                                "What would help tonight?", "sadness")
    r = p.text_turn("I can't concentrate on my coursework.", [])
    assert "manager" not in r.reply_text and "and then try" not in r.reply_text
    assert r.reply_text.endswith("What would help tonight?")
