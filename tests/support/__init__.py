"""What several test directories share: pinned dates, a ticking clock, the sandbox fixture
and fake engines written against livekit-agents' base classes.

Why one package: these used to be copied between conftests and drifted apart (the same
"today" written six times with three dates). A test directory imports what it needs from
here; its conftest only says which of the shared pieces it uses.
"""
