from claritymentor.fusion import fuse
from claritymentor.prompts import build_messages, clean_for_speech, system_prompt
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


def test_clean_for_speech_strips_markdown_list_marks_and_emoji():
    assert clean_for_speech("- **Breathe** slowly 😊") == "Breathe slowly"
    assert clean_for_speech("2. Then *rest*") == "Then rest"
