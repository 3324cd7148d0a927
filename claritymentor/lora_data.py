"""Turn mentor dialogues into training / evaluation examples for the LoRA adapter, in
exactly the prompt format the app uses at run time (persona + history + emotion
guidance + the new turn), so what the adapter learns is what the app asks."""

from __future__ import annotations

from claritymentor.config import PromptsConfig
from claritymentor.mentor_data import Dialogue
from claritymentor.prompts import build_messages

LORA_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
MAX_TOKENS = 512


def reply_prompts(prompts: PromptsConfig, dialogue: Dialogue) -> list[tuple[list[dict[str, str]], str]]:
    """(chat messages up to a mentor reply, that reply) for every mentor turn, built by the
    app's own ``build_messages`` with the whole dialogue so far as history."""
    out = []
    pairs = dialogue.exchanges
    for k, (said, reply) in enumerate(pairs):
        messages = build_messages(prompts, dialogue.emotion, list(pairs[:k]), said, k)
        out.append((messages, reply))
    return out


def flawed_replies(dialogue: Dialogue) -> list[str]:
    """What the dialogue's own mentor replies invent or say that they should not
    (``sense.reply_problems``): such a dialogue teaches the habit the adapter must lose."""
    from claritymentor.sense import reply_problems

    problems, said = [], []
    for role, text in dialogue.turns:
        if role == "assistant":
            problems += reply_problems(text, " ".join(said))
        said.append(text)
    return problems


def encode_examples(tok, prompts: PromptsConfig, dialogues: list[Dialogue]) -> list[tuple[list[int], list[int]]]:
    """(input ids, labels) pairs; labels are -100 except on the reply and its end token."""
    end = tok.eos_token or ""
    out = []
    for d in dialogues:
        for messages, reply in reply_prompts(prompts, d):
            prompt = tok.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
            p_ids = tok(prompt, add_special_tokens=False)["input_ids"]
            r_ids = tok(reply + end, add_special_tokens=False)["input_ids"]
            ids = (p_ids + r_ids)[-MAX_TOKENS:]
            labels = ([-100] * len(p_ids) + r_ids)[-MAX_TOKENS:]
            out.append((ids, labels))
    return out


def reply_loss(model, examples) -> float:
    """Mean loss per reply token of ``examples`` (from ``encode_examples``)."""
    import torch

    total, count = 0.0, 0
    with torch.inference_mode():
        for ids, labels in examples:
            out = model(input_ids=torch.tensor([ids]), labels=torch.tensor([labels]))
            n = sum(1 for x in labels[1:] if x != -100)  # tokens the loss is averaged over
            total += out.loss.item() * n
            count += n
    return total / count
