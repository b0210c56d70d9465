"""The `mediabloom` command: run simulated calls, print schemas (more jobs join here).

Errors an operator can fix (bad scenario, missing key, a bad MB_* value, an unusable data dir or
journal file) end with `error: <one sentence>` and exit status 2 instead of a stack trace; an
unexpected error ends with one line and status 1 (its traceback, without variable values, is
logged at DEBUG).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import sys
from pathlib import Path
from typing import Any

from loguru import logger

from worker.logs import setup_logging
from worker.settings import LOG_LEVELS, ConfigError, load_settings


def _simulate(args: argparse.Namespace) -> int:
    from worker.simulate.report import print_report
    from worker.simulate.runner import SimulatedCall, summary
    from worker.simulate.scenario import ScenarioError, load_scenario

    settings = load_settings()
    try:
        scenario = load_scenario(Path(args.scenario))
        settings.check_engines()
    except (ScenarioError, ConfigError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    result = asyncio.run(SimulatedCall(scenario, settings, Path(args.out)).run())
    if args.json:
        print(json.dumps(summary(result), indent=2, default=str))
    else:
        print_report(result)
    return 0 if result.ok else 1


def _schema(args: argparse.Namespace) -> int:
    from worker.simulate.scenario import Scenario
    from worker.trace.records import TurnTrace

    model: Any = {"trace": TurnTrace, "scenario": Scenario}[args.what]
    print(json.dumps(model.model_json_schema(), indent=2))
    return 0


def _with_journal(job: Any) -> int:
    """Open the existing journal (never creating a key or a journal), run `job(journal)`, close it.

    A missing key or journal is the operator's to fix: one line and exit 2.
    """
    from tools.journal.signing import JournalKeyError
    from tools.journal.store import JournalError
    from worker.journaling import open_journal

    settings = load_settings()

    async def main() -> int:
        journal = await open_journal(settings, create=False)
        try:
            return int(await job(journal))
        finally:
            await journal.store.close()

    try:
        return asyncio.run(main())
    except (JournalKeyError, JournalError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except sqlite3.DatabaseError as exc:  # a damaged file, not a bug: name it (never a URL's password)
        where = (settings.journal_url or f"sqlite:///{settings.data_dir / 'journal.db'}").split("@")[-1]
        raise ConfigError(f"the journal {where} cannot be read ({exc}); restore it from a backup or point "
                          "MB_JOURNAL_URL elsewhere.") from None


def _replay(args: argparse.Namespace) -> int:
    from worker.replay import replay_call

    async def job(journal: Any) -> int:
        report = await replay_call(journal.store, args.call_id)
        if args.json:
            print(report.model_dump_json(indent=2))
        elif report.status == "identical":
            print(f"replay of {args.call_id}: identical — {report.events} events, {report.decisions} decisions, "
                  f"{report.transitions} transitions, {report.tool_results} tool results (final state "
                  f"{report.final_state})")
        elif report.status == "interrupted":
            print(f"replay of {args.call_id}: identical as far as recorded ({report.events} events, final state "
                  f"{report.final_state}); INTERRUPTED: {report.divergence}")
        elif report.status == "unknown_call":
            print(f"replay: {report.divergence} (check the call id)")
        else:
            print(f"replay of {args.call_id} DIVERGED: {report.divergence}")
        return {"identical": 0, "interrupted": 0, "diverged": 1, "unknown_call": 3}[report.status]

    return _with_journal(job)


def _resume(args: argparse.Namespace) -> int:
    from worker.resume import BACKEND_MISSING, NOT_FAILED, resume_calls

    async def job(journal: Any) -> int:
        outcomes = await resume_calls(journal, load_settings(), args.call_id)
        for o in outcomes:
            if o.ok:
                print(f"{o.name}: completed")
            elif o.error_code in NOT_FAILED:
                print(f"{o.name}: {o.error_code} — {o.error_message}")
            else:
                print(f"{o.name}: failed: {o.error_code} — {o.error_message}")
        if not outcomes:
            print("nothing to resume")
        if any(o.error_code == BACKEND_MISSING for o in outcomes):
            return 2
        return 0 if all(o.ok or o.error_code in NOT_FAILED for o in outcomes) else 1

    return _with_journal(job)


def _audit(args: argparse.Namespace) -> int:
    from worker import audit

    async def job(journal: Any) -> int:
        if args.audit_command == "show":
            return await audit.show(journal.store, args.call_id, as_json=args.json)
        return await audit.verify(journal.store, args.call_id, as_json=args.json)

    return _with_journal(job)


def _serve(args: argparse.Namespace) -> int:
    """Run the token backend; a missing LiveKit key pair or API key ends with one line and exit 2."""
    from worker.serve import create_app, serve_forever

    settings = load_settings()
    app = create_app(settings)  # validates the configuration before anything binds a port (ConfigError: exit 2)
    serve_forever(settings, args.host, args.port, app)
    return 0


def _trace(args: argparse.Namespace) -> int:
    from worker.trace.html import write_html
    from worker.trace.story import TraceNotFound, load_story
    from worker.trace.view import print_story

    try:
        story = load_story(args.call_id, Path(args.runs), load_settings().data_dir)
    except TraceNotFound as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.html:
        print(f"wrote {write_html(story, Path(args.html))}")
    else:
        print_story(story)
    return 0


def _sip(args: argparse.Namespace) -> int:
    """Create or update the inbound trunk and the dispatch rule (idempotent): one line each."""
    from worker.phone.setup import PhoneLine, setup_line

    settings = load_settings()
    if not settings.livekit_api_key or not settings.livekit_api_secret:
        raise ConfigError("sip setup needs LIVEKIT_API_KEY and LIVEKIT_API_SECRET (see .env.example).")
    line = PhoneLine()
    if args.number:
        line.numbers = list(args.number)
    if args.allow:
        line.allowed_addresses = list(args.allow)
    http_url = settings.livekit_url.replace("wss://", "https://", 1).replace("ws://", "http://", 1)
    done = asyncio.run(setup_line(http_url, settings.livekit_api_key, settings.livekit_api_secret.get_secret_value(),
                                  line, settings.agent_name))
    if args.json:
        print(done.model_dump_json())
        return 0

    def status(created: bool, part: str) -> str:
        return "created" if created else "updated" if part in done.updated else "unchanged"

    print(f"trunk {done.trunk_id} ({status(done.trunk_created, 'trunk')}): numbers {', '.join(line.numbers)}, "
          f"from {', '.join(line.allowed_addresses)}")
    print(f"dispatch rule {done.rule_id} ({status(done.rule_created, 'dispatch rule')}): a room per call "
          f"({line.room_prefix}*), agent {settings.agent_name!r} dispatched")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from worker.serve.local_mode import run_demo

    settings = load_settings()
    try:
        settings.check_engines()
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return run_demo(settings, args.host, args.port, settings.frontend_dir)


def _bench(args: argparse.Namespace) -> int:
    from worker.bench_runner import run_bench

    return run_bench(args.name, args.args)


def _worker(args: argparse.Namespace) -> int:
    from worker.room.agent_worker import run_worker

    return run_worker(args.mode, load_settings())


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="mediabloom", description="MediaBloom voice-agent runtime")
    p.add_argument("--log-json", action="store_true", help="log one JSON object per line")
    p.add_argument("--log-level", default=None, help="DEBUG, INFO, WARNING (default from MB_LOG_LEVEL)")
    sub = p.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="talk to the agent in your browser: widget + offline engines + local WebRTC, on 127.0.0.1")
    demo.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    demo.add_argument("--port", type=int, default=8788, help="port to bind (default 8788)")
    demo.set_defaults(func=_demo)

    sim = sub.add_parser("simulate", help="run one scripted call through the real voice pipeline, offline")
    sim.add_argument("scenario", help="scenario YAML file (see README)")
    sim.add_argument("--out", default="runs", help="directory for <call_id>/trace.jsonl and call.wav")
    sim.add_argument("--json", action="store_true", help="print one JSON summary instead of tables")
    sim.set_defaults(func=_simulate)

    rep = sub.add_parser("replay", help="re-drive a recorded call through the state machine; non-zero on divergence")
    rep.add_argument("call_id")
    rep.add_argument("--json", action="store_true")
    rep.set_defaults(func=_replay)

    res = sub.add_parser("resume", help="finish unfinished tool calls from their first incomplete step")
    res.add_argument("call_id", nargs="?", default=None, help="one call (default: every unfinished call)")
    res.set_defaults(func=_resume)

    aud = sub.add_parser("audit", help="inspect and verify the signed journal")
    aud_sub = aud.add_subparsers(dest="audit_command", required=True)
    show = aud_sub.add_parser("show", help="every tool call of a call, with signature status")
    show.add_argument("call_id")
    show.add_argument("--json", action="store_true", help="one JSON document instead of a table")
    ver = aud_sub.add_parser("verify", help="check every signature and the chain; non-zero naming the first bad entry")
    ver.add_argument("call_id", nargs="?", default=None)
    ver.add_argument("--json", action="store_true", help="one JSON document instead of lines")
    aud.set_defaults(func=_audit)

    srv = sub.add_parser("serve", help="token backend: POST /api/token hands callers one-room LiveKit tokens")
    srv.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    srv.add_argument("--port", type=int, default=8787, help="port to bind (default 8787)")
    srv.set_defaults(func=_serve)

    wrk = sub.add_parser("worker", help="run the LiveKit agent worker (explicit dispatch by agent name)")
    wrk.add_argument("mode", choices=["dev", "start"], help="dev: reload and debug logs; start: production")
    wrk.set_defaults(func=_worker)

    sip = sub.add_parser("sip", help="phone calls through LiveKit SIP (see sip.yaml)")
    sip_sub = sip.add_subparsers(dest="sip_command", required=True)
    sip_setup = sip_sub.add_parser("setup", help="create or update the inbound trunk and the dispatch rule (idempotent)")
    sip_setup.add_argument("--number", action="append", help="a number callers dial (repeat; default MB_SIP_NUMBERS)")
    sip_setup.add_argument("--allow", action="append", help="an address or CIDR calls may come from (repeat)")
    sip_setup.add_argument("--json", action="store_true", help="print the trunk and rule ids as JSON")
    sip.set_defaults(func=_sip)

    trc = sub.add_parser("trace", help="one call turn by turn: tools, transitions, latency waterfall (--html: one page)")
    trc.add_argument("call_id")
    trc.add_argument("--html", metavar="FILE", help="write one standalone HTML page (recording embedded) instead")
    trc.add_argument("--runs", default="runs", help="where simulated calls were written (default runs)")
    trc.set_defaults(func=_trace)

    from worker.bench_runner import BENCHES

    bch = sub.add_parser("bench", help="run a benchmark under bench/ and print its figures",
                         description="benchmarks: " + "; ".join(f"{k}: {v[1]}" for k, v in BENCHES.items()))
    bch.add_argument("name", help=f"one of {', '.join(BENCHES)}")
    bch.add_argument("args", nargs=argparse.REMAINDER, help="passed to the bench script")
    bch.set_defaults(func=_bench)

    sch = sub.add_parser("schema", help="print a JSON Schema")
    sch.add_argument("what", choices=["trace", "scenario"])
    sch.set_defaults(func=_schema)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from tools.journal.signing import JournalKeyError

    try:
        settings = load_settings()
        if args.log_level and args.log_level.upper() not in LOG_LEVELS:
            raise ConfigError(f"--log-level {args.log_level!r} is not valid: use one of {', '.join(LOG_LEVELS)}.")
        setup_logging(args.log_level or settings.log_level, json=args.log_json or settings.log_json)
        return int(args.func(args))
    except (ConfigError, JournalKeyError) as exc:
        return _fail(str(exc), 2)
    except OSError as exc:  # a path the configuration names cannot be used
        where = f" ({exc.filename})" if exc.filename else ""
        return _fail(f"{exc.strerror or exc}{where}.", 2)
    except Exception as exc:  # noqa: BLE001 - the last resort: one line, the traceback only at DEBUG
        logger.opt(exception=exc).debug("unexpected error")
        detail = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else "no message"
        return _fail(f"unexpected {type(exc).__name__} ({detail}); rerun with --log-level DEBUG for the traceback.", 1)


def _fail(message: str, status: int) -> int:
    """The one line an operator sees (the whole of stderr: nothing else is printed for it)."""
    print(f"error: {' '.join(message.split())}", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
