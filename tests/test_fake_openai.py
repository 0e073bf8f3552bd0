"""The fake OpenAI, driven by the real `openai` client: if the fake drifts from the wire format
(bodies, errors, headers, Azure routes) or its counting and waiting break, these fail."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import openai
import pytest

from tests.fakes.openai import (
    Answer,
    Failure,
    FakeOpenAI,
    Hang,
    Recorded,
    numbered_drafts,
)

REPO = Path(__file__).resolve().parents[1]
MESSAGES: list[Any] = [
    {"role": "system", "content": "You write posts."},
    {"role": "user", "content": "Share https://example.com/launch please"},
]


@pytest.fixture
async def fake() -> AsyncIterator[FakeOpenAI]:
    server = FakeOpenAI()
    await server.start()
    yield server
    await server.close()


@pytest.fixture
async def client(fake: FakeOpenAI) -> AsyncIterator[openai.AsyncOpenAI]:
    api = openai.AsyncOpenAI(base_url=fake.url, api_key="sk-test", max_retries=0)
    yield api
    await api.close()


async def ask(api: openai.AsyncOpenAI, text: str = "hi", **options: Any) -> str:
    """One call, its text: the shape the bot uses."""
    completion = await api.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": text}], **options
    )
    return completion.choices[0].message.content or ""


async def test_an_answer_parses_and_the_request_is_recorded(
    fake: FakeOpenAI, client: openai.AsyncOpenAI
) -> None:
    fake.responder = lambda _r: Answer("Hello there", prompt_tokens=12, completion_tokens=3)
    completion = await client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)

    choice = completion.choices[0]
    assert choice.message.content == "Hello there"
    assert choice.message.role == "assistant"
    assert choice.finish_reason == "stop"
    assert completion.model == "gpt-4o-mini"
    assert completion.id.startswith("chatcmpl-")
    assert completion.usage is not None
    assert completion.usage.total_tokens == 15
    assert completion._request_id is not None
    assert completion._request_id.startswith("req_")

    [request] = fake.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == "Bearer sk-test"
    assert request.headers.get("Authorization") == "Bearer sk-test"
    assert "AUTHORIZATION" in request.headers
    assert request.body["model"] == "gpt-4o-mini"
    assert request.messages == MESSAGES
    assert request.prompt_text == "You write posts.\nShare https://example.com/launch please"
    assert (fake.in_flight, fake.max_in_flight) == (0, 1)


async def test_dict_content_arrives_as_json_and_finish_reason_is_kept(
    fake: FakeOpenAI, client: openai.AsyncOpenAI
) -> None:
    drafts = {"linkedin": "Été à Paris", "x": "short", "angle": "launch"}
    fake.responder = lambda _r: Answer(drafts, finish_reason="length")
    completion = await client.chat.completions.create(model="m", messages=MESSAGES)
    assert json.loads(completion.choices[0].message.content or "") == drafts
    assert completion.choices[0].finish_reason == "length"


async def test_a_429_carries_retry_after_to_the_client(
    fake: FakeOpenAI, client: openai.AsyncOpenAI
) -> None:
    fake.script(Failure(429, retry_after=1, message="slow down"))
    with pytest.raises(openai.RateLimitError) as caught:
        await ask(client)
    error = caught.value
    assert error.response.headers["retry-after"] == "1"
    assert error.status_code == 429
    assert error.code == "rate_limit_exceeded"
    assert "slow down" in error.message
    assert error.request_id is not None
    assert len(fake.requests) == 1  # max_retries=0: nobody retried behind our back
    assert await ask(client) == "{}"  # the script is spent: the default answer again


async def test_a_500_is_an_internal_server_error_without_retry_after(
    fake: FakeOpenAI, client: openai.AsyncOpenAI
) -> None:
    fake.script(Failure(500, message="boom"))
    with pytest.raises(openai.InternalServerError) as caught:
        await ask(client)
    assert caught.value.status_code == 500
    assert "retry-after" not in caught.value.response.headers
    assert isinstance(caught.value.body, dict)
    assert caught.value.body["message"] == "boom"


async def test_a_hang_times_the_client_out_and_close_is_prompt(
    fake: FakeOpenAI, client: openai.AsyncOpenAI
) -> None:
    fake.script(Hang())
    with pytest.raises(openai.APITimeoutError):
        await ask(client, timeout=0.5)
    assert fake.in_flight == 1  # the fake is still holding it
    loop = asyncio.get_running_loop()
    started = loop.time()
    await fake.close()
    assert loop.time() - started < 0.5
    assert fake.in_flight == 0


async def test_release_ends_hangs_with_a_503_and_later_hangs_hang_again(
    fake: FakeOpenAI, client: openai.AsyncOpenAI
) -> None:
    fake.responder = lambda _r: Hang()
    first = asyncio.create_task(ask(client))
    await fake.wait_in_flight(1)
    fake.release()
    with pytest.raises(openai.InternalServerError) as caught:
        await first
    assert caught.value.status_code == 503
    assert fake.in_flight == 0

    second = asyncio.create_task(ask(client))
    await fake.wait_in_flight(1)
    assert not second.done()
    fake.release()
    with pytest.raises(openai.InternalServerError):
        await second


async def test_azure_requests_reach_the_deployment_path_with_api_key(fake: FakeOpenAI) -> None:
    fake.responder = lambda r: Answer(f"deployment {r.path.split('/')[3]}")
    azure = openai.AsyncAzureOpenAI(
        azure_endpoint=fake.azure_endpoint,
        api_key="az-test",
        api_version="2024-10-21",
        max_retries=0,
    )
    try:
        completion = await azure.chat.completions.create(model="gpt-x", messages=MESSAGES)
    finally:
        await azure.close()
    assert completion.choices[0].message.content == "deployment gpt-x"
    [request] = fake.requests
    assert request.path == "/openai/deployments/gpt-x/chat/completions"
    assert request.query == {"api-version": "2024-10-21"}
    assert request.headers["api-key"] == "az-test"
    assert "authorization" not in request.headers


async def test_the_gate_holds_n_concurrent_calls_then_lets_them_all_through(
    fake: FakeOpenAI, client: openai.AsyncOpenAI
) -> None:
    n = 8
    fake.responder = lambda r: Answer(r.prompt_text.upper())
    fake.hold()
    calls = [asyncio.create_task(ask(client, f"call {i}")) for i in range(n)]
    await fake.wait_in_flight(n)
    assert len(await fake.wait_for(n)) == n  # all recorded while none is answered
    assert not any(c.done() for c in calls)
    assert fake.max_in_flight == n

    fake.open_gate()
    answers = await asyncio.gather(*calls)
    assert sorted(answers) == sorted(f"CALL {i}" for i in range(n))
    assert (fake.in_flight, fake.max_in_flight) == (0, n)


async def test_script_goes_first_in_order_then_the_responder(
    fake: FakeOpenAI, client: openai.AsyncOpenAI
) -> None:
    fake.responder = lambda _r: Answer("default")
    fake.script(Answer("one"), Failure(500), Answer("two"))
    assert await ask(client) == "one"
    with pytest.raises(openai.InternalServerError):
        await ask(client)
    assert await ask(client) == "two"
    assert await ask(client) == "default"
    fake.responder = lambda _r: Answer("reassigned")
    assert await ask(client) == "reassigned"
    assert len(fake.requests) == 5


async def test_requests_are_recorded_on_arrival_before_the_delay(
    fake: FakeOpenAI, client: openai.AsyncOpenAI
) -> None:
    fake.script(Answer("late", delay=0.3))
    pending = asyncio.create_task(ask(client, "first https://a.example/x"))
    [seen] = await fake.wait_for(1, lambda r: "a.example" in r.prompt_text)
    assert not pending.done()
    assert fake.in_flight == 1
    assert seen.messages[0]["content"] == "first https://a.example/x"
    assert await pending == "late"
    with pytest.raises(TimeoutError):
        await fake.wait_for(2, within=0.2)


async def test_numbered_drafts_differ_per_request_and_quote_the_url(fake: FakeOpenAI) -> None:
    fake.responder = numbered_drafts(0.0)
    api = openai.AsyncOpenAI(base_url=fake.url, api_key="sk-test", max_retries=0)
    try:
        first = json.loads(await ask(api, "Post about https://example.com/a today"))
        again = json.loads(await ask(api, "Post about https://example.com/a today"))
        second = json.loads(await ask(api, "Post about https://example.com/b. Thanks"))
        bare = json.loads(await ask(api, "no link here"))
    finally:
        await api.close()
    assert set(first) == set(again) == set(second) == {"linkedin", "x", "angle"}
    assert all(first[key] != again[key] for key in first)  # the same prompt, other texts
    assert first["linkedin"] != second["linkedin"]
    assert "https://example.com/a" in first["linkedin"]
    assert "https://example.com/a" in first["x"]
    assert "https://example.com/b." in second["linkedin"]  # the first \S+ run, as specified
    assert "http" not in bare["x"]


@pytest.mark.slow
async def test_the_benchmark_process_answers_many_calls_concurrently(tmp_path: Path) -> None:
    port_file = tmp_path / "port"
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "tests.fakes.openai", "--port", "0", "--delay", "0.5"),
        *("--port-file", str(port_file)),
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        async with asyncio.timeout(15):
            banner = (await process.stdout.readline()).decode()  # printed once listening
        port = port_file.read_text()
        assert banner.strip().endswith(f"127.0.0.1:{port}/v1")
        api = openai.AsyncOpenAI(
            base_url=f"http://127.0.0.1:{port}/v1", api_key="sk-test", max_retries=0
        )
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            texts = await asyncio.gather(
                *(ask(api, f"item https://example.com/{i}") for i in range(100))
            )
        finally:
            await api.close()
        assert loop.time() - started < 5  # 100 x 0.5 s would take 50 s one at a time
        drafts = [json.loads(t) for t in texts]
        assert len({d["linkedin"] for d in drafts}) == 100
        assert all(f"https://example.com/{i}" in d["x"] for i, d in enumerate(drafts))
    finally:
        process.terminate()
        await process.wait()


def test_recorded_prompt_text_reads_text_parts() -> None:
    recorded = Recorded(
        "/v1/chat/completions",
        {},
        {},
        {
            "messages": [
                {"role": "system", "content": "rules"},
                {"role": "user", "content": [{"type": "text", "text": "part one"}]},
                {"role": "assistant", "content": None},
            ]
        },
    )
    assert recorded.prompt_text == "rules\npart one"
