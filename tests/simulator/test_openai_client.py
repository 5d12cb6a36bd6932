"""The official openai package, pointed at the served gateway, runs a batch and a conversation."""

from __future__ import annotations

import pytest

from batchgw.simulator import serve
from tests.simulator.conftest import make_gateway

openai = pytest.importorskip("openai")


def test_openai_batch_workflow_and_chained_responses(redis_url: str) -> None:
    gateway = make_gateway(2)
    with serve(gateway, redis_url=redis_url) as served:
        common = {
            "api_key": "client-key-never-forwarded",
            "default_headers": {"Ocp-Apim-Subscription-Key": served.subscription_key},
            "max_retries": 4,
        }
        with openai.OpenAI(base_url=served.url + "/openai-sticky", **common) as client:
            uploaded = client.files.with_raw_response.create(
                file=(
                    "input.jsonl",
                    b'{"custom_id": "a", "method": "POST", "url": '
                    b'"/chat/completions", "body": {}}\n',
                ),
                purpose="batch",
            )
            region = uploaded.headers["x-backend-region"]
            file = uploaded.parse()
            batch = client.batches.create(
                input_file_id=file.id, endpoint="/v1/chat/completions", completion_window="24h"
            )
            for _ in range(5):
                batch = client.batches.retrieve(batch.id)
                if batch.status == "completed":
                    break
            assert batch.status == "completed" and batch.output_file_id
            content = client.files.content(batch.output_file_id)
            assert f'"region": "{region}"' in content.text
        with openai.OpenAI(base_url=served.url + "/openai-realtime", **common) as client:
            first = client.responses.create(model="gpt-4o", input="hello")
            second = client.responses.create(
                model="gpt-4o", input="again", previous_response_id=first.id
            )
            with client.responses.create(
                model="gpt-4o", input="stream", stream=True, previous_response_id=second.id
            ) as stream:
                events = [event.type for event in stream]
            assert events[-1] == "response.completed"
            assert client.responses.retrieve(second.id).previous_response_id == first.id
