"""Rate limits: by credential (however it is spelled) and by failures, separately (issue 11, item 8).

A valid key spends its own bucket; failed requests spend the address's failure bucket and,
once it is empty, get 429 instead of their 4xx. Failures never block a valid key, because
behind the reverse proxy the README recommends every client shares one address.
"""

from __future__ import annotations

import pytest

from tests.serve.helpers import API_KEY, make_settings, token_backend
from worker.serve import sign_request

pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")

SPELLINGS = [f"Bearer {API_KEY}", f"bearer {API_KEY}", f"BEARER {API_KEY}", f"bEaReR {API_KEY}",
             f"Bearer  {API_KEY}", f"Bearer {API_KEY} ", f"Bearer\t{API_KEY}"]


async def test_respelling_the_scheme_does_not_reset_the_limit() -> None:
    async with token_backend(make_settings(token_rate_burst=3, token_rate_per_minute=6)) as client:
        statuses = [(await client.post({})).status for _ in range(3)]
        respelled = [(await client.post({}, auth="none", headers={"Authorization": s})).status for s in SPELLINGS]
    assert statuses == [201, 201, 201]
    assert respelled == [429] * len(SPELLINGS)


async def test_a_respelled_scheme_is_the_same_valid_key() -> None:
    async with token_backend(make_settings()) as client:
        statuses = [(await client.post({}, auth="none", headers={"Authorization": s})).status for s in SPELLINGS]
    assert statuses == [201] * len(SPELLINGS)


async def test_wrong_keys_from_the_same_address_never_lock_out_the_real_backend() -> None:
    async with token_backend(make_settings(token_rate_burst=3, token_rate_per_minute=6)) as client:
        guesses = [(await client.post({}, auth="none", headers={"Authorization": f"Bearer guess-{i}"})).status
                   for i in range(6)]
        real_backend = [(await client.post({})).status for _ in range(3)]
        signed = await client.post({}, auth="signature")
    assert guesses == [401, 401, 401, 429, 429, 429]
    assert real_backend == [201, 201, 201]
    assert signed.status == 201


async def test_failures_are_limited_whatever_credential_they_present() -> None:
    """Each guess presents a new 'credential': the failure bucket is the address's, not the key's."""
    async with token_backend(make_settings(token_rate_burst=2, token_rate_per_minute=6)) as client:
        statuses = [
            (await client.post({}, auth="none", headers={"Authorization": "Bearer a"})).status,
            (await client.post({}, auth="none", headers=sign_request("wrong-secret", b"{}"))).status,
            (await client.post({}, auth="none")).status,
            (await client.post({}, auth="none", headers={"Authorization": "bearer b"})).status,
        ]
        limited = await client.post({}, auth="none", headers={"Authorization": "Bearer c"})
    assert statuses == [401, 401, 429, 429]
    assert limited.body["error"]["code"] == "rate_limited" and 1 <= int(limited.headers["Retry-After"]) <= 30


async def test_the_signing_secret_has_its_own_bucket() -> None:
    async with token_backend(make_settings(token_rate_burst=2, token_rate_per_minute=6)) as client:
        keyed = [(await client.post({})).status for _ in range(3)]
        signed = [(await client.post({"room_name": f"r{i}"}, auth="signature")).status for i in range(3)]
    assert keyed == [201, 201, 429]
    assert signed == [201, 201, 429]
