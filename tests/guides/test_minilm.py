"""The numpy forward pass of all-MiniLM-L6-v2 gives the vectors the reference library gives.

The reference figures were printed by sentence-transformers 6.3 (transformers
5.25) with PyTorch 2.13 (CPU) loading the same package's model directory,
`normalize_embeddings=True`: the first eight of the 384 values of each vector.
The last text is longer than the model's 256 tokens, so it also checks the
truncation.
"""

import numpy as np

from guides import minilm

LONG = " ".join(["Transformers replaced recurrent networks because attention parallelises."] * 40)
REFERENCE = {
    "How do I negotiate a job offer?": [
        -0.07159, 0.11239, -0.00792, 0.07399, -0.09828, -0.00795, 0.02736, -0.01832,
    ],
    "Do research roles need a PhD?": [
        0.02415, 0.01589, -0.00437, -0.00951, -0.05747, -0.04511, -0.04401, -0.0377,
    ],
    "A forward deployed engineer works with customers on site.": [
        -0.07134, -0.00412, 0.0309, -0.01602, -0.03407, -0.09428, 0.09149, -0.04314,
    ],
    LONG: [-0.0507, -0.02823, 0.05943, -0.07379, 0.00769, 0.05212, -0.07098, 0.00786],
}  # fmt: skip


def test_the_numpy_encoder_gives_the_reference_implementations_vectors():
    vectors = minilm.encode(list(REFERENCE))
    assert vectors.shape == (4, 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(vectors[:, :8], np.array(list(REFERENCE.values())), atol=1e-3)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    # The reference's cosines: the negotiation question is nearer the
    # engineer sentence (0.181) than the PhD question (-0.016).
    assert abs(float(vectors[0] @ vectors[2]) - 0.1807) < 2e-3
    assert abs(float(vectors[0] @ vectors[1]) - -0.0164) < 2e-3


def test_texts_encoded_together_get_the_vectors_they_get_alone():
    texts = ["salary", "how do I negotiate a higher salary and equity", LONG, ""]
    together = minilm.encode(texts)
    alone = np.vstack([minilm.encode([text]) for text in texts])
    np.testing.assert_allclose(together, alone, atol=1e-5)
    assert minilm.encode([]).shape == (0, 384)
