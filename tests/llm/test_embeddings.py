"""The optional embeddings backend through the same endpoint."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from agent.llm.embeddings import EndpointEncoder
from agent.llm.errors import LlmUnavailable
from agent.llm.settings import LlmSettings
from tests.llm.server import FakeOpenAI, embeddings, error


def test_vectors_come_back_in_order_normalised(server: FakeOpenAI, llm_settings: Callable[..., LlmSettings]) -> None:
    encoder = EndpointEncoder(llm_settings(embedding_model="test-embed"))
    server.queue(embeddings([[3.0, 4.0, 0.0], [0.0, 0.0, 2.0]]))
    vectors = encoder.encode(["reset my password", "refund please"])
    assert vectors.dtype == np.float32 and encoder.dim == 3 and encoder.name == "endpoint:test-embed"
    np.testing.assert_allclose(vectors, [[0.6, 0.8, 0.0], [0.0, 0.0, 1.0]], rtol=1e-6)
    path, body = server.requests[0]
    assert path.endswith("/embeddings") and body["model"] == "test-embed"
    assert body["input"] == ["reset my password", "refund please"]  # text, not client-side token ids


def test_a_server_error_is_retried_then_reported(server: FakeOpenAI, llm_settings: Callable[..., LlmSettings]) -> None:
    encoder = EndpointEncoder(llm_settings(embedding_model="test-embed", max_attempts=2, max_retry_wait_s=0))
    server.queue(error(503), embeddings([[1.0, 0.0]]))
    assert encoder.encode(["a"]).shape == (1, 2)
    server.queue(error(500), error(500))
    with pytest.raises(LlmUnavailable, match="embeddings"):
        encoder.encode(["b"])
    assert len(server.requests) == 4


def test_it_needs_an_embedding_model(llm_settings: Callable[..., LlmSettings]) -> None:
    with pytest.raises(ValueError, match=r"llm\.embedding_model"):
        EndpointEncoder(llm_settings())
