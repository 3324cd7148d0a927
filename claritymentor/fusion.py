"""Fuse the words' emotion with the voice's arousal into one perceived emotion.

Rules, in order (weights in ``voice_config.yaml`` under ``fusion``):

1. ``text_only``: no usable prosody (typed turn, or prosody confidence under
   ``prosody_min_confidence``): the text decides label and confidence.
2. ``neutral_lift``: the words are neutral but the voice is agitated (arousal at or
   above ``arousal_lift_threshold``): part of the neutral mass moves to whichever of
   anger / fear / joy the text scored highest, in proportion to arousal and prosody
   confidence. "I'm fine" said loudly and fast is not read as calm.
3. ``agreement``: the voice's arousal matches the text label's usual arousal (anger,
   fear, joy, surprise high; sadness low): confidence rises by ``agreement_boost``
   times the prosody confidence.
4. ``conflict``: the voice clearly points the other way (calm voice, angry words; or
   agitated voice, sad words): the text still decides the label, but confidence falls
   by ``conflict_penalty`` times the prosody confidence.
5. ``low_confidence``: if the resulting confidence is under ``min_confidence`` the
   perceived emotion is neutral with confidence 1 - that confidence (the rule name
   keeps the reason).
"""

from __future__ import annotations

from claritymentor.config import FusionConfig
from claritymentor.types import FusedEmotion, ProsodyReading, TextEmotion

HIGH_AROUSAL = frozenset({"anger", "fear", "joy", "surprise"})
LOW_AROUSAL = frozenset({"sadness"})
LIFT_TARGETS = ("anger", "fear", "joy")


def _expected_arousal(label: str) -> int:
    return 1 if label in HIGH_AROUSAL else -1 if label in LOW_AROUSAL else 0


def fuse(text: TextEmotion, prosody: ProsodyReading | None, cfg: FusionConfig) -> FusedEmotion:
    """One perceived emotion from the two channels; see the module docstring for the rules."""
    scores = dict(text.scores)
    label, confidence = text.label, text.confidence
    usable = prosody is not None and prosody.confidence >= cfg.prosody_min_confidence
    rule = "text_only"
    if usable:
        a, pc = prosody.arousal, prosody.confidence
        expected = _expected_arousal(label)
        if label == "neutral" and a >= cfg.arousal_lift_threshold:
            target = max(LIFT_TARGETS, key=lambda e: scores[e])
            moved = scores["neutral"] * min(1.0, a * pc * 1.5)
            scores["neutral"] -= moved
            scores[target] += moved
            label = max(scores, key=scores.get)
            confidence = scores[label]
            rule = "neutral_lift"
        elif expected != 0 and a * expected >= cfg.arousal_lift_threshold:
            confidence = min(1.0, confidence + cfg.agreement_boost * pc)
            rule = "agreement"
        elif expected != 0 and a * expected <= -cfg.arousal_lift_threshold:
            confidence = max(0.0, confidence - cfg.conflict_penalty * pc)
            rule = "conflict"
        else:
            rule = "text_decides"
    if confidence < cfg.min_confidence and label != "neutral":
        rule = f"low_confidence({rule})"
        label = "neutral"
        confidence = 1.0 - confidence  # how weak the evidence for any emotion was
    return FusedEmotion(label=label, confidence=round(float(confidence), 3),
                        scores={k: round(float(v), 4) for k, v in scores.items()},
                        rule=rule, text=text, prosody=prosody)
