"""The mentor's prompt: persona + bounded history + the perceived emotion's guidance,
and each piece of the reply cleaned for speech."""

from __future__ import annotations

import re
from collections.abc import Sequence

from claritymentor.config import PromptsConfig
from claritymentor.types import FusedEmotion

_MARKDOWN = re.compile(r"(\*\*|__|\*|_|`+|#+\s|>\s|\[|\]\([^)]*\))")
_LIST_MARK = re.compile(r"^\s*(?:[-*+•]|\d+[.)])\s+", re.MULTILINE)
_EMOJI = re.compile(
    "[\U0001f000-\U0001faff\U00002600-\U000027bf\U0001f900-\U0001f9ff\U00002190-\U000021ff\ufe0f\u200d]"
)


def conversation_prefix(
    prompts: PromptsConfig,
    history: Sequence[tuple[str, str]],
    history_turns: int,
) -> list[dict[str, str]]:
    """The part of the next turn's prompt known before the person speaks: the persona and
    the last ``history_turns`` exchanges. It holds nothing about the new turn's emotion, so
    its KV cache can be built while the reply plays (``MentorLLM.prefill``)."""
    messages = [{"role": "system", "content": prompts.persona}]
    recent = list(history)[-history_turns:] if history_turns > 0 else []
    for user, reply in recent:
        messages.append({"role": "user", "content": user})
        messages.append({"role": "assistant", "content": reply})
    return messages


def build_messages(
    prompts: PromptsConfig,
    emotion: FusedEmotion | str,
    history: Sequence[tuple[str, str]],
    user_text: str,
    history_turns: int,
    guidance: str | None = None,
) -> list[dict[str, str]]:
    """Chat messages for the LLM: the persona, the last ``history_turns`` exchanges, then the
    perceived emotion's guidance (or ``guidance`` when given: after a crisis turn) as a system
    message right before the new turn.

    The guidance comes after the history (not in the first system message) so that a change
    of emotion leaves the conversation's KV cache usable: only the guidance and the new turn
    are prefilled when the person has spoken. The adapter is trained on this same layout
    (``lora_data.reply_prompts``)."""
    label = emotion if isinstance(emotion, str) else emotion.label
    return [*conversation_prefix(prompts, history, history_turns),
            {"role": "system", "content": guidance or prompts.style(label).guidance},
            {"role": "user", "content": user_text}]


def fold_late_system_messages(messages: list[dict[str, str]]) -> list[dict[str, str]]:
    """For chat templates that allow a system message only first (Gemma, Mistral...): each
    later system message (the emotion's guidance) is put in front of the next user message."""
    out: list[dict[str, str]] = []
    pending: list[str] = []
    for i, m in enumerate(messages):
        if m["role"] == "system" and i > 0:
            pending.append(m["content"])
        elif m["role"] == "user" and pending:
            out.append({"role": "user", "content": "(" + " ".join(pending) + ")\n\n" + m["content"]})
            pending = []
        else:
            out.append(m)
    return out


def clean_for_speech(text: str) -> str:
    """Strip markdown, list marks and emoji from one piece of a reply; tidy spaces."""
    return " ".join(_EMOJI.sub("", _MARKDOWN.sub("", _LIST_MARK.sub("", text))).split())


def conversation_text(history, user_text: str) -> str:
    """The conversation so far as one text (each earlier exchange, then the person's new
    words): what a reply is checked against."""
    return " ".join([*(f"{u} {a}" for u, a in history), user_text])
