import copy

from claritymentor.session import (AROUSAL_SERIES, MAX_TURNS, SERIES_PERCEIVED, SERIES_WORDS, SessionState, add_turn,
                                   chat_messages, history_json, session_summary, timeline_frame, timeline_summary,
                                   timings_frame)
from claritymentor.config import FusionConfig
from claritymentor.fusion import fuse
from claritymentor.types import ProsodyReading, StageTimings, TextEmotion, TurnResult
from tests.fakes import scores
from tests.fakes import turn_result as result


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


def test_timeline_shows_fused_and_both_channels_distinguishably():
    s = add_turn(add_turn(SessionState(), result(label="fear"), "m"), result(label="joy", voice=False), "m")
    df = timeline_frame(s)
    t1, t2 = df[df.turn == "1"], df[df.turn == "2"]
    assert set(t1.series) == {SERIES_PERCEIVED, SERIES_WORDS, AROUSAL_SERIES}
    assert set(t2.series) == {SERIES_PERCEIVED, SERIES_WORDS}  # typed turn: no voice
    assert t1[t1.series == SERIES_WORDS].label.item() == "fear"
    assert abs(t1[t1.series == SERIES_WORDS].score.item() - 0.95) < 1e-6  # 1 - neutral score 0.05
    assert t1[t1.series == AROUSAL_SERIES].score.item() == 0.7  # arousal 0.4 on the 0..1 scale


def test_timeline_turn_labels_sort_in_turn_order():
    s = SessionState()
    for _ in range(12):
        s = add_turn(s, result(voice=False), "m")
    turns = list(dict.fromkeys(timeline_frame(s).turn))
    assert turns == sorted(turns) and turns[0] == "01" and turns[-1] == "12"


def test_neutral_turn_has_zero_perceived_intensity():
    df = timeline_frame(add_turn(SessionState(), result(label="neutral", voice=False), "m"))
    assert df[df.series == SERIES_PERCEIVED].score.item() == 0.0
    assert df["score"].between(0, 1).all()


def _session(labels_and_arousal):
    s = SessionState()
    for label, arousal in labels_and_arousal:
        prosody = ProsodyReading(arousal, None, 0.8, {})
        e = fuse(TextEmotion(scores(label, 0.8), "t"), prosody, FusionConfig())
        s = add_turn(s, TurnResult("voice", "x", "y", e, None, StageTimings()), "m")
    return s


def test_summary_names_the_dominant_mood_and_a_calming_trend():
    s = _session([("fear", 0.8), ("fear", 0.7), ("fear", 0.6), ("neutral", -0.5), ("neutral", -0.6),
                  ("neutral", -0.7)])
    assert session_summary(s) == "mostly anxious (fear in 3 of 6 turns); calmer over the last three turns."


def test_summary_sees_a_rising_trend_and_mixed_moods():
    s = _session([("neutral", -0.5), ("joy", -0.4), ("anger", 0.8), ("anger", 0.8), ("fear", 0.9)])
    assert session_summary(s).startswith("mixed: frustrated (2)")
    assert session_summary(s).endswith("more stirred up over the last three turns.")


def test_summary_without_a_trend_for_short_sessions():
    assert session_summary(_session([("sadness", -0.6)])) == "mostly low (sadness in 1 of 1 turns)."
    assert "No turns yet" in session_summary(SessionState())


def test_timings_table_and_history_json():
    s = add_turn(SessionState(), result(), "m")
    assert timings_frame(s).iloc[0]["llm"] == 500
    assert "1: **joy**" in timeline_summary(s) and "**Session:** mostly upbeat" in timeline_summary(s)
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


def test_crisis_resources_stay_on_the_page_for_the_rest_of_the_session(config):
    """After a crisis turn, an ordinary later turn still shows the resources banner."""
    from claritymentor.page import whole_page
    from tests.fakes import FakeTextEmotion, make_pipeline

    p = make_pipeline(config, text_emotion=FakeTextEmotion("sadness", 0.8), prosody=None)
    state = add_turn(SessionState(), p.text_turn("I don't want to wake up tomorrow.", []), "m")
    assert state.had_crisis()
    later = p.text_turn("ok. what should I do about my exams", state.history_pairs(), after_crisis=True)
    state = add_turn(state, later, "m")
    notice = whole_page(state, later, config.safety.resources).notice
    assert "crisis support" in notice and "findahelpline.com" in notice
    fresh = add_turn(SessionState(), later, "m")
    assert whole_page(fresh, later, config.safety.resources).notice == ""


def test_after_a_crisis_turn_the_prompt_history_starts_at_it(config):
    """Earlier topics stay in the chat but leave the mentor's prompt once a crisis turn came."""
    from tests.fakes import FakeTextEmotion, make_pipeline

    p = make_pipeline(config, text_emotion=FakeTextEmotion("sadness", 0.8), prosody=None)
    state = add_turn(SessionState(), p.text_turn("My flatmate keeps using my shampoo.", []), "m")
    state = add_turn(state, p.text_turn("Honestly I don't want to wake up tomorrow.", state.history_pairs()), "m")
    assert state.turns[-1].crisis
    state = add_turn(state, p.text_turn("ok", state.history_pairs(), after_crisis=True), "m")
    users = [u for u, _ in state.history_pairs()]
    assert users == ["Honestly I don't want to wake up tomorrow.", "ok"]
    assert len(chat_messages(state)) == 6  # the page still shows the whole conversation
