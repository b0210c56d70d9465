"""Embedded offline engines (STT, TTS, sentence embeddings) behind livekit-agents' seams.

Each engine loads its model from a pinned Python package (no downloads at run time) and
keeps one loaded copy per process, so every call in a worker shares the same weights.
"""
