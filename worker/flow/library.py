"""The flows that ship with the runtime, loaded from the YAML declarations beside this file."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

from worker.flow.spec import FlowSpec

FLOWS_DIR = Path(__file__).parent / "flows"


@lru_cache(maxsize=None)
def load_flow(name: str) -> FlowSpec:
    """Load and validate a flow by name (`real_estate`, `insurance`)."""
    path = FLOWS_DIR / f"{name}.yaml"
    if not path.exists():
        known = ", ".join(sorted(p.stem for p in FLOWS_DIR.glob("*.yaml")))
        raise ValueError(f"unknown flow {name!r} (known: {known})")
    return FlowSpec.model_validate(yaml.safe_load(path.read_text()))
