"""`ChatModel` over the openai client: OpenAI, Azure OpenAI, or any compatible server
(vLLM, Ollama, LiteLLM) at `OPENAI_BASE_URL`. It only translates: a completion to
`Completion`, the client's errors to `ModelUnavailable`. Retries and deadlines are the
drafter's, so the client is built with none of its own."""

from __future__ import annotations

import contextlib
from typing import Any, cast

import openai
from openai.types.chat import ChatCompletionMessageParam
from openai.types.shared_params import ResponseFormatJSONSchema

from bot.drafting.model import Completion, ModelUnavailable
from bot.settings import Settings


def _retry_after(error: openai.APIStatusError) -> float | None:
    """Seconds the server asked us to wait (Retry-After-Ms, then Retry-After)."""
    headers = error.response.headers
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is not None:
            with contextlib.suppress(ValueError):
                return max(0.0, float(value) * scale)
    return None


class OpenAIChat:
    def __init__(self, client: openai.AsyncOpenAI, *, model: str) -> None:
        self.client = client
        self.model = model

    async def complete(
        self, messages: list[dict[str, str]], *, response_format: dict[str, Any], time_left: float
    ) -> Completion:
        try:
            response = await self.client.chat.completions.create(
                model=self.model,
                messages=cast("list[ChatCompletionMessageParam]", messages),
                response_format=cast("ResponseFormatJSONSchema", response_format),
                timeout=time_left,
            )
        except openai.RateLimitError as error:
            raise ModelUnavailable("rate_limited", _retry_after(error)) from None
        except openai.APITimeoutError:
            raise ModelUnavailable("timeout") from None
        except (openai.InternalServerError, openai.APIConnectionError):
            raise ModelUnavailable("server_error") from None
        except openai.APIError:
            raise ModelUnavailable("error") from None
        usage = response.usage
        content = response.choices[0].message.content if response.choices else None
        return Completion(
            content,
            usage.prompt_tokens if usage else 0,
            usage.completion_tokens if usage else 0,
        )


def model_client(settings: Settings) -> openai.AsyncOpenAI | None:
    """Azure OpenAI through its own variables, else OpenAI or a compatible server at
    `OPENAI_BASE_URL`; None without a key (the template drafter writes every draft)."""
    provider = settings.model_provider
    if provider == "azure" and settings.azure_openai_api_key and settings.azure_openai_endpoint:
        return openai.AsyncAzureOpenAI(
            azure_endpoint=settings.azure_openai_endpoint,
            api_key=settings.azure_openai_api_key.get_secret_value(),
            api_version=settings.openai_api_version,
            timeout=settings.llm_timeout,
            max_retries=0,
        )
    if provider == "openai" and settings.openai_api_key:
        return openai.AsyncOpenAI(
            api_key=settings.openai_api_key.get_secret_value(),
            base_url=settings.openai_base_url or None,
            timeout=settings.llm_timeout,
            max_retries=0,
        )
    return None
