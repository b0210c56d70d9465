"""The keypad turns DTMF presses into one entry: `#` ends it, `*` clears it, a pause ends it;
an entry's digits never reach the log."""

from __future__ import annotations

import asyncio

from loguru import logger

from worker.phone.keypad import Keypad

CARD = "4242424242424242"


def _run(presses: list[tuple[str, float]], timeout: float = 0.2) -> tuple[list[str], list[str]]:
    entries: list[str] = []
    lines: list[str] = []

    async def on_entry(text: str) -> None:
        entries.append(text)

    async def main() -> None:
        pad = Keypad(on_entry, timeout=timeout, call_id="call_test")
        for key, wait in presses:
            pad.press(key)
            await asyncio.sleep(wait)
        await asyncio.sleep(timeout * 2)
        await pad.aclose()

    sink = logger.add(lambda m: lines.append(str(m)), level="DEBUG")
    try:
        asyncio.run(main())
    finally:
        logger.remove(sink)
    return entries, lines


def test_pound_ends_an_entry_and_digits_are_not_logged() -> None:
    entries, lines = _run([(k, 0.0) for k in CARD + "#"])
    assert entries == [CARD]
    assert any("keypad entry of 16 digits" in line for line in lines)
    assert not any(CARD in line or "4242" in line for line in lines)


def test_star_clears_and_a_pause_ends_an_entry() -> None:
    entries, _ = _run([("9", 0.0), ("9", 0.0), ("*", 0.0), ("1", 0.0), ("2", 0.0)], timeout=0.1)
    assert entries == ["12"]


def test_two_entries_in_order_and_junk_keys_ignored() -> None:
    entries, _ = _run([("1", 0.0), ("A", 0.0), ("#", 0.05), ("#", 0.0), ("3", 0.0), ("#", 0.0)])
    assert entries == ["1", "3"]


def test_a_failing_delivery_does_not_raise() -> None:
    async def on_entry(text: str) -> None:
        raise RuntimeError("session closed")

    async def main() -> int:
        pad = Keypad(on_entry, timeout=0.1)
        pad.press("5")
        pad.press("#")
        await pad.aclose()
        return pad.entries

    assert asyncio.run(main()) == 1
