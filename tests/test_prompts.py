from claritymentor.fusion import fuse
from claritymentor.prompts import build_messages, clean_for_speech, conversation_prefix
from claritymentor.types import TextEmotion
from tests.fakes import scores


def emotion(label):
    from claritymentor.config import FusionConfig

    return fuse(TextEmotion(scores(label, 0.8), "t"), None, FusionConfig())


def test_history_is_bounded_and_the_guidance_comes_right_before_the_new_turn(config):
    history = [(f"question {i}", f"answer {i}") for i in range(10)]
    msgs = build_messages(config.prompts, emotion("sadness"), history, "now", history_turns=3)
    assert [m["role"] for m in msgs] == ["system"] + ["user", "assistant"] * 3 + ["system", "user"]
    assert msgs[0]["content"] == config.prompts.persona and msgs[0]["content"].startswith("You are ClarityMentor")
    assert not any(config.prompts.style(e).guidance in m["content"] for e in ("joy", "anger") for m in msgs)
    assert msgs[1]["content"] == "question 7" and msgs[-1]["content"] == "now"
    assert msgs[-2]["content"] == config.prompts.style("sadness").guidance


def test_the_conversation_prefix_is_the_same_whatever_the_emotion(config):
    """What is prefilled before the person speaks must begin every possible next prompt."""
    history = [(f"question {i}", f"answer {i}") for i in range(6)]
    prefix = conversation_prefix(config.prompts, history, history_turns=4)
    for label in ("sadness", "joy", "anger"):
        msgs = build_messages(config.prompts, emotion(label), history, "now", history_turns=4)
        assert msgs[:len(prefix)] == prefix and len(msgs) == len(prefix) + 2


def test_clean_for_speech_strips_markdown_list_marks_and_emoji():
    assert clean_for_speech("- **Breathe** slowly 😊") == "Breathe slowly"
    assert clean_for_speech("2. Then *rest*") == "Then rest"


DISHES = ("My flatmate keeps leaving dirty dishes in the sink and I'm sick of it.",
          "That sounds draining. Could you agree a rota with them this week? What's been left behind?")


def test_a_new_subject_starts_the_prompt_afresh_and_a_follow_up_keeps_it():
    from claritymentor.prompts import current_topic, topic_history

    history = [DISHES]
    assert topic_history(history, "mostly pans and mugs") == history  # a short answer
    assert topic_history(history, "He leaves the dishes there for days and never washes a thing.") == history
    assert topic_history(history, "I have my driving test on Friday and I keep stalling the car.") == []
    later = [DISHES, ("I have my driving test on Friday and I keep stalling the car.", "What happens when it stalls?"),
             ("usually on hills", "Hills are tricky. What if you practise hill starts?")]
    assert current_topic(later) == later[1:]


def test_the_pipeline_writes_a_new_subject_without_the_old_one_and_prefills_the_current_topic(config):
    from tests.fakes import FakeLLM, make_pipeline

    llm = FakeLLM()
    p = make_pipeline(config, llm=llm, prosody=None)
    p.text_turn("I have my driving test on Friday and I keep stalling the car.", [DISHES])
    prompt = " ".join(m["content"] for m in llm.seen[-1])
    assert "dishes" not in prompt and "driving test" in prompt
    p.text_turn("He leaves the dishes there for days and never washes a thing.", [DISHES])
    assert "dirty dishes" in " ".join(m["content"] for m in llm.seen[-1])
    p.prefill_conversation([DISHES, ("I have my driving test on Friday and I keep stalling the car.", "Hills?")],
                           True).join()
    assert "dishes" not in " ".join(m["content"] for m in llm.prefilled[-1])
