"""The hub-profile loading code, run on tiny random models built here (no hub access)."""

import dataclasses

import numpy as np
import pytest

from claritymentor.config import EMOTIONS, LLMConfig, STTConfig
from claritymentor.errors import ModelLoadError
from claritymentor.llm import TransformersLLM
from claritymentor.stt import FasterWhisperSTT, repeats_itself
from claritymentor.text_emotion import TransformersEmotionClassifier
from claritymentor.types import AudioClip, TextEmotion
from tests import tiny_models

MESSAGES = [{"role": "system", "content": "You are a mentor."}, {"role": "user", "content": "hello world"}]


@pytest.fixture(scope="module")
def tiny_lm(tmp_path_factory):
    return tiny_models.tiny_causal_lm(tmp_path_factory.mktemp("lm"))


def test_faster_whisper_loads_a_converted_model_and_transcribes(tmp_path):
    model_dir = tiny_models.tiny_faster_whisper(tmp_path)
    stt = FasterWhisperSTT.load(STTConfig(model=str(model_dir), compute_type="float32", language="en"))
    t = np.arange(16000) / 16000
    clip = AudioClip((0.2 * np.sin(2 * np.pi * 200 * t)).astype(np.float32), 16000)
    out = stt.transcribe(clip)
    assert stt.name == str(model_dir) and out.language == "en" and out.duration_s == 1.0
    assert stt.transcribe(clip) == out  # greedy decoding: the same words every time


def test_short_encoder_window_runs_on_a_converted_model(tmp_path):
    model_dir = tiny_models.tiny_faster_whisper(tmp_path)
    stt = FasterWhisperSTT.load(STTConfig(model=str(model_dir), compute_type="float32", language="en",
                                          encoder_window_s=5.0))
    t = np.arange(32000) / 16000
    clip = AudioClip((0.2 * np.sin(2 * np.pi * 200 * t)).astype(np.float32), 16000)
    short = stt.transcribe_short_window(clip.samples, 5.0)
    out = stt.transcribe(clip)
    assert stt.window_s(2.0) == 5.0 and out.duration_s == 2.0
    # the short window's words when they pass the loop checks, else the 30 s window's (counted)
    assert out.text == (short.text if short.ok else stt.transcribe_full(clip).text)
    assert stt.fallbacks == (0 if short.ok else 1)


@pytest.mark.parametrize("text,loop", [
    ("Yes? Yes? Yes? Yes", True), ("high mentor, high mentor, high mentor,", True),
    ("okay okay okay", True), ("I said no, no. Then I left.", False),
    ("I have my statistics exam on Friday and I keep freezing when I practise.", False),
])
def test_repeated_words_mark_a_loop(text, loop):
    assert repeats_itself(text) is loop


def test_transformers_emotion_classifier_on_a_tiny_roberta(tmp_path):
    clf = TransformersEmotionClassifier.load(str(tiny_models.tiny_emotion_classifier(tmp_path)))
    r = clf.classify("I feel nervous about my exam tomorrow.")
    assert isinstance(r, TextEmotion) and set(r.scores) == set(EMOTIONS)
    assert abs(sum(r.scores.values()) - 1.0) < 1e-4 and r.label in EMOTIONS


def test_classifier_with_other_labels_is_refused(tmp_path):
    from transformers import AutoConfig

    path = tiny_models.tiny_emotion_classifier(tmp_path)
    cfg = AutoConfig.from_pretrained(path)
    cfg.id2label = {i: f"LABEL_{i}" for i in range(7)}
    cfg.label2id = {v: k for k, v in cfg.id2label.items()}
    cfg.save_pretrained(path)
    with pytest.raises(ModelLoadError, match="ClarityMentor needs"):
        TransformersEmotionClassifier.load(str(path))


def test_causal_lm_with_matching_lora_adapter(tiny_lm, tmp_path):
    adapter = tiny_models.lora_adapter(tiny_lm, tmp_path / "adapter", base_name=str(tiny_lm))
    cfg = LLMConfig(model=str(tiny_lm), max_new_tokens=8, repetition_penalty=1.0)
    llm = TransformersLLM.load(cfg, tmp_path / "cache", adapter)
    assert llm.adapter == "adapter" and "LoRA" in llm.name
    with_adapter = llm.generate(MESSAGES)
    base = llm.generate(MESSAGES, use_adapter=False)
    assert isinstance(with_adapter, str) and isinstance(base, str)
    plain = TransformersLLM.load(dataclasses.replace(cfg, use_adapter=False), tmp_path / "cache", adapter)
    assert plain.adapter is None and plain.generate(MESSAGES) == base
    assert with_adapter != base  # the random LoRA weights change the greedy output


def test_merged_adapter_answers_like_peft_unmerged_and_dtype_is_applied(tiny_lm, tmp_path):
    """The adapter is merged into its own copy: same greedy reply as peft's unmerged model."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    adapter = tiny_models.lora_adapter(tiny_lm, tmp_path / "adapter", base_name=str(tiny_lm))
    cfg = LLMConfig(model=str(tiny_lm), max_new_tokens=8, repetition_penalty=1.0, dtype="float32")
    llm = TransformersLLM.load(cfg, tmp_path / "cache", adapter)
    kwargs = llm.generate_kwargs(MESSAGES)
    unmerged = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_lm), str(adapter)).eval()
    with torch.inference_mode():
        raw = unmerged.generate(**kwargs)
    assert llm.tokenizer.decode(raw[0, kwargs["input_ids"].shape[1]:], skip_special_tokens=True).strip() == \
        llm.generate(MESSAGES)
    bf16 = TransformersLLM.load(dataclasses.replace(cfg, dtype="bfloat16"), tmp_path / "cache", adapter)
    assert {next(bf16.model_for(a).parameters()).dtype for a in (True, False)} == {torch.bfloat16}
    assert bf16.model_for(True) is not bf16.model_for(False)
    with pytest.raises(ModelLoadError, match="not a torch dtype"):
        TransformersLLM.load(dataclasses.replace(cfg, dtype="float33"), tmp_path / "cache", adapter)


def test_adapter_for_another_base_is_not_applied(tiny_lm, tmp_path, caplog):
    adapter = tiny_models.lora_adapter(tiny_lm, tmp_path / "adapter", base_name="someone/other-model")
    llm = TransformersLLM.load(LLMConfig(model=str(tiny_lm), max_new_tokens=4), tmp_path / "cache", adapter)
    assert llm.adapter is None
    assert "was trained on someone/other-model" in caplog.text


def test_unreachable_hub_model_fails_with_a_clear_message(tmp_path):
    with pytest.raises(ModelLoadError, match="Offline, use the embedded profile"):
        TransformersLLM.load(LLMConfig(model=str(tmp_path / "no-such-model")), tmp_path, tmp_path)


CONVERSATION = [{"role": "system", "content": "You are a mentor."},
                {"role": "user", "content": "I lost my keys again today"},
                {"role": "assistant", "content": "That is annoying. Where did you last see them?"},
                {"role": "user", "content": "Probably at the gym near the lockers"},
                {"role": "assistant", "content": "Then ask the front desk tomorrow morning."}]
NEXT_TURN = [{"role": "system", "content": "The person sounds sad."}, {"role": "user", "content": "thanks a lot"}]


def _uncached_reply(llm, messages):
    import torch

    kwargs = llm.generate_kwargs(messages)
    with torch.inference_mode():
        raw = llm.model_for(False).generate(**kwargs)
    return llm.tokenizer.decode(raw[0, kwargs["input_ids"].shape[1]:], skip_special_tokens=True).strip()


def test_prefilled_conversation_gives_the_same_reply_as_no_cache(tiny_lm, tmp_path):
    """A prefilled persona + history (built in steps, as in the background) must not change
    what is generated, and the turn then reuses it."""
    llm = TransformersLLM.load(LLMConfig(model=str(tiny_lm), max_new_tokens=12, repetition_penalty=1.0,
                                         use_adapter=False), tmp_path, tmp_path)
    messages = CONVERSATION + NEXT_TURN
    expected = _uncached_reply(llm, messages)
    assert llm.generate(messages) == expected and len(llm.prefixes) == 0
    llm.prefill_chunk = 8  # several steps on a short prompt
    cached = llm.prefill(CONVERSATION)
    assert cached == len(llm.prompt_ids(CONVERSATION)) and len(llm.prefixes) == 1
    assert llm.prefixes.longest(False, llm.generate_kwargs(messages)["input_ids"][0].tolist())[0] == cached
    assert llm.generate(messages) == expected
    assert "".join(llm.stream(messages)).strip() == expected
    assert llm.prefill(CONVERSATION) == cached and len(llm.prefixes) == 1  # already there: nothing redone


def test_prefill_gives_way_to_a_waiting_turn_and_keeps_its_part(tiny_lm, tmp_path):
    """A turn that wants the LLM stops a background prefill at the next step; the part done
    is kept and still gives the same reply."""
    llm = TransformersLLM.load(LLMConfig(model=str(tiny_lm), max_new_tokens=12, repetition_penalty=1.0,
                                         use_adapter=False), tmp_path, tmp_path)
    messages = CONVERSATION + NEXT_TURN
    expected = _uncached_reply(llm, messages)
    model = llm.model_for(False)
    real_forward = model.forward
    steps = []
    waiting = llm.turn_waiting()

    def forward(*args, **kwargs):
        steps.append(1)
        if len(steps) == 2:
            waiting.__enter__()  # as if a turn had started waiting for the lock during this step
        return real_forward(*args, **kwargs)

    model.forward = forward  # the torch module's own attribute: counts the prefill's steps
    llm.prefill_chunk = 8
    try:
        cached = llm.prefill(CONVERSATION)
    finally:
        model.forward = real_forward
        waiting.__exit__(None, None, None)
    assert len(steps) == 2 and cached == 16 < len(llm.prompt_ids(CONVERSATION))
    assert llm.generate(messages) == expected


def test_a_template_that_refuses_late_system_messages_gets_the_guidance_in_the_user_turn(tiny_lm, tmp_path):
    llm = TransformersLLM.load(LLMConfig(model=str(tiny_lm), max_new_tokens=4, use_adapter=False), tmp_path, tmp_path)
    llm.tokenizer.chat_template = (
        "{% for m in messages %}{% if m['role'] == 'system' and not loop.first %}"
        "{{ raise_exception('System role only first') }}{% endif %}"
        "<|{{ m['role'] }}|>{{ m['content'] }}\n{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}")
    ids = llm.generate_kwargs(CONVERSATION + NEXT_TURN)["input_ids"][0]
    text = llm.tokenizer.decode(ids)
    assert "<|user|>(The person sounds sad.)\n\nthanks a lot" in text and text.count("<|system|>") == 1
    assert isinstance(llm.generate(CONVERSATION + NEXT_TURN), str)

