"""Crisis safety: detect self-harm and suicidal language in what the person said.

Two layers; either firing makes a crisis turn (``CrisisDetector``):

1. **Phrase families** (``check_crisis``): each pattern names a family of explicit or implicit
expressions ("I want to die", "I don't want to wake up tomorrow", "they'd be better off
without me"). Idioms are avoided by construction: the patterns need a first-person
self-directed form ("kill myself", not "this exam is killing me"; "want to die", not
"dying to"), and a few guards reject look-alikes ("wake up early", "die of
embarrassment"). It errs towards firing: a false alarm costs a gentle check-in, a miss
can cost much more.
2. **Semantic** (``SemanticCrisisLayer``): a logistic head on MiniLM sentence embeddings,
   trained on a dev list of crisis messages (passive wishes, plans, goodbyes, euphemisms,
   self-harm) against hard negatives and ordinary worried messages, with its threshold set
   on that list for recall (``scripts/train_crisis.py``). It catches phrasings no pattern
   foresaw ("I've sorted out who gets my guitar"). The whole message and each of its
   sentences are scored; the highest counts.

Recall and false-positive rate on the held-out lists are in the README (``make eval-safety``).
"""

from __future__ import annotations

import re
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from claritymentor.errors import ConfigError, ModelLoadError
from claritymentor.sentence_encoder import SentenceEncoder

logger = logging.getLogger(__name__)

_P = [
    # explicit
    ("kill_self", r"\b(kill|killing|killed|hurt|hurting|harm|harming|cut|cutting|burn|burning)\s+myself\b"
                  r"(?!\s+(laughing|shaving|cooking|playing|running|training|by\s+accident|accidentally|"
                  r"on\s+(a|an|the|some|my)\s+(?!(arms?|wrists?|legs?|thighs?|stomach|skin|body|hips?)\b)|at\s+(the\s+)?(gym|work)|in\s+the\s+kitchen|while\s+(cooking|shaving)))"),
    # the words themselves fire, except as a topic (TOPIC_MENTION, below)
    ("suicide", r"\bsuicid(e|al)\b"),
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
    ("goodbye", r"\b(said|saying|written|wrote|writing)\s+(my\s+)?(a\s+)?goodbye(s)?(\s+(letters?|notes?|messages?|post))?\b"
                r"(?!\s+(to|at)\s+(the|this|that|our|my|all\s+my)\s+(old\s+|new\s+)?(team|colleagues|students|class|"
                r"house|home|flat|city|car|job|office|school|childhood|leaving|retirement|teacher|grandma's|"
                r"grandad's|friends\s+at\s+the\s+airport))"
                r"(?!\s+(card|party|drinks|do)\b)|\bsuicide\s+note\b"
                r"|\bgiv(e|ing)\s+away\s+(all\s+)?my\s+(things|stuff|belongings)\b"),
    ("not_around", r"\b(won'?t|will\s+not|not\s+going\s+to)\s+be\s+(around|here|alive)\s+(much\s+longer|for\s+long|next\s+(week|month|year))\b"),
]
PATTERNS = tuple((name, re.compile(rx, re.IGNORECASE)) for name, rx in _P)
# The words used as a topic, a field or a campaign ("an essay on suicide", "suicide
# prevention", "an overdose call"): taken out before the families are matched (the
# semantic layer still reads the whole message).
TOPIC_MENTION = re.compile(
    r"\b(lecture|lectures|talk|essay|paper|papers|article|module|course|documentary|film|book|novel|podcast|study|"
    r"studies|research|theory|history|statistics|training|seminar|workshop|campaign)\s+(on|about|of|into)\s+"
    r"(the\s+)?(suicide|self[-\s]?harm(ing)?)\b"
    r"|\b(suicid(e|al)|self[-\s]?harm(ing|ed)?)\s+(squad|prevention|awareness|research|rates?|statistics|"
    r"risk\s+factors|training|charity|charities|policy|policies|module|lecture|seminar|documentary|bomb(er|ers|ing)?)"
    r"|\boverdos(e|ing)\s+(calls?|patients?|management|deaths?|awareness|kits?|training|limits?|rates?|statistics|"
    r"on\s+(coffee|caffeine|sugar|chocolate|netflix|tv|sunshine))"
    # someone else's death or attempt, an idiom, a denial
    r"|\b(died|dies|die|death)\s+(by|of|from)\s+suicide\b|\blost\s+(\w+\s+){1,3}to\s+suicide\b"
    r"|\b(his|her|their|patient'?s|brother'?s|sister'?s|friend'?s)\s+suicide\s+attempt"
    r"|\b(career|social|political|commercial)\s+suicide\b|\bnot\s+suicidal\b", re.IGNORECASE)


@dataclass(frozen=True)
class CrisisCheck:
    """Whether a text contains crisis language, and which pattern families matched
    (``semantic`` when the semantic layer fired)."""

    crisis: bool
    matches: tuple[str, ...] = ()
    score: float | None = None  # the semantic layer's probability, when it ran


def _normalise(text: str) -> str:
    return " ".join(text.replace("’", "'").replace("‘", "'").split())


def check_crisis(text: str) -> CrisisCheck:
    """Look for self-harm or suicidal language in ``text``."""
    t = TOPIC_MENTION.sub(" ", _normalise(text or ""))
    names = tuple(name for name, rx in PATTERNS if rx.search(t))
    return CrisisCheck(crisis=bool(names), matches=names)


_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+|\s+(?:but|and then|so)\s+", re.IGNORECASE)


def _parts(text: str) -> list[str]:
    """The whole text and, when it has several, each sentence or clause of it."""
    parts = [p.strip() for p in _SENTENCE_END.split(text) if p and len(p.split()) >= 3]
    return [text] + (parts if len(parts) > 1 else [])


@dataclass(frozen=True)
class SemanticCrisisLayer:
    """sigmoid(w . x + b) on the unit embedding x of the crisis-tuned MiniLM; fires at ``threshold``."""

    encoder: SentenceEncoder  # MiniLM with the crisis LoRA merged
    weights: np.ndarray  # (dim,)
    bias: float
    threshold: float

    def score(self, text: str) -> float:
        x = self.encoder.encode(_parts(text))
        return float((1 / (1 + np.exp(-(x @ self.weights + self.bias)))).max())

    @classmethod
    def load(cls, encoder, head_path: Path) -> "SemanticCrisisLayer":
        if not head_path.is_file():
            raise ModelLoadError(f"the crisis head {head_path} is missing; train it with "
                                 "`.venv/bin/python scripts/train_crisis.py`")
        with np.load(head_path, allow_pickle=False) as z:
            return cls(encoder, z["weights"].astype(np.float32), float(z["bias"]), float(z["threshold"]))


class CrisisDetector:
    """Phrase families, then the semantic layer when there is one (the ``check`` that
    every turn's words go through)."""

    def __init__(self, semantic: SemanticCrisisLayer | None = None):
        self.semantic = semantic
        self.name = "phrases + semantic (fine-tuned MiniLM)" if semantic is not None else "phrases"

    def check(self, text: str) -> CrisisCheck:
        phrases = check_crisis(text)
        if self.semantic is None or not (text or "").strip():
            return phrases
        score = self.semantic.score(_normalise(text))
        fired = score >= self.semantic.threshold
        matches = phrases.matches + (("semantic",) if fired else ())
        return CrisisCheck(crisis=bool(matches), matches=matches, score=round(score, 4))


DEFAULT_FOLLOWUP = ("Earlier in this conversation the person said something that suggests they may be in crisis. "
                    "Be gentle, warm and brief, take what they say seriously, and encourage them to reach out "
                    "to someone they trust or a crisis line now.")


@dataclass(frozen=True)
class SafetyConfig:
    reply: str
    resources: str
    voice_emotion: str = "sadness"
    followup_guidance: str = DEFAULT_FOLLOWUP  # the mentor's guidance for every turn after a crisis turn


def load_safety_config(path: Path) -> SafetyConfig:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise ConfigError(f"{path} is missing; restore config/safety.yaml from the repository") from e
    if not isinstance(data, dict):
        raise ConfigError(f"{path.name}: expected a mapping with 'reply' and 'resources'")
    unknown = sorted(set(data) - {"reply", "resources", "voice_emotion", "followup_guidance"})
    if unknown:
        raise ConfigError(f"{path.name}: unknown key(s) {unknown}; valid: reply, resources, voice_emotion, "
                          "followup_guidance")
    for key in ("reply", "resources"):
        if not isinstance(data.get(key), str) or not data[key].strip():
            raise ConfigError(f"{path.name}: '{key}' must be a non-empty text")
    return SafetyConfig(reply=" ".join(data["reply"].split()), resources=" ".join(data["resources"].split()),
                        voice_emotion=str(data.get("voice_emotion", "sadness")),
                        followup_guidance=" ".join(str(data.get("followup_guidance") or DEFAULT_FOLLOWUP).split()))
