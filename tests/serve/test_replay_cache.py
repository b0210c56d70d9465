"""A signed request works once, across restarts and across servers sharing a data dir (item 9)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.serve.helpers import SIGNING_SECRET, make_settings, token_backend
from worker.serve import create_app, sign_request
from worker.settings import ConfigError

pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")

BODY = json.dumps({"room_name": "signed-room"}).encode()


async def test_a_signed_request_cannot_be_replayed_after_a_restart(tmp_path: Path) -> None:
    headers = sign_request(SIGNING_SECRET, BODY)
    async with token_backend(make_settings(data_dir=tmp_path)) as client:
        first = await client.post(BODY, auth="none", headers=headers)
    async with token_backend(make_settings(data_dir=tmp_path)) as restarted:
        replay = await restarted.post(BODY, auth="none", headers=headers)
        fresh = await restarted.post({"room_name": "another-room"}, auth="signature")
    assert first.status == 201, first
    assert replay.status == 401 and replay.body["error"]["code"] == "replayed_request"
    assert fresh.status == 201  # a newly signed request is still welcome


async def test_two_servers_on_one_data_dir_accept_a_signature_once(tmp_path: Path) -> None:
    headers = sign_request(SIGNING_SECRET, BODY)
    async with token_backend(make_settings(data_dir=tmp_path)) as one, token_backend(
        make_settings(data_dir=tmp_path)
    ) as two:
        statuses = sorted([(await one.post(BODY, auth="none", headers=headers)).status,
                           (await two.post(BODY, auth="none", headers=headers)).status])
    assert statuses == [201, 401]


async def test_a_corrupt_replay_cache_is_one_clear_error(tmp_path: Path) -> None:
    async with token_backend(make_settings(data_dir=tmp_path)) as client:  # creates the cache file
        assert (await client.post(BODY, auth="signature")).status == 201
    cache = next(tmp_path.glob("*.db"))
    cache.write_bytes(b"this is not a database" * 100)
    with pytest.raises(ConfigError) as refused:
        create_app(make_settings(data_dir=tmp_path))
    message = str(refused.value)
    assert str(cache) in message and "\n" not in message


def test_an_uncreatable_data_dir_is_one_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(ConfigError) as refused:
        create_app(make_settings(data_dir=blocker / "data"))
    assert "MB_DATA_DIR" in str(refused.value) and "\n" not in str(refused.value)
