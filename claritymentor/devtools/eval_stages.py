"""Stand-in stages for the text-only evaluations of the mentor (``scripts/eval_lora.py``,
``scripts/eval_topic_switch.py``): the data set's emotion tag instead of the classifier, so
every model gets the same guidance, and no speech."""

from __future__ import annotations

from claritymentor.config import EMOTIONS
from claritymentor.types import TextEmotion


class TaggedEmotion:
    """The words' emotion as tagged in the data set (set ``label`` before each turn)."""

    name = "tagged"

    def __init__(self):
        self.label = "neutral"

    def classify(self, text):
        return TextEmotion({e: (1.0 if e == self.label else 0.0) for e in EMOTIONS}, "tagged")


class Silent:
    """A TTS stage that speaks nothing (the evaluations read the text only)."""

    name = "silent"

    def synthesize(self, text, style):
        return None
