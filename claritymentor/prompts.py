"""The mentor's prompt: persona + the perceived emotion's guidance + bounded history,
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


def clean_for_speech(text: str) -> str:
    """Strip markdown, list marks and emoji from one piece of a reply; tidy spaces."""
    return " ".join(_EMOJI.sub("", _MARKDOWN.sub("", _LIST_MARK.sub("", text))).split())
