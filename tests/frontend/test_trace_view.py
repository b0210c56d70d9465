"""`mediabloom trace`: the terminal view and the standalone HTML page of one recorded call."""

from __future__ import annotations

import base64
import io
import re
import wave
from pathlib import Path

import pytest
from rich.console import Console

from tests.frontend.trace_fixture import write_call
from worker.cli import main
from worker.trace.html import render_html
from worker.trace.records import Latencies
from worker.trace.story import TraceNotFound, load_story, waterfall
from worker.trace.view import print_story


def test_waterfall_lays_steps_end_to_end_and_total_from_zero() -> None:
    bars = waterfall(Latencies(eos_to_final_transcript=0.5, planner_ttft=0.1, tts_first_audio=0.2, eos_to_first_audio=0.9))
    assert [(b.label, b.start, b.seconds) for b in bars] == [
        ("transcript", 0.0, 0.5), ("planner", 0.5, 0.1), ("synthesis", pytest.approx(0.6), 0.2), ("total", 0.0, 0.9)]
    assert waterfall(Latencies()) == []


def test_terminal_view_shows_each_turn_with_tools_rejections_transitions_and_bars(tmp_path: Path) -> None:
    write_call(tmp_path)
    console = Console(record=True, width=120)
    print_story(load_story("call_fixture01", tmp_path, tmp_path / "data"), console)
    text = console.export_text()
    assert "turn 1" in text and "schedule → confirm" in text
    assert "book_tour" in text and "L-104" in text and "T-0001" in text
    assert "rejected cancel_tour by state_machine" in text
    assert "⟂ cut off" in text and "planned: You're booked for 11 AM tomorrow" in text
    assert re.search(r"total\s+█+\s+800 ms", text)


def test_html_page_is_standalone_with_playable_recording_and_turn_times(tmp_path: Path) -> None:
    write_call(tmp_path)
    page = render_html(load_story("call_fixture01", tmp_path, tmp_path / "data"))
    assert "http://" not in page and "https://" not in page and "<link" not in page and 'src="http' not in page
    assert "Book the Grand &lt;Ave&gt; tour" in page  # escaped
    assert 'data-tool="book_tour"' in page and "rejected cancel_tour" in page and "⟂ cut off" in page
    assert 'data-turn="1" data-at="2.250"' in page  # plays from when the caller started speaking
    assert page.count('class="row ') == 4
    uri = re.search(r'src="data:audio/wav;base64,([^"]+)"', page)
    assert uri is not None
    with wave.open(io.BytesIO(base64.b64decode(uri.group(1)))) as w:
        assert (w.getnchannels(), w.getframerate()) == (2, 12000)
        assert abs(w.getnframes() / w.getframerate() - 6.0) < 0.01


def test_cli_writes_html_and_reports_a_missing_call(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_call(tmp_path)
    out = tmp_path / "page.html"
    assert main(["trace", "call_fixture01", "--runs", str(tmp_path), "--html", str(out)]) == 0
    assert out.read_text().startswith("<!doctype html>")
    assert main(["trace", "call_nope", "--runs", str(tmp_path)]) == 2
    assert "no trace for call call_nope" in capsys.readouterr().err
    with pytest.raises(TraceNotFound):
        load_story("../etc", tmp_path, tmp_path)
