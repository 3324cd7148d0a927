"""The plain-transformers MiniLM encoder: unit embeddings that do not depend on what else
is in the batch, meaning-aware, and a clear refusal of encoders that do not mean-pool."""

import json
import shutil

import numpy as np
import pytest

from claritymentor.errors import ModelLoadError
from claritymentor.models_paths import minilm_dir
from claritymentor.sentence_encoder import load_sentence_encoder


@pytest.fixture(scope="module")
def encoder():
    return load_sentence_encoder("embedded")


def test_embeddings_are_unit_length_and_independent_of_the_batch(encoder):
    short, long_ = "ok", "I have three exams next week and I haven't started revising at all. " * 3
    alone = encoder.encode([short])
    together = encoder.encode([short, long_])  # padded to the long text's length
    assert np.allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(alone[0], together[0], atol=1e-5)
    assert encoder.encode([]).shape == (0, alone.shape[1])


def test_similar_sentences_are_closer_than_unrelated_ones(encoder):
    a, b, c = encoder.encode(["My exam is tomorrow and I'm nervous.",
                              "I'm anxious about the test I have tomorrow.",
                              "The bakery on the corner sells sourdough."])
    assert a @ b > a @ c + 0.3


def test_an_adapter_changes_the_embeddings(encoder, config):
    tuned = load_sentence_encoder("embedded", config.resolve(config.crisis.encoder_adapter))
    x, y = encoder.encode(["hello there"]), tuned.encode(["hello there"])
    assert not np.allclose(x, y, atol=1e-3)


def test_an_encoder_that_does_not_mean_pool_is_refused(tmp_path):
    folder = tmp_path / "cls_pooling"
    shutil.copytree(minilm_dir(), folder)
    cfg = folder / "1_Pooling" / "config.json"
    cfg.write_text(json.dumps({**json.loads(cfg.read_text()), "pooling_mode_mean_tokens": False,
                               "pooling_mode_cls_token": True}))
    with pytest.raises(ModelLoadError, match="mean"):
        load_sentence_encoder(str(folder))
