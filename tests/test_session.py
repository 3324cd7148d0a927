import copy

from claritymentor.config import EMOTIONS, FusionConfig
from claritymentor.fusion import fuse
from claritymentor.session import (AROUSAL_SERIES, MAX_TURNS, SessionState, add_turn, chat_messages, history_json,
                                   timeline_frame, timeline_summary, timings_frame)
from claritymentor.types import ProsodyReading, StageTimings, TextEmotion, TurnResult
from tests.fakes import scores


def result(text="hello", label="joy", voice=True):
    prosody = ProsodyReading(0.4, None, 0.7, {"words_per_s": 3.0}) if voice else None
    e = fuse(TextEmotion(scores(label, 0.7), "t"), prosody, FusionConfig())
    return TurnResult("voice" if voice else "text", text, "reply to " + text, e, None, StageTimings(llm=0.5, total=0.6))


def test_add_turn_returns_a_new_state_and_leaves_the_old_one_alone():
    s0 = SessionState()
    s1 = add_turn(s0, result("a"), "m")
    s2 = add_turn(s1, result("b"), "m")
    assert s0.turns == [] and len(s1.turns) == 1 and len(s2.turns) == 2
    assert [t.index for t in s2.turns] == [1, 2]
    assert s2.history_pairs() == [("a", "reply to a"), ("b", "reply to b")]
    assert copy.deepcopy(s2) == s2


def test_chat_shows_each_user_turn_with_its_emotion():
    s = add_turn(add_turn(SessionState(), result("voice one", "fear"), "m"), result("typed", "joy", voice=False), "m")
    msgs = chat_messages(s)
    assert [m["role"] for m in msgs] == ["user", "assistant"] * 2
    assert "perceived: **fear**" in msgs[0]["content"] and "voice: agitated" in msgs[0]["content"]
    assert "voice:" not in msgs[2]["content"]


def test_timeline_has_every_emotion_per_turn_and_voice_arousal_for_voice_turns():
    s = add_turn(add_turn(SessionState(), result(), "m"), result(voice=False), "m")
    df = timeline_frame(s)
    assert set(df["series"]) == set(EMOTIONS) | {AROUSAL_SERIES}
    assert len(df[df.turn == 1]) == len(EMOTIONS) + 1 and len(df[df.turn == 2]) == len(EMOTIONS)
    assert df["score"].between(0, 1).all()


def test_timings_table_and_history_json():
    s = add_turn(SessionState(), result(), "m")
    assert timings_frame(s).iloc[0]["llm"] == 500
    assert "1: **joy**" in timeline_summary(s)
    h = history_json(s)
    assert h["session_id"] == s.session_id and h["turns"][0]["user_text"] == "hello"


def test_history_is_bounded():
    s = SessionState()
    r = result()
    for _ in range(MAX_TURNS + 5):
        s = add_turn(s, r, "m")
    assert len(s.turns) == MAX_TURNS and s.turns[-1].index == MAX_TURNS + 5


def test_empty_state_gives_empty_views():
    s = SessionState()
    assert chat_messages(s) == [] and timeline_frame(s).empty and timings_frame(s).empty
