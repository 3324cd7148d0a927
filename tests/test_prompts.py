from claritymentor.fusion import fuse
from claritymentor.prompts import build_messages, shape_for_speech, system_prompt
from claritymentor.types import TextEmotion
from tests.fakes import scores


def emotion(label):
    from claritymentor.config import FusionConfig

    return fuse(TextEmotion(scores(label, 0.8), "t"), None, FusionConfig())


def test_system_prompt_has_persona_and_the_emotions_guidance(config):
    prompt = system_prompt(config.prompts, "sadness")
    assert prompt.startswith("You are ClarityMentor")
    assert config.prompts.style("sadness").guidance in prompt
    assert config.prompts.style("joy").guidance not in prompt


def test_history_is_bounded_to_the_last_turns(config):
    history = [(f"question {i}", f"answer {i}") for i in range(10)]
    msgs = build_messages(config.prompts, emotion("neutral"), history, "now", history_turns=3)
    assert [m["role"] for m in msgs] == ["system"] + ["user", "assistant"] * 3 + ["user"]
    assert msgs[1]["content"] == "question 7" and msgs[-1]["content"] == "now"


def test_markdown_lists_and_emoji_are_stripped():
    raw = "**Breathe.** 😊\n- First, list it\n2. Then *rest*\n# Done"
    assert shape_for_speech(raw, 80) == "Breathe. First, list it. Then rest."


def test_unfinished_last_sentence_is_dropped():
    assert shape_for_speech("Rest tonight. Then plan the week and", 80) == "Rest tonight."


def test_length_is_capped_at_a_sentence_boundary():
    text = " ".join(f"Sentence number {i} is here." for i in range(30))
    out = shape_for_speech(text, 20)
    assert len(out.split()) <= 20 and out.endswith(".")


def test_one_very_long_sentence_is_cut_by_words():
    out = shape_for_speech("word " * 200 + "end.", 30)
    assert len(out.split()) == 30 and out.endswith(".")
