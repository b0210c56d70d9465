"""Recognition across caller voices (run: `uv run mediabloom bench recognition [options]`).

Speaks the multi-voice set (`tests/support/hearing_set.py`: names, phone numbers in groups
and digit by digit, card and policy numbers, amounts, dates, times, addresses) in several
synthetic voices (`worker/simulate/voices.py`: espeak-ng, flite, Piper, several speeds),
transcribes every line with the Whisper decoder the live call uses, and reads the slot the
agent asked for with the reading layer. Prints, per kind and per voice: word error rate
(numbers normalised to digits) and exact-value accuracy; and the decode time per utterance
(median, p90) with the machine's load average, since 2 shared cores make times noisy.

By default it decodes as the call does (MB_WHISPER_MODEL, MB_STT_HINTS); `--no-hints` is the
unbiased decoder. Compare engines with `--model tiny.en|base|PATH`, slot-biased decoding with `--bias`
(an initial prompt shaped like the slot the agent just asked for, or the times it offered: `--no-offered`
turns that off) and `--numeric` (digit
questions decode digits and carrier words only), and CTranslate2 threads with `--threads`. `--kinds`, `--voices` and `--limit` cut the run down.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.hearing_score import read_value, wer_counts  # noqa: E402
from tests.support.hearing_set import KINDS, Line, hearing_lines  # noqa: E402
from worker.engines.whisper_decode import SAMPLE_RATE, WhisperTranscriber  # noqa: E402
from worker.engines.whisper_models import resolve_whisper_model  # noqa: E402
from worker.engines.whisper_digits import DIGIT_SHAPES  # noqa: E402
from worker.engines.whisper_hints import decode_hint, offered_prompt  # noqa: E402
from worker.reading.vocabulary import DIGIT_SLOTS  # noqa: E402
from worker.settings import Settings  # noqa: E402
from worker.simulate.voices import CALLER_VOICES, Voice, speak  # noqa: E402

_PAD = np.zeros(int(0.3 * SAMPLE_RATE), dtype=np.float32)


def _table(title: str, rows: dict[str, dict[str, list[float]]], cols: list[str], fmt: str) -> None:
    print(f"\n{title}")
    width = max(12, *(len(c) for c in cols)) + 2
    print(" " * 22 + "".join(f"{c:>{width}}" for c in cols) + f"{'all':>{width}}")
    for row, by_col in rows.items():
        cells = [by_col.get(c, []) for c in cols]
        every = [x for c in cells for x in c]
        line = "".join(f"{(fmt.format(sum(c) / len(c)) if c else '-'):>{width}}" for c in cells)
        print(f"{row:<22}" + line + f"{fmt.format(sum(every) / len(every)):>{width}}")


def _confidence_table(results: list[dict]) -> None:
    """Whisper's confidence (exp of the mean token log-probability) of right vs wrong values,
    and what a read-back threshold would do: wrong values it catches, right ones it re-asks."""
    print("\nconfidence of right vs wrong values (median; read back under t: wrong caught / right re-asked)")
    for kind in dict.fromkeys(r["kind"] for r in results):
        right = [r["confidence"] for r in results if r["kind"] == kind and r["ok"]]
        wrong = [r["confidence"] for r in results if r["kind"] == kind and not r["ok"]]
        med = lambda xs: f"{statistics.median(xs):.2f}" if xs else "-"  # noqa: E731
        cells = "  ".join(
            f"t={t:.2f}: {sum(c < t for c in wrong)}/{len(wrong)} / {sum(c < t for c in right)}/{len(right)}"
            for t in (0.5, 0.6, 0.7, 0.8))
        print(f"{kind:<14} right {med(right)} wrong {med(wrong)}   {cells}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    defaults = Settings()
    parser.add_argument("--model", default=defaults.whisper_model,
                        help=f"tiny.en, base, or a CTranslate2 model dir (default: MB_WHISPER_MODEL={defaults.whisper_model})")
    parser.add_argument("--bias", action="store_true", help="prompt the decoder with the expected slot's shape")
    parser.add_argument("--hints", action=argparse.BooleanOptionalAction, default=defaults.stt_hints,
                        help=f"--bias --numeric, as the call with MB_STT_HINTS (default: {defaults.stt_hints})")
    parser.add_argument("--numeric", action="store_true",
                        help="for digit questions (phone, card, policy), let the decoder write only digits and "
                             "the words around them")
    parser.add_argument("--digit-count", action=argparse.BooleanOptionalAction, default=True,
                        help="with --numeric, a number with the wrong digit count for the slot is decoded again "
                             "with a beam, keeping the likeliest hypothesis with a right count (as the call does)")
    parser.add_argument("--offered", action=argparse.BooleanOptionalAction, default=True,
                        help="with --bias, the choices the agent offered (the times) are the prompt, as the call "
                             "does; --no-offered: the slot's fixed example")
    parser.add_argument("--threads", type=int, default=1, help="CTranslate2 CPU threads (the call uses 1)")
    parser.add_argument("--kinds", default=",".join(KINDS), help=f"comma list of {', '.join(KINDS)}")
    parser.add_argument("--voices", default=",".join(v.label for v in CALLER_VOICES),
                        help="comma list of engine:voice@speed")
    parser.add_argument("--limit", type=int, default=0, help="at most this many lines per kind (0: all)")
    parser.add_argument("--seed", type=int, default=10,
                        help="draw the set from this seed (10: the reported set; tune on another, e.g. 11)")
    parser.add_argument("--show-errors", action="store_true", help="print every wrong value")
    parser.add_argument("--json", type=Path, help="also write every result to this JSON file")
    args = parser.parse_args()
    if args.hints:
        args.bias = args.numeric = True

    kinds = tuple(k for k in args.kinds.split(",") if k)
    voices = [Voice.parse(v) for v in args.voices.split(",") if v]
    lines: list[Line] = []
    for kind in kinds:
        of_kind = hearing_lines((kind,), seed=args.seed)
        lines.extend(of_kind[: args.limit] if args.limit else of_kind)
    load_before = os.getloadavg()
    started = time.perf_counter()
    transcriber = WhisperTranscriber(model_path=resolve_whisper_model(args.model), cpu_threads=args.threads)
    transcriber.warmup()
    print(f"recognition bench: model={args.model} bias={args.bias} numeric={args.numeric} "
          f"digit_count={args.numeric and args.digit_count} threads={args.threads} "
          f"seed={args.seed} lines={len(lines)} voices={len(voices)} (load {time.perf_counter() - started:.1f}s)")

    value_ok: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    wer_num: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    edits: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    decode_ms: dict[str, list[float]] = defaultdict(list)
    results = []
    for voice in voices:
        for line in lines:
            audio = np.concatenate([_PAD, speak(voice, line.say), _PAD])
            offered = offered_prompt(line.asked or "", line.expecting) if args.offered else None
            prompt = (offered or decode_hint(line.expecting)) if args.bias else None
            t = time.perf_counter()
            numeric = args.numeric and line.expecting in DIGIT_SLOTS
            digits = DIGIT_SHAPES.get(line.expecting or "") if numeric and args.digit_count else None
            transcript = transcriber.transcribe(audio, prompt=prompt, numeric=numeric, digits=digits)
            heard = transcript.text
            ms = (time.perf_counter() - t) * 1000
            value = read_value(line, heard)
            e, n = wer_counts(line.text, heard)
            ok = value == line.value
            value_ok[line.kind][voice.label].append(float(ok))
            edits[line.kind][voice.label][0] += e
            edits[line.kind][voice.label][1] += n
            decode_ms[voice.label].append(ms)
            results.append({"voice": voice.label, "id": line.id, "kind": line.kind, "heard": heard,
                            "value": value, "expected": line.value, "ok": ok, "edits": e, "words": n,
                            "decode_ms": round(ms, 1), "confidence": round(transcript.confidence, 3),
                            "audio_s": round(audio.size / SAMPLE_RATE, 2)})
            if args.show_errors and not ok:
                print(f"  {voice.label:<24} {line.id:<16} {line.say!r} → {heard!r} → {value} (want {line.value})")
    cols = [v.label for v in voices]
    for kind, by_voice in edits.items():
        for label, (e, n) in by_voice.items():
            wer_num[kind][label] = [e / n] if n else []
    _table("exact-value accuracy (share of lines whose slot value is exactly right)", value_ok, cols, "{:.0%}")
    _table("word error rate (numbers as digits)", wer_num, cols, "{:.1%}")
    _confidence_table(results)
    every = [ms for v in decode_ms.values() for ms in v]
    print("\ndecode time per utterance (ms): " + "  ".join(
        f"{label}: p50 {statistics.median(v):.0f} p90 {np.percentile(v, 90):.0f}" for label, v in decode_ms.items()))
    print(f"all voices: p50 {statistics.median(every):.0f} ms, p90 {np.percentile(every, 90):.0f} ms, "
          f"mean audio {statistics.mean(r['audio_s'] for r in results):.1f} s")
    load_after = os.getloadavg()
    print(f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f} (2 shared cores: times are noisy)")
    total_ok = sum(r["ok"] for r in results)
    phones = [r["ok"] for r in results if r["kind"] in ("phone", "phone_digits")]
    print(f"overall exact values {total_ok}/{len(results)} ({total_ok / len(results):.0%})"
          + (f"; phone numbers {sum(phones)}/{len(phones)} ({sum(phones) / len(phones):.0%})" if phones else ""))
    if args.json:
        args.json.write_text(json.dumps({"model": args.model, "bias": args.bias, "numeric": args.numeric, "threads": args.threads,
                                         "results": results}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
