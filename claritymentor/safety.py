"""Crisis safety: detect self-harm and suicidal language in what the person said.

A transparent phrase detector: each pattern names a family of explicit or implicit
expressions ("I want to die", "I don't want to wake up tomorrow", "they'd be better off
without me"). Idioms are avoided by construction: the patterns need a first-person
self-directed form ("kill myself", not "this exam is killing me"; "want to die", not
"dying to"), and a few guards reject look-alikes ("wake up early", "die of
embarrassment"). It errs towards firing: a false alarm costs a gentle check-in, a miss
can cost much more. Recall and false-positive rate on a held-out list are in the README.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from claritymentor.errors import ConfigError

_P = [
    # explicit
    ("kill_self", r"\b(kill|killing|killed|hurt|hurting|harm|harming|cut|cutting|burn|burning)\s+myself\b"),
    ("suicide", r"\bsuicid(e|al)\b(?!\s+squad)"),
    ("self_harm", r"\bself[-\s]?harm(ing|ed)?\b"),
    ("end_life", r"\bend(ing)?\s+(my\s+(own\s+)?life|it\s+all)\b"),
    ("want_die", r"\b(want|wanna|wish|wishing|ready|going|plan(ning)?|deserve)\s+(I\s+could\s+)?(to\s+)?die\b"
                 r"(?!\s+(of|from)\s+(embarrassment|laughing|shame|boredom))"),
    ("wish_dead", r"\bwish\s+I\s+(was|were|'d\s+been|had\s+been)\s+(dead|never\s+born|not\s+alive)\b"
                  r"|\bwish\s+I\s+had\s+never\s+been\s+born\b"),
    ("overdose", r"\boverdos(e|ing)\b|\b(take|taking|took|swallow|swallowing)\s+(all\s+)?(of\s+)?(my|the|those|these)?\s*pills\b"
                 r"|\bhow\s+many\s+pills\b"),
    ("jump", r"\bjump(ing)?\s+(off|from|in front of)\s+(a|the|my)?\s*(bridge|roof|building|train|balcony|cliff)"),
    # implicit
    ("not_live", r"\b(don'?t|do\s+not|didn'?t)\s+want\s+to\s+(live|be\s+alive|exist|be\s+here|be\s+around)"
                 r"(\s+(anymore|any\s+more|any\s+longer))?(?=\s*[.!?,]|\s*$|\s+(anymore|any\s+more|any\s+longer))"),
    ("not_wake", r"\b(don'?t|do\s+not)\s+want\s+to\s+wake\s+up\b(?!\s+(early|at|before|so|this\s+early))"
                 r"|\b(sleep|go\s+to\s+sleep)\s+and\s+never\s+wake\s+up\b|\bnot\s+waking\s+up\b"),
    ("better_off", r"\bbetter\s+off\s+(dead|without\s+me)\b"
                   r"|\b(better|easier)\s+(off\s+)?(for\s+everyone\s+)?if\s+I\s+(was|were|'m|am)\s+(gone|dead|not\s+here|not\s+around)\b"),
    ("no_point", r"\b(no|what'?s\s+the|what\s+is\s+the)\s+(reason|point)\s+(in\s+|of\s+|to\s+)?(living|live|being\s+alive|go(ing)?\s+on)\b"
                 r"|\blife\s+(isn'?t|is\s+not)\s+worth\s+living\b"),
    ("tired_alive", r"\b(tired|sick)\s+of\s+(being\s+alive|living)\b(?!\s+with)"),
    ("cant_go_on", r"\bcan'?t\s+go\s+on\b(\s+(living|like\s+this|anymore|any\s+more|any\s+longer))?(?=\s*[.!?,]|\s*$|\s+(living|like|anymore|any))"),
    ("disappear", r"\b(disappear|vanish)\s+forever\b"),
    ("goodbye", r"\b(said|saying|written|wrote|writing)\s+(my\s+)?(a\s+)?goodbye(s)?(\s+(letter|note))?\b|\bsuicide\s+note\b"
                r"|\bgiv(e|ing)\s+away\s+(all\s+)?my\s+(things|stuff|belongings)\b"),
    ("not_around", r"\b(won'?t|will\s+not|not\s+going\s+to)\s+be\s+(around|here|alive)\s+(much\s+longer|for\s+long|next\s+(week|month|year))\b"),
]
PATTERNS = tuple((name, re.compile(rx, re.IGNORECASE)) for name, rx in _P)


@dataclass(frozen=True)
class CrisisCheck:
    """Whether a text contains crisis language, and which pattern families matched."""

    crisis: bool
    matches: tuple[str, ...] = ()


def _normalise(text: str) -> str:
    return " ".join(text.replace("’", "'").replace("‘", "'").split())


def check_crisis(text: str) -> CrisisCheck:
    """Look for self-harm or suicidal language in ``text``."""
    t = _normalise(text or "")
    names = tuple(name for name, rx in PATTERNS if rx.search(t))
    return CrisisCheck(crisis=bool(names), matches=names)


@dataclass(frozen=True)
class SafetyConfig:
    reply: str
    resources: str
    voice_emotion: str = "sadness"


def load_safety_config(path: Path) -> SafetyConfig:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise ConfigError(f"{path} is missing; restore config/safety.yaml from the repository") from e
    if not isinstance(data, dict):
        raise ConfigError(f"{path.name}: expected a mapping with 'reply' and 'resources'")
    unknown = sorted(set(data) - {"reply", "resources", "voice_emotion"})
    if unknown:
        raise ConfigError(f"{path.name}: unknown key(s) {unknown}; valid: reply, resources, voice_emotion")
    for key in ("reply", "resources"):
        if not isinstance(data.get(key), str) or not data[key].strip():
            raise ConfigError(f"{path.name}: '{key}' must be a non-empty text")
    return SafetyConfig(reply=" ".join(data["reply"].split()), resources=" ".join(data["resources"].split()),
                        voice_emotion=str(data.get("voice_emotion", "sadness")))
