"""The mentor's prompt: persona + bounded history + the perceived emotion's guidance,
and each piece of the reply cleaned for speech."""

from __future__ import annotations

import re
from collections.abc import Sequence

from claritymentor.config import PromptsConfig
from claritymentor.sense import key_words
from claritymentor.types import FusedEmotion

SHORT_WORDS = 6  # "ok", "mostly pans and mugs", "yes, my sister": a reply to what was said, never a new topic
ANSWER_WORDS = 10  # after the mentor's question, words this short are taken as the answer to it

_MARKDOWN = re.compile(r"(\*\*|__|\*|_|`+|#+\s|>\s|\[|\]\([^)]*\))")
_LIST_MARK = re.compile(r"^\s*(?:[-*+•]|\d+[.)])\s+", re.MULTILINE)
_EMOJI = re.compile(
    "[\U0001f000-\U0001faff\U00002600-\U000027bf\U0001f900-\U0001f9ff\U00002190-\U000021ff\ufe0f\u200d]"
)


def continues(topic: Sequence[tuple[str, str]], user_text: str) -> bool:
    """Whether the person's new words go on with ``topic`` (the exchanges about the current
    subject): they are short, or a short answer to the mentor's question ("tiktok mostly, i
    just scroll in bed"), or share a key word with what the person said in it or with the
    mentor's last reply. (So a short new subject right after a question is still read as an
    answer: held-out follow-ups kept 103/109 with 10 words, 57/109 with 6.)"""
    if not topic:
        return False
    n = len(user_text.split())
    if n <= SHORT_WORDS or (n <= ANSWER_WORDS and topic[-1][1].rstrip().endswith("?")):
        return True
    said = key_words(" ".join([*(u for u, _ in topic), topic[-1][1]]))
    return bool(key_words(user_text) & said)


def current_topic(history: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """The exchanges since the person last opened a new subject. The small mentor model
    otherwise carries the earlier subject into the new one ("…take a few minutes to clean
    those spills" in a reply about a driving test); the chat keeps the whole conversation."""
    start = 0
    for i in range(1, len(history)):
        if not continues(history[start:i], history[i][0]):
            start = i
    return list(history[start:])


def topic_history(history: Sequence[tuple[str, str]], user_text: str) -> list[tuple[str, str]]:
    """The history a reply to ``user_text`` is written with: the current topic if the new
    words go on with it, else none (a new subject starts afresh)."""
    topic = current_topic(history)
    return topic if continues(topic, user_text) else []


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
