"""Crisis safety: the detector on explicit, implicit and idiomatic phrasings, its
held-out figures, and the pipeline's crisis path."""

import csv
from pathlib import Path

import numpy as np
import pytest

from claritymentor.pipeline import Pipeline
from claritymentor.safety import check_crisis
from claritymentor.types import AudioClip
from tests.fakes import FakeLLM, FakeProsody, FakeSTT, FakeTextEmotion, FakeTTS, FakeVAD

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


@pytest.mark.parametrize("name", ["dev.tsv", "heldout.tsv"])
def test_recall_and_false_positive_rate(name):
    """Targets: recall >= 0.9 with a false-positive rate <= 0.1 on each list."""
    data = rows(name)
    pos = [check_crisis(t).crisis for t, y in data if y]
    neg = [check_crisis(t).crisis for t, y in data if not y]
    assert len(pos) >= 20 and len(neg) >= 20
    assert sum(pos) / len(pos) >= 0.9
    assert sum(neg) / len(neg) <= 0.1


def _pipeline(config, llm):
    return Pipeline(cfg=config, vad=FakeVAD(), stt=FakeSTT("honestly I just want to die"),
                    text_emotion=FakeTextEmotion("sadness", 0.8), prosody=FakeProsody(-0.5), llm=llm, tts=FakeTTS())


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
    import shutil

    from claritymentor.config import DEFAULT_CONFIG_DIR, load_config
    from claritymentor.errors import ConfigError

    for f in ("voice_config.yaml", "emotion_prompts.yaml", "safety.yaml"):
        shutil.copy(DEFAULT_CONFIG_DIR / f, tmp_path / f)
    (tmp_path / "safety.yaml").write_text("reply: Call 113 now.\nresources: 'Helpline: 0800 000'\n")
    assert load_config("embedded", config_dir=tmp_path).safety.reply == "Call 113 now."
    (tmp_path / "safety.yaml").write_text("reply: ''\nresources: x\n")
    with pytest.raises(ConfigError, match="'reply' must be a non-empty text"):
        load_config("embedded", config_dir=tmp_path)
