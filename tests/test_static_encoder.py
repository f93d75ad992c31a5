"""personas.filter.encoder: static: a model2vec encoder distilled from the shipped MiniLM,
made once per machine, with a threshold of its own wherever near-duplicates are decided."""

import numpy as np
import pandas as pd
import pytest

from aloe.params import PersonaFilterParams
from aloe.personas.embeddings import Embedder, filter_embedder
from aloe.personas.filtering import filter_candidates

NURSE = "I am a retired nurse in Leeds; I keep bees and sing in a choir on Sundays."
NURSE_AGAIN = "I'm a retired nurse from Leeds who keeps bees and sings in a Sunday choir."
PILOT = "I fly cargo planes out of Anchorage and spend my winters fixing snowmobiles."


@pytest.fixture(scope="module")
def static(tmp_path_factory):
    from conftest import private_cache

    with pytest.MonkeyPatch.context() as env:  # embeddings of its own; the machine's model cache
        env.setenv("ALOE_CACHE_DIR", str(private_cache(tmp_path_factory.mktemp("static") / "cache")))
        yield Embedder(encoder="static")


def test_the_static_encoder_is_distilled_once_and_tells_a_paraphrase_from_another_person(static, monkeypatch):
    vectors = static.encode([NURSE, NURSE_AGAIN, PILOT])
    assert vectors.shape == (3, 256) and np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.2
    import model2vec.distill

    def refuse(**_):
        raise AssertionError("distilled a second time")

    monkeypatch.setattr(model2vec.distill, "distill", refuse)
    again = Embedder(encoder="static")  # a new process would find the cached model the same way
    fresh = again.encode(["A text no encoder has seen yet, about lighthouse keepers."])
    assert fresh.shape == (1, 256) and again.encoded == 1
    assert static._key(NURSE) != Embedder()._key(NURSE)  # the two encoders never share a cached vector


def test_the_static_encoder_brings_its_own_threshold_to_the_filter(static):
    minilm, chosen = PersonaFilterParams(), PersonaFilterParams(encoder="static", static_threshold=0.95)
    assert minilm.cutoff == minilm.threshold and chosen.cutoff == 0.95
    assert filter_embedder(chosen).encoder == "static"
    texts = [NURSE, NURSE_AGAIN, PILOT]
    frame = pd.DataFrame(
        [dict(kind="profile", text=t, status="ok", position=i, source="seed") for i, t in enumerate(texts)]
    )
    similarity = float(static.encode([NURSE])[0] @ static.encode([NURSE_AGAIN])[0])
    assert similarity < 0.95  # the paraphrase stays at 0.95 and goes at the calibrated default
    assert filter_candidates(frame, chosen, static)["reason"].isna().all()
    reasons = filter_candidates(frame, PersonaFilterParams(encoder="static"), static)["reason"].tolist()
    assert pd.isna(reasons[0]) and reasons[1] == "near_duplicate" and pd.isna(reasons[2])
