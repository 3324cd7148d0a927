"""One test per fusion rule (see claritymentor/fusion.py)."""

from claritymentor.config import FusionConfig
from claritymentor.fusion import fuse
from claritymentor.types import ProsodyReading, TextEmotion
from tests.fakes import scores

CFG = FusionConfig()


def voice(arousal, confidence=0.8):
    return ProsodyReading(arousal=arousal, valence=None, confidence=confidence, features={})


def test_text_only_when_no_voice():
    r = fuse(TextEmotion(scores("sadness", 0.6), "t"), None, CFG)
    assert (r.label, r.rule, r.confidence) == ("sadness", "text_only", 0.6)


def test_low_confidence_voice_is_ignored():
    r = fuse(TextEmotion(scores("anger", 0.6), "t"), voice(0.9, confidence=0.1), CFG)
    assert r.rule == "text_only" and r.confidence == 0.6


def test_neutral_words_agitated_voice_lift_to_strongest_of_anger_fear_joy():
    s = scores("neutral", 0.5)
    s["fear"], s["anger"] = s["fear"] + 0.05, s["anger"] + 0.02
    total = sum(s.values())
    s = {k: v / total for k, v in s.items()}
    r = fuse(TextEmotion(s, "t"), voice(0.8), CFG)
    assert r.rule == "neutral_lift"
    assert r.label == "fear"
    assert r.scores["neutral"] < s["neutral"]
    assert abs(sum(r.scores.values()) - 1.0) < 1e-3


def test_neutral_words_calm_voice_stay_neutral():
    r = fuse(TextEmotion(scores("neutral", 0.7), "t"), voice(-0.5), CFG)
    assert r.label == "neutral" and r.rule == "text_decides"


def test_agreement_raises_confidence():
    r = fuse(TextEmotion(scores("anger", 0.5), "t"), voice(0.7, 0.8), CFG)
    assert r.rule == "agreement"
    assert r.label == "anger"
    assert abs(r.confidence - (0.5 + CFG.agreement_boost * 0.8)) < 1e-3


def test_sad_words_subdued_voice_agree():
    r = fuse(TextEmotion(scores("sadness", 0.5), "t"), voice(-0.6), CFG)
    assert r.rule == "agreement" and r.confidence > 0.5


def test_conflict_lowers_confidence_but_text_keeps_label():
    r = fuse(TextEmotion(scores("anger", 0.8), "t"), voice(-0.7, 0.8), CFG)
    assert r.rule == "conflict"
    assert r.label == "anger"
    assert abs(r.confidence - (0.8 - CFG.conflict_penalty * 0.8)) < 1e-3


def test_low_combined_confidence_gives_neutral():
    r = fuse(TextEmotion(scores("joy", 0.45), "t"), voice(-0.8, 0.8), CFG)
    assert r.label == "neutral"
    assert r.rule == "low_confidence(conflict)"
    assert r.text.label == "joy"  # the channel reading is kept for the details panel
