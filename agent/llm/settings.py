"""Settings of the optional LLM: which OpenAI-compatible endpoint, what it costs, how much of it to use.

They nest into the service settings as `llm` (environment `TRIAGE_LLM__BASE_URL`, `TRIAGE_LLM__MODEL`,
`TRIAGE_LLM__API_KEY`, ...). Without them the agent runs the local path only and never imports the LLM
client libraries.
"""

from __future__ import annotations

from typing import Annotated, Literal

from annotated_types import Ge, Gt, Le
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Share = Annotated[float, Ge(0), Le(1)]
Price = Annotated[float, Ge(0)]


class LlmSettings(BaseModel):
    """One OpenAI-compatible chat endpoint (OpenAI, Azure OpenAI's v1 API, vLLM, Ollama) and its limits."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str = Field(min_length=1)
    """The model name the endpoint knows (`gpt-4o-mini`, `Qwen/Qwen2.5-7B-Instruct`, `llama3.1:8b`)."""
    base_url: str | None = None
    """The endpoint's `/v1` URL; None means OpenAI itself."""
    api_key: SecretStr | None = None
    """Self-hosted endpoints often need none; a placeholder is sent then (the client insists on one)."""
    timeout_s: Annotated[float, Gt(0)] = 20.0
    """Per request; a slower answer counts as a timeout."""
    max_attempts: Annotated[int, Ge(1), Le(5)] = 3
    """Attempts per call, first one included (the only retry layer: the client's own retries are off)."""
    max_retry_wait_s: Annotated[float, Ge(0)] = 10.0
    """The longest wait between attempts; a 429 asking for longer ends the call (the local path decides)."""
    structured_output: Literal["json_schema", "function_calling", "json_mode"] = "json_schema"
    """How answers are constrained: `json_schema` for OpenAI and vLLM, `json_mode` for older servers."""
    price_per_1k_input: Price = 0.0
    """Price (in your currency) per 1,000 prompt tokens; costs in the audit and the eval report use it."""
    price_per_1k_output: Price = 0.0
    daily_token_budget: Annotated[int, Gt(0)] = 1_000_000
    """Prompt plus completion tokens per UTC day; once spent, the LLM is switched off until midnight."""
    ask_below: Share | None = None
    """Ask the LLM when the local confidence is below this; None: below the category's own threshold."""
    max_share: Share = 0.3
    """At most this share of recent tickets may be sent to the LLM to classify (the rest: local path)."""
    share_window: Annotated[int, Ge(10)] = 200
    """How many recent tickets `max_share` is measured over."""
    max_confidence: Share | None = None
    """None (the safe default): an LLM-decided category keeps the local model's calibrated probability
    for it, capped under the category's threshold, so a reviewer approves every ticket the LLM decided
    (out-of-scope flags included). A number lets the LLM act alone: its own
    confidence (not calibrated), capped at this, is compared with the category's threshold. Measure with
    `triage eval` before raising it."""
    draft: bool = False
    """Write replies with the LLM (grounded in the retrieved articles) instead of framing the article."""
    embedding_model: str | None = None
    """An embeddings model on the same endpoint, for `EndpointEncoder` (optional)."""

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError(f"must start with http:// or https://, got {value!r}")
        return value.rstrip("/") if value else value

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        """What a call cost at the configured prices."""
        return input_tokens / 1000 * self.price_per_1k_input + output_tokens / 1000 * self.price_per_1k_output


class _LlmEnvironment(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TRIAGE_", env_nested_delimiter="__", extra="ignore")

    llm: LlmSettings | None = None


def llm_settings_from_env() -> LlmSettings | None:
    """The `TRIAGE_LLM__*` settings, for front ends that do not load the service settings (eval)."""
    return _LlmEnvironment().llm
