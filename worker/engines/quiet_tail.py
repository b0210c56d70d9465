"""The caller's pause as heard by level: the trailing quiet of an utterance, ahead of the VAD.

Why: Silero keeps a speech probability above its exit threshold for ~135 ms after the caller's
last audible sample (p50 here, `uv run mediabloom bench turns`: "caller's last audible sample →
end of speech"), so a pause counted by the VAD starts that late, and every step that waits on it
(the speculative transcript at 0.2 s of pause, the end of the turn) waits with it. The audio's
level says it at once. A block counts as quiet when it is under both the audible level the call
is measured with (`worker.transport.levels.AUDIBLE_RMS`, passed in: engines sit below transport)
and a tenth (-20 dB) of the loudest block of this utterance, so a caller who speaks softly, near
that level, is never taken for a pause; on a line whose noise is above the level, nothing is
quiet and the VAD's pause is the only one, as before.
"""

from __future__ import annotations

import numpy as np

__all__ = ["RELATIVE_QUIET", "QuietTail"]

RELATIVE_QUIET = 0.1
"""A block quieter than this fraction of the utterance's loudest block (-20 dB) may be a pause."""


class QuietTail:
    """Seconds of quiet at the end of the audio pushed so far (16 kHz int16 blocks).

    `level`: RMS as a fraction of full scale under which audio may be quiet (None: never quiet,
    the VAD alone counts pauses).
    """

    def __init__(self, level: float | None, sample_rate: int) -> None:
        self.level = level
        self.sample_rate = sample_rate
        self.seconds = 0.0
        self._peak = 0.0

    def push(self, samples: np.ndarray) -> bool:
        """Account for int16 `samples`, judged in 10 ms blocks; True when they were all quiet."""
        if self.level is None or samples.size == 0:
            return False
        step = max(self.sample_rate // 100, 1)
        quiet = True
        for i in range(0, samples.size, step):
            block = samples[i:i + step].astype(np.float64) / 32768.0
            rms = float(np.sqrt(np.mean(block**2)))
            self._peak = max(self._peak, rms)
            if rms < min(self.level, RELATIVE_QUIET * self._peak):
                self.seconds += block.size / self.sample_rate
            else:
                self.seconds, quiet = 0.0, False
        return quiet
