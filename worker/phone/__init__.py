"""Phone calls through LiveKit SIP: the line's set-up, caller id and the keypad (DTMF).

LiveKit's SIP bridge (`livekit-sip`) turns a call into a room participant of kind SIP; the
dispatch rule puts each call in its own room with the agent dispatched by name. Everything
here is what a phone line adds to a room call; the call itself is the room worker's.
"""
