"""Phone call latency at the caller's ear, through LiveKit SIP with a real SIP caller.

Starts the stack of tests/sip (Redis, livekit-server with Redis, livekit-sip, the line set up
with `mediabloom sip setup`, one worker), then places CALLS calls one after the other from a
PJSUA2 caller over G.711 (8 kHz) or G.722 (16 kHz). Each call: wait for the greeting, say two
lines, hang up. Measured on the caller's own recording (a 5 ms window with a peak above 300):

- INVITE → 200 OK (LiveKit SIP answers once the agent subscribes to the caller's track);
- 200 OK → first greeting sample heard (what a caller experiences as "answer latency");
- end of the caller's speech → first agent sample heard, per turn.

    uv run python bench/sip_answer_latency.py [--calls 3] [--codec PCMU|G722] [--json]

Prints one table (or JSON). It takes about a minute per call on 2 cores; run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.livekit.test_room_call import _start_worker, _stop_worker  # noqa: E402
from tests.sip.conftest import CALLER_ID, sip_setup  # noqa: E402
from tests.sip.phone_audio import caller_line, first_sound, last_sound, read_wav, run_caller  # noqa: E402
from tests.sip.stack import start_livekit, start_redis, start_sip  # noqa: E402

LINES = ["Hi, my name is Dana Whitfield.", "It's five one oh, four eight two, seven three nine one."]
CODECS = {"PCMU": ("PCMU/8000", 8000), "G722": ("G722/16000", 16000)}


def one_call(uri: str, codec: str, rate: int, work: Path) -> dict:
    work.mkdir(parents=True, exist_ok=True)
    wavs = [caller_line(text, rate, work / f"line{i}.wav") for i, text in enumerate(LINES)]
    steps: list[dict] = [{"wait_quiet": 1.0, "timeout": 60}]
    for wav in wavs:
        steps += [{"say": str(wav)}, {"wait_quiet": 1.2, "timeout": 45}]
    steps.append({"hangup": True})
    result = run_caller({"uri": uri, "from": CALLER_ID, "rate": rate, "codec": codec, "steps": steps}, work / "caller")
    heard, _ = read_wav(work / "caller" / "heard.wav")
    said, _ = read_wav(work / "caller" / "said.wav")
    says = [s for s in result["steps"] if "say" in s["step"]]
    answered = result["answered_at"]
    greeting = first_sound(heard, rate, answered or 0.0, says[0]["at"] if says else float("inf"))
    turns = []
    for step, nxt in zip(says, [s["at"] for s in says[1:]] + [len(heard) / rate]):
        end = last_sound(said, rate, step["ended"])
        first = first_sound(heard, rate, end, nxt) if end is not None else None
        turns.append(None if first is None else first - end)
    return {"invite_to_answer": answered, "answer_to_greeting": None if greeting is None else greeting - answered,
            "turns": turns}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--calls", type=int, default=3)
    p.add_argument("--codec", choices=sorted(CODECS), default="PCMU")
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    codec, rate = CODECS[args.codec]
    work = Path(tempfile.mkdtemp(prefix="sip-bench-"))
    procs = []
    worker = None
    try:
        redis, address = start_redis(work)
        procs.append(redis)
        livekit, server = start_livekit(work, address)
        procs.append(livekit)
        sip, sip_port = start_sip(work, server, address)
        procs.append(sip)
        sip_setup(server)
        worker = _start_worker(server, work / "data", work / "worker.log")
        calls = [one_call(f"sip:+15550100@127.0.0.1:{sip_port}", codec, rate, work / f"call{i}")
                 for i in range(args.calls)]
    finally:
        if worker is not None:
            _stop_worker(worker)
        for proc in reversed(procs):
            proc.stop()
    answers = [c["answer_to_greeting"] for c in calls if c["answer_to_greeting"] is not None]
    invites = [c["invite_to_answer"] for c in calls if c["invite_to_answer"] is not None]
    turns = [t for c in calls for t in c["turns"] if t is not None]
    summary = {
        "codec": codec, "calls": len(calls), "answered": len(invites),
        "invite_to_answer_p50": float(np.percentile(invites, 50)) if invites else None,
        "answer_to_greeting_p50": float(np.percentile(answers, 50)) if answers else None,
        "answer_to_greeting_max": max(answers) if answers else None,
        "turn_p50": float(np.percentile(turns, 50)) if turns else None,
        "turn_p95": float(np.percentile(turns, 95)) if turns else None,
        "turns_measured": len(turns), "turns_without_reply": sum(t is None for c in calls for t in c["turns"]),
        "per_call": calls,
    }
    if args.json:
        print(json.dumps(summary, indent=1))
    else:
        print(f"{codec}: {summary['answered']}/{summary['calls']} calls answered; INVITE→200 OK p50 "
              f"{summary['invite_to_answer_p50']:.2f} s; 200 OK→greeting at the ear p50 "
              f"{summary['answer_to_greeting_p50']:.2f} s (max {summary['answer_to_greeting_max']:.2f} s); "
              f"end of speech→agent at the ear p50 {summary['turn_p50']:.2f} s p95 {summary['turn_p95']:.2f} s "
              f"over {summary['turns_measured']} turns ({summary['turns_without_reply']} without a reply)")
    return 0 if summary["answered"] == summary["calls"] and not summary["turns_without_reply"] else 1


if __name__ == "__main__":
    sys.exit(main())
