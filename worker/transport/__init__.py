"""Audio transports that carry a call in and out of an ``AgentSession``.

The simulated transport runs whole phone calls in-process (no LiveKit room) at real-time
pace, one module per direction of the line:

* ``caller_input``: caller audio in (the agent's microphone);
* ``agent_output``: agent audio out (the caller's speaker), and ``agent_speech``, the
  record of when the caller heard the agent and the one test of "the agent is quiet";
* ``recording``: what both sides heard, as a stereo ``call.wav``;
* shared by them: ``clock`` (call time), ``pcm`` (sample formats, resampling) and
  ``levels`` (what counts as audible on a recording).
"""

from .agent_output import CapturingAgentOutput, PlayedSegment
from .agent_speech import AgentAudioEvent, AgentSpeech
from .caller_input import CallerUtterance, SimulatedCallerInput
from .clock import CallClock
from .recording import AGENT, CALLER, CallRecorder, Channel

__all__ = [
    "AGENT",
    "CALLER",
    "AgentAudioEvent",
    "AgentSpeech",
    "CallClock",
    "CallRecorder",
    "CallerUtterance",
    "CapturingAgentOutput",
    "Channel",
    "PlayedSegment",
    "SimulatedCallerInput",
]
