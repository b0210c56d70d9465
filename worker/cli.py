"""The `mediabloom` command: run simulated calls, print schemas (more jobs join here).

Errors an operator can fix (bad scenario, missing key) end with one clear line and a non-zero
exit status instead of a stack trace.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from loguru import logger

from worker.logs import setup_logging
from worker.settings import ConfigError, load_settings


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


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="mediabloom", description="MediaBloom voice-agent runtime")
    p.add_argument("--log-json", action="store_true", help="log one JSON object per line")
    p.add_argument("--log-level", default=None, help="DEBUG, INFO, WARNING (default from MB_LOG_LEVEL)")
    sub = p.add_subparsers(dest="command", required=True)

    sim = sub.add_parser("simulate", help="run one scripted call through the real voice pipeline, offline")
    sim.add_argument("scenario", help="scenario YAML file (see README)")
    sim.add_argument("--out", default="runs", help="directory for <call_id>/trace.jsonl and call.wav")
    sim.add_argument("--json", action="store_true", help="print one JSON summary instead of tables")
    sim.set_defaults(func=_simulate)

    sch = sub.add_parser("schema", help="print a JSON Schema")
    sch.add_argument("what", choices=["trace", "scenario"])
    sch.set_defaults(func=_schema)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = load_settings()
    setup_logging(args.log_level or settings.log_level, json=args.log_json or settings.log_json)
    try:
        return int(args.func(args))
    except ConfigError as exc:
        logger.error(str(exc))
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
