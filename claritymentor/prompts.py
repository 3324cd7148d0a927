"""The mentor's prompt: persona + the perceived emotion's guidance + bounded history,
and the reply shaped for speech."""

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
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def system_prompt(prompts: PromptsConfig, emotion: str) -> str:
    """Persona plus the guidance for the perceived emotion (a label)."""
    style = prompts.style(emotion)
    return f"{prompts.persona}\n\n{style.guidance}"


def build_messages(
    prompts: PromptsConfig,
    emotion: FusedEmotion,
    history: Sequence[tuple[str, str]],
    user_text: str,
    history_turns: int,
) -> list[dict[str, str]]:
    """Chat messages for the LLM: system, the last ``history_turns`` exchanges, the new turn."""
    messages = [{"role": "system", "content": system_prompt(prompts, emotion.label)}]
    recent = list(history)[-history_turns:] if history_turns > 0 else []
    for user, reply in recent:
        messages.append({"role": "user", "content": user})
        messages.append({"role": "assistant", "content": reply})
    messages.append({"role": "user", "content": user_text})
    return messages


def drop_unfinished_sentence(text: str) -> str:
    """Cut a trailing fragment (generation stopped at the token limit mid-sentence),
    keeping the text whole when it has no complete sentence at all."""
    if not text or text[-1] in ".!?\"')":
        return text
    ends = [m.end() for m in re.finditer(r"[.!?](?=\s|$)", text)]
    return text[: ends[-1]] if ends else text


def shape_for_speech(text: str, max_words: int) -> str:
    """Strip markdown, list marks and emoji; cap the length at a sentence boundary."""
    text = _EMOJI.sub("", _MARKDOWN.sub("", _LIST_MARK.sub("", text)))
    # Each line (a list item, a heading) is spoken as a sentence of its own; the last
    # line is left as it is, since it may be cut off mid-sentence (dropped below).
    lines = [" ".join(line.split()) for line in text.splitlines()]
    lines = [line for line in lines if line]
    text = " ".join([line if line[-1] in ".!?:;," else line + "." for line in lines[:-1]] + lines[-1:])
    text = drop_unfinished_sentence(text)
    words = text.split()
    if len(words) <= max_words:
        return text
    out: list[str] = []
    for sentence in _SENTENCE_END.split(text):
        if out and len(" ".join(out + [sentence]).split()) > max_words:
            break
        out.append(sentence)
    capped = " ".join(out)
    if len(capped.split()) > max_words:  # one very long first sentence
        capped = " ".join(words[:max_words]).rstrip(",;:") + "."
    return capped
