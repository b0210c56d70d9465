"""Audio transports that carry a call in and out of an ``AgentSession``.

``simulated`` runs whole phone calls in-process (no LiveKit room) at real-time pace;
``recording`` writes what both sides heard to a stereo ``call.wav``.
"""

from .recording import AGENT, CALLER, CallClock, CallRecorder, Channel
from .simulated import (
    AgentAudioEvent,
    CallerUtterance,
    CapturingAgentOutput,
    PlayedSegment,
    SimulatedCallerInput,
)

__all__ = [
    "AGENT",
    "CALLER",
    "AgentAudioEvent",
    "CallClock",
    "CallRecorder",
    "CallerUtterance",
    "CapturingAgentOutput",
    "Channel",
    "PlayedSegment",
    "SimulatedCallerInput",
]
