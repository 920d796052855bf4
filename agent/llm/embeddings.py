"""An optional sentence encoder through the same OpenAI-compatible endpoint (`/v1/embeddings`).

It satisfies the `TextEncoder` protocol, so `train_pack(pack, encoder=EndpointEncoder(...))` can fit a
pack on it. Token counting on the client is off (`check_embedding_ctx_length=False`): it would fetch
tokenizer files at run time. Retries follow the chat client's rule: here, and only here.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from agent.llm.errors import LlmUnavailable
from agent.llm.settings import LlmSettings
from agent.models.encoder import Vector

_PLACEHOLDER_KEY = "not-needed"


def _transient(exc: BaseException) -> bool:
    import openai

    if isinstance(exc, openai.APIStatusError):
        return exc.status_code == 429 or exc.status_code >= 500
    return isinstance(exc, openai.APIConnectionError)  # timeouts included


class EndpointEncoder:
    """Embeds texts with the endpoint's embeddings model; vectors come back L2-normalised float32."""

    def __init__(self, settings: LlmSettings, batch_size: int = 64) -> None:
        if not settings.embedding_model:
            raise ValueError("llm.embedding_model: set it to use the endpoint's embeddings")
        from langchain_openai import OpenAIEmbeddings  # only when configured

        key = settings.api_key.get_secret_value() if settings.api_key else _PLACEHOLDER_KEY
        self._client: Any = OpenAIEmbeddings(
            model=settings.embedding_model, base_url=settings.base_url, api_key=key,  # type: ignore[arg-type]
            timeout=settings.timeout_s, max_retries=0, check_embedding_ctx_length=False, chunk_size=batch_size)
        self._attempts = settings.max_attempts
        self._max_wait = settings.max_retry_wait_s
        self.name = f"endpoint:{settings.embedding_model}"
        self.dim = 0
        """Known after the first call (the endpoint decides it)."""

    def encode(self, texts: list[str]) -> Vector:
        """Embed `texts` in order; LlmUnavailable when the endpoint does not answer after the retries."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        retrying = Retrying(stop=stop_after_attempt(self._attempts), retry=retry_if_exception(_transient),
                            wait=wait_exponential(multiplier=0.5, max=self._max_wait), reraise=True)
        try:
            rows = retrying(self._client.embed_documents, texts)
        except Exception as exc:
            import openai

            if isinstance(exc, openai.APIError):
                raise LlmUnavailable(f"embeddings endpoint failed: {exc}") from exc
            raise
        matrix = np.asarray(rows, dtype=np.float32)
        if matrix.ndim != 2 or matrix.shape[0] != len(texts):
            raise LlmUnavailable(f"embeddings endpoint returned {matrix.shape} for {len(texts)} texts")
        if self.dim and matrix.shape[1] != self.dim:
            raise LlmUnavailable(f"embeddings changed dimension: {matrix.shape[1]} instead of {self.dim}")
        self.dim = int(matrix.shape[1])
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        return (matrix / np.where(norms == 0, 1, norms)).astype(np.float32)
