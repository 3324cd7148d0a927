"""Crisis safety: the detector on explicit, implicit and idiomatic phrasings, its
held-out figures, and the pipeline's crisis path."""

import csv
from pathlib import Path

import numpy as np
import pytest

from claritymentor.safety import check_crisis
from claritymentor.safety_data import HELD_OUT_LISTS
from claritymentor.types import AudioClip
from tests.fakes import FakeLLM, FakeProsody, FakeSTT, FakeTextEmotion, make_pipeline

DATA = Path(__file__).resolve().parent.parent / "data" / "safety"


def rows(name):
    with (DATA / name).open() as f:
        return [(r["text"], r["label"] == "1") for r in csv.DictReader(f, delimiter="\t")]


@pytest.mark.parametrize("text", [
    "I want to kill myself.",
    "I don’t want to wake up tomorrow.",  # curly apostrophe, as phones type it
    "Everyone would be better off without me",
    "i've been cutting myself again",
    "What's the point of living?",
    "I keep thinking about suicide",
])
def test_fires_on_explicit_and_implicit_phrasing(text):
    assert check_crisis(text).crisis


@pytest.mark.parametrize("text", [
    "This exam is killing me.",
    "kill the process on port 8080",
    "I'm dying to start my new job!",
    "I don't want to wake up early tomorrow.",
    "I'm going to die of embarrassment at this presentation.",
    "I'm sick of living with messy flatmates.",
    "Those shoes are to die for.",
    "I don't want to be in this team anymore.",
])
def test_does_not_fire_on_idioms(text):
    assert not check_crisis(text).crisis


@pytest.mark.parametrize("text", [
    "We raised money for a suicide prevention charity at the bake sale.",
    "I have to write an essay on self-harm in adolescents for my psychology module.",
    "My uncle died by suicide when I was little and we light a candle for him every year.",
    "Forgetting the client's name in the pitch was career suicide.",
    "I'm not suicidal, just fed up with my landlord.",
    "I cut myself shaving this morning.",
    "I burned myself on the oven tray making dinner.",
    "I nearly killed myself laughing at that video.",
    "We're saying goodbye to the old office on Friday.",
    "I wrote a goodbye card for my teacher.",
    "Our ambulance crew had two overdose calls on the night shift.",
    "I've been overdosing on coffee all week.",
])
def test_phrases_leave_topics_accidents_and_ordinary_goodbyes_to_the_semantic_layer(text):
    """Mentions of the topic, other people's deaths, accidents and everyday goodbyes do not
    fire the phrase layer on their own (the semantic layer still reads them)."""
    assert not check_crisis(text).crisis


@pytest.mark.parametrize("text", [
    "I keep thinking about suicide.",
    "Honestly I've been feeling suicidal again.",
    "I cut myself on purpose last night.",
    "I've said my goodbyes.",
    "I'm writing goodbye messages to everyone.",
    "I read about suicide methods online.",
    "I think I might overdose tonight.",
    "I cut myself on my arm again last night.",
])
def test_the_same_words_said_of_oneself_still_fire(text):
    assert check_crisis(text).crisis


@pytest.mark.parametrize("name", ["dev.tsv", "heldout.tsv"])
def test_recall_and_false_positive_rate(name):
    """Targets: recall >= 0.9 with a false-positive rate <= 0.1 on each list."""
    data = rows(name)
    pos = [check_crisis(t).crisis for t, y in data if y]
    neg = [check_crisis(t).crisis for t, y in data if not y]
    assert len(pos) >= 20 and len(neg) >= 20
    assert sum(pos) / len(pos) >= 0.9
    assert sum(neg) / len(neg) <= 0.1


def _words(text):
    import re

    return set(re.findall(r"[a-z']+", text.lower()))


def test_no_dev_message_is_a_near_copy_of_a_held_out_one():
    """The semantic layer trains on the dev lists; a dev line sharing three quarters of its
    words with a held-out line would make the held-out figures flatter the detector."""
    held = [_words(t) for name in HELD_OUT_LISTS for t, _ in rows(name)]
    for name in sorted(p.name for p in DATA.glob("dev*.tsv")):
        for text, _ in rows(name):
            words = _words(text)
            near = [h for h in held if len(words & h) / len(words | h) >= 0.75]
            assert not near, f"{name}: {text!r} is a near copy of a held-out message"


def _pipeline(config, llm):
    return make_pipeline(config, stt=FakeSTT("honestly I just want to die"),
                         text_emotion=FakeTextEmotion("sadness", 0.8), prosody=FakeProsody(-0.5), llm=llm)


def test_crisis_turn_uses_the_configured_reply_not_the_llm(config):
    llm = FakeLLM()
    p = _pipeline(config, llm)
    r = p.voice_turn(AudioClip(np.full(16000, 0.1, np.float32), 16000), [])
    assert r.crisis == ("want_die",)
    assert r.reply_text == config.safety.reply and "emergency number" in r.reply_text
    assert llm.seen == []
    assert p.tts.styles and all(s == config.prompts.style(config.safety.voice_emotion) for s in p.tts.styles)


def test_ordinary_turn_is_not_marked(config):
    r = _pipeline(config, FakeLLM()).text_turn("This exam is killing me, how do I plan my week?", [])
    assert r.crisis == () and r.reply_text == FakeLLM().reply


def test_safety_text_is_configurable_and_validated(tmp_path):
    from claritymentor.config import load_config
    from claritymentor.errors import ConfigError
    from tests.fakes import config_copy

    config_copy(tmp_path)
    (tmp_path / "safety.yaml").write_text("reply: Call 113 now.\nresources: 'Helpline: 0800 000'\n")
    assert load_config("embedded", config_dir=tmp_path).safety.reply == "Call 113 now."
    (tmp_path / "safety.yaml").write_text("reply: ''\nresources: x\n")
    with pytest.raises(ConfigError, match="'reply' must be a non-empty text"):
        load_config("embedded", config_dir=tmp_path)


class FakeEncoder:
    """Embeds a text as [1, 0] when it mentions the guitar, else [0, 1]."""

    def __init__(self):
        self.seen = []

    def encode(self, texts, **kw):
        self.seen.append(list(texts))
        return np.array([[1.0, 0.0] if "guitar" in t else [0.0, 1.0] for t in texts], np.float32)


def _semantic(threshold=0.5):
    from claritymentor.safety import SemanticCrisisLayer

    return SemanticCrisisLayer(FakeEncoder(), np.array([4.0, -4.0], np.float32), 0.0, threshold)


def test_either_layer_makes_a_crisis_turn():
    from claritymentor.safety import CrisisDetector

    d = CrisisDetector(_semantic())
    semantic = d.check("I've sorted out who gets my guitar")  # no pattern foresaw this
    assert semantic.crisis and semantic.matches == ("semantic",) and semantic.score > 0.9
    phrase = d.check("I want to kill myself")  # the semantic layer says no, the phrases say yes
    assert phrase.crisis and phrase.matches == ("kill_self",) and phrase.score < 0.1
    assert not d.check("How do I plan my revision?").crisis
    assert not CrisisDetector().check("I've sorted out who gets my guitar").crisis  # phrases alone miss it


def test_semantic_layer_scores_each_sentence_of_a_long_message():
    """A crisis sentence inside an ordinary message is scored on its own, not diluted."""
    layer = _semantic()
    layer.score("Exams went fine and the flat is okay. I've sorted out who gets my guitar.")
    assert layer.encoder.seen[-1][1:] == ["Exams went fine and the flat is okay.", "I've sorted out who gets my guitar."]


def test_threshold_decides():
    from claritymentor.safety import CrisisDetector

    assert not CrisisDetector(_semantic(threshold=0.999)).check("my guitar").crisis


def test_pipeline_uses_its_detector(config):
    from claritymentor.safety import CrisisDetector

    llm = FakeLLM()
    p = make_pipeline(config, text_emotion=FakeTextEmotion("sadness", 0.8), prosody=None, llm=llm,
                      safety=CrisisDetector(_semantic()))
    r = p.text_turn("I've sorted out who gets my guitar and my books.", [])
    assert r.crisis == ("semantic",) and r.reply_text == config.safety.reply and llm.seen == []


def test_after_a_crisis_turn_the_mentor_keeps_the_gentle_guidance(config):
    """The rest of the session: later replies use the follow-up guidance and the gentle voice."""
    llm = FakeLLM()
    p = _pipeline(config, llm)
    r = p.text_turn("Thanks. I'll try to get some sleep.", [("I want to die", config.safety.reply)],
                    after_crisis=True)
    assert not r.crisis and r.reply_text == llm.reply
    guidance = llm.seen[-1][-2]
    assert guidance == {"role": "system", "content": config.safety.followup_guidance}
    assert p.tts.styles[-1] == config.prompts.style(config.safety.voice_emotion)
    p.text_turn("Thanks. I'll try to get some sleep.", [], after_crisis=False)
    assert llm.seen[-1][-2]["content"] == config.prompts.style("sadness").guidance
