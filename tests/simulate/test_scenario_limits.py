"""Hostile scenario files: each is refused at load time, in one line naming the file and the
line, within bounded time and memory, before a call starts.

The kinds: YAML that expands (a "billion laughs" of nested aliases, an alias to itself), YAML
that nests past Python's recursion limit, bytes that are not UTF-8 or characters YAML forbids,
files far larger than any script, values no constructor can build (a 10,000-digit number, the
13th month, a list as a key), fields out of range (a 10 MB `say:`, NaN, infinite or negative
timings), and WAV clips the runner could not play (24-bit, float, empty, truncated, a header
only, a directory, a pipe). A fuzz test then throws mutations of the shipped scenarios and
random bytes at the loader under the same bounds.
"""

from __future__ import annotations

import os
import re
import struct
import time
import tracemalloc
import wave
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from worker.simulate.scenario import MAX_SAY_CHARS, ScenarioError, load_scenario

ROOT = Path(__file__).resolve().parents[2]
HEAD = "name: x\nflow: insurance\n"
MAX_SECONDS = 2.0
MAX_PEAK_BYTES = 32 * 1024 * 1024


def laughs(levels: int = 9) -> str:
    """The classic: each level a list of nine aliases of the one before (9**9 strings)."""
    text = HEAD + 'l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    for i in range(1, levels):
        text += f"l{i}: &l{i} [" + ",".join([f"*l{i - 1}"] * 9) + "]\n"
    return text + "caller:\n  - say: hi\n"


def write_wav(path: Path, width: int = 2, channels: int = 1, rate: int = 16_000, frames: int = 1_600) -> bytes:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(b"\x01" * (frames * width * channels))
    return path.read_bytes()


def float_wav(path: Path) -> None:
    data = b"\x00" * 6_400
    fmt = struct.pack("<HHIIHH", 3, 1, 16_000, 64_000, 4, 32)  # WAVE_FORMAT_IEEE_FLOAT
    path.write_bytes(b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVEfmt " + struct.pack("<I", 16) + fmt
                     + b"data" + struct.pack("<I", len(data)) + data)


# (case id, file content, line the error must name, words the message must contain)
TEXT_CASES: list[tuple[str, str | bytes, int, str]] = [
    ("billion-laughs", laughs(), 7, "aliases are expanded"),  # l4: 9**5 strings
    ("alias-to-itself", HEAD + "caller: &c\n  - *c\n", 4, "refers to itself"),
    ("5000-deep-flow", HEAD + "caller: " + "[" * 5000 + "]" * 5000 + "\n", 3, "nested deeper"),
    ("5000-deep-block", HEAD + "x:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, 60)), 27, "nested deeper"),
    ("5000-deep-mapping", HEAD + "x: " + "{a: " * 5000 + "1" + "}" * 5000 + "\n", 3, "nested deeper"),
    ("latin-1", (HEAD + "caller:\n  - say: café\n").encode("latin-1"), 4, "not UTF-8"),
    ("binary", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8, 1, "not UTF-8"),
    ("nul-character", HEAD + "caller:\n  - say: a\x00b\n", 4, "not allowed"),
    ("10MB-say", HEAD + "caller:\n  - say: " + "a" * 10_000_000 + "\n", 1, "larger than"),
    ("long-say", HEAD + "caller:\n  - say: " + "a" * (MAX_SAY_CHARS + 1) + "\n", 4, "at most 1000 characters"),
    ("empty-say", HEAD + "caller:\n  - say: ''\n", 4, "at least 1 character"),
    ("nan-silence", HEAD + "caller:\n  - silence: .nan\n", 4, "finite"),
    ("negative-silence", HEAD + "caller:\n  - silence: -3\n", 4, "greater than or equal to 0"),
    ("nan-after-agent", HEAD + "caller:\n  - say: hi\n    after_agent: .NaN\n", 5, "finite"),
    ("negative-after-agent", HEAD + "caller:\n  - say: hi\n    after_agent: -0.5\n", 5, "greater than or equal"),
    ("infinite-barge-in", HEAD + "caller:\n  - say: hi\n    barge_in: .inf\n", 5, "finite"),
    ("hour-long-silence", HEAD + "caller:\n  - silence: 3600\n", 4, "less than or equal to 120"),
    ("infinite-max-seconds", HEAD + "max_seconds: .inf\ncaller:\n  - say: hi\n", 3, "finite"),
    ("zero-max-seconds", HEAD + "max_seconds: 0\ncaller:\n  - say: hi\n", 3, "greater than 0"),
    ("10000-digit-number", HEAD + "caller:\n  - say: hi\n    after_agent: " + "9" * 10_000 + "\n", 5, "cannot read"),
    ("impossible-date", HEAD + "today: 2026-13-45\ncaller:\n  - say: hi\n", 3, "cannot read"),
    ("list-as-key", HEAD + "caller:\n  - ? [a, b]\n    : hi\n", 4, "plain word"),
    ("too-many-lines", HEAD + "caller:\n" + "  - say: hi\n" * 201, 3, "at most 200"),
]


@pytest.fixture
def bounded() -> Iterator[None]:
    """Each load below must take under MAX_SECONDS and allocate under MAX_PEAK_BYTES."""
    tracemalloc.start()
    started = time.perf_counter()
    yield
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert elapsed < MAX_SECONDS * 3, f"took {elapsed:.1f} s (tracing slows it ~3x)"
    assert peak < MAX_PEAK_BYTES, f"allocated {peak / 1e6:.0f} MB"


def assert_one_line(exc: ScenarioError, path: Path, line: int, words: str) -> None:
    message = str(exc)
    assert message.startswith(str(path)), message
    assert re.findall(r"\bline (\d+)", message) == [str(line)], message
    assert words in message, message
    assert "\n" not in message and "\r" not in message and len(message) < 400


@pytest.mark.parametrize("content, line, words", [c[1:] for c in TEXT_CASES], ids=[c[0] for c in TEXT_CASES])
def test_a_hostile_file_is_one_line_at_load_within_bounds(tmp_path: Path, bounded: None, content: str | bytes,
                                                          line: int, words: str) -> None:
    path = tmp_path / "bad.yaml"
    if isinstance(content, str):
        path.write_text(content)
    else:
        path.write_bytes(content)
    with pytest.raises(ScenarioError) as exc:
        load_scenario(path)
    assert_one_line(exc.value, path, line, words)


WAV_CASES = ["24-bit", "8-bit", "float", "empty", "header-only", "truncated", "three-channels", "2-hz",
             "ten-minutes", "a-directory", "a-pipe"]


@pytest.mark.parametrize("case", WAV_CASES)
def test_a_wav_the_runner_cannot_play_is_refused_at_load(tmp_path: Path, bounded: None, case: str) -> None:
    clip = tmp_path / "clip.wav"
    words = {"24-bit": "24-bit", "8-bit": "8-bit", "float": "unknown format: 3", "empty": "not a PCM WAV",
             "header-only": "not a PCM WAV", "truncated": "truncated", "three-channels": "3 channels",
             "2-hz": "2 Hz", "ten-minutes": "lasts 600 s", "a-directory": "not a regular file",
             "a-pipe": "not a regular file"}[case]
    if case == "24-bit":
        write_wav(clip, width=3)
    elif case == "8-bit":
        write_wav(clip, width=1)
    elif case == "float":
        float_wav(clip)
    elif case == "empty":
        clip.write_bytes(b"")
    elif case == "header-only":
        clip.write_bytes(write_wav(clip)[:30])
    elif case == "truncated":
        clip.write_bytes(write_wav(clip)[:1_000])
    elif case == "three-channels":
        write_wav(clip, channels=3)
    elif case == "2-hz":
        write_wav(clip, rate=2)
    elif case == "ten-minutes":
        size = 600 * 8_000 * 2  # a header announcing ten minutes; the check reads no samples
        fmt = struct.pack("<HHIIHH", 1, 1, 8_000, 16_000, 2, 16)
        clip.write_bytes(b"RIFF" + struct.pack("<I", 36 + size) + b"WAVEfmt " + struct.pack("<I", 16) + fmt
                         + b"data" + struct.pack("<I", size))
    elif case == "a-directory":
        clip.mkdir()
    else:
        os.mkfifo(clip)  # opening it would block the load forever
    path = tmp_path / "s.yaml"
    path.write_text(HEAD + "caller:\n  - say: hi\n  - wav: clip.wav\n    barge_in: 0.3\n")
    with pytest.raises(ScenarioError) as exc:
        load_scenario(path)
    assert_one_line(exc.value, path, 5, words)
    assert "clip.wav" in str(exc.value)


@pytest.mark.parametrize("frames, channels", [(1_600, 1), (0, 1), (800, 2)])
def test_playable_wavs_load(tmp_path: Path, frames: int, channels: int) -> None:
    """Mono, stereo, and a clip with no samples (bad_audio.yaml plays one on purpose)."""
    write_wav(tmp_path / "clip.wav", channels=channels, frames=frames)
    path = tmp_path / "s.yaml"
    path.write_text(HEAD + "caller:\n  - wav: clip.wav\n")
    assert load_scenario(path).caller[0].wav == tmp_path / "clip.wav"


def test_small_anchors_still_work(tmp_path: Path) -> None:
    """Aliases are bounded, not banned: a shared expectation is fine."""
    path = tmp_path / "s.yaml"
    path.write_text(HEAD + "caller:\n  - say: hi\n    expect: &e {state: confirm}\n  - say: sure\n    expect: *e\n")
    scenario = load_scenario(path)
    assert [c.expect.state for c in scenario.caller if c.expect] == ["confirm", "confirm"]


# ---------------------------------------------------------------- fuzz
SHIPPED = sorted((ROOT / "scenarios").glob("*.yaml"))


def _mutate(data: bytes, edits: list[tuple[int, int, bytes]]) -> bytes:
    out = bytearray(data)
    for pos, cut, insert in edits:
        pos %= max(len(out), 1)
        out[pos : pos + cut] = insert
    return bytes(out)


_INSERTS = st.sampled_from([b"[", b"{", b"&a ", b"*a", b"!!binary ", b"\x00", b"\xff", b"\t", b": ", b"- ", b"\n  ",
                            b".nan", b"-1", b"9" * 5_000, b"'", b'"', b"? ", b"!!python/object:os.system ",
                            b"<<: *a\n", b"wav: x.wav\n", b"\xc3(", b"\r", b"%YAML 1.1\n---\n"])
_EDITS = st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 20), st.one_of(_INSERTS, st.binary(max_size=20))),
                  min_size=1, max_size=8)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(source=st.sampled_from(SHIPPED), edits=_EDITS, noise=st.one_of(st.none(), st.binary(max_size=4_096)))
def test_fuzz_loading_is_a_scenario_or_one_line_within_bounds(tmp_path: Path, source: Path,
                                                              edits: list[tuple[int, int, bytes]],
                                                              noise: bytes | None) -> None:
    path = tmp_path / "fuzz.yaml"
    path.write_bytes(noise if noise is not None else _mutate(source.read_bytes(), edits))
    tracemalloc.start()
    started = time.perf_counter()
    try:
        load_scenario(path)
    except ScenarioError as exc:
        message = str(exc)
        assert message.startswith(str(path)) and "\n" not in message
        assert re.search(r"\bline \d+|cannot read", message), message
    finally:
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert elapsed < MAX_SECONDS * 3 and peak < MAX_PEAK_BYTES

