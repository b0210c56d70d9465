"""OpenTelemetry for operators: livekit-agents' own spans (session, LLM, TTS, tool calls),
exported over OTLP/HTTP when `MB_OTLP_ENDPOINT` is set; nothing otherwise.
"""

from __future__ import annotations

from loguru import logger
from opentelemetry import trace


def setup_telemetry(endpoint: str | None, service: str = "mediabloom-worker") -> bool:
    if not endpoint:
        return False
    from livekit.agents.telemetry import set_tracer_provider
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint.rstrip("/") + "/v1/traces")))
    set_tracer_provider(provider, allow_pii=False)
    trace.set_tracer_provider(provider)
    logger.info("OpenTelemetry traces → {}", endpoint)
    return True
