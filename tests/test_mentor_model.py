"""The mentor dialogue data, and the trained ClarityMentor adapter shipped in models/."""

import json

import pytest

from claritymentor.config import EMOTIONS, ROOT
from claritymentor.llm_loading import EMBEDDED_BASE_ID, adapter_base
from claritymentor.mentor_data import load_dialogues, parse, split

ADAPTER = ROOT / "models" / "claritymentor-lora"


def test_dialogue_dataset_size_labels_and_split():
    dialogues = load_dialogues()
    train, held = split(dialogues)
    assert len(dialogues) >= 1500
    assert {d.emotion for d in dialogues} == set(EMOTIONS)
    assert len(held) >= 60 and not {id(d) for d in train} & {id(d) for d in held}
    assert sum(len(d.turns) > 2 for d in dialogues) >= 0.30 * len(dialogues)  # multi-turn examples


def test_held_out_opening_messages_are_never_training_openings():
    import csv

    with (ROOT / "data" / "mentor" / "heldout_messages.tsv").open() as f:
        messages = [r["message"].lower() for r in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)]
    assert len(messages) >= 100
    openings = {d.turns[0][1].lower() for d in load_dialogues()}
    assert not openings & set(messages)


def test_replies_follow_the_spoken_style():
    replies = [t for d in load_dialogues() for r, t in d.turns if r == "assistant"]
    finals = [d.turns[-1][1] for d in load_dialogues()]
    assert all(not any(c in r for c in "*#`•") for r in replies)
    assert all(15 <= len(r.split()) <= 70 for r in finals)


@pytest.mark.parametrize("bad,message", [
    ("## calm | x\nU: hi\nA: hello", "unknown emotion 'calm'"),
    ("## joy | x\nA: hello", "must alternate"),
    ("## joy | x\nU: hi\nU: again\nA: ok", "must alternate"),
    ("just text", "expected '## emotion"),
])
def test_parser_rejects_malformed_examples(bad, message):
    with pytest.raises(ValueError, match=message):
        parse(bad, "t.txt")


def test_shipped_adapter_matches_the_embedded_base_and_has_a_model_card():
    assert adapter_base(ADAPTER) == EMBEDDED_BASE_ID
    assert (ADAPTER / "adapter_model.safetensors").stat().st_size < 12_000_000  # float16 LoRA weights
    card = (ADAPTER / "README.md").read_text()
    assert EMBEDDED_BASE_ID in card and "perplexity" in card
    figures = json.loads((ADAPTER / "evaluation.json").read_text())
    assert figures["perplexity_reduction"] >= 0.20
    assert "sense check passed" in card  # the sense evaluation (scripts/eval_lora.py --card-from)
    for columns in figures["sense_pass"].values():
        assert 0 <= columns["dialogues"] <= 1 and 0 <= columns["messages"] <= 1
    as_run = figures["sense_pass"]["adapter + reply check"]  # the target, as the app runs the mentor
    assert as_run["dialogues"] >= 0.90 and as_run["messages"] >= 0.90, as_run


@pytest.mark.slow
def test_adapter_is_loaded_at_start_and_the_base_can_be_chosen(loaded):
    """The app loads the adapter; use_adapter=False answers with the base model."""
    llm = loaded.pipeline.llm
    assert llm.adapter == "claritymentor-lora"
    messages = [{"role": "system", "content": "You are a mentor."},
                {"role": "user", "content": "I'm nervous about my exam tomorrow."}]
    tuned = llm.generate(messages, use_adapter=True, max_new_tokens=24)
    base = llm.generate(messages, use_adapter=False, max_new_tokens=24)
    assert tuned and base and tuned != base
