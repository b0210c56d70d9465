"""A dictated number of the wrong shape is decoded again from where the decoder hesitated
(`worker.engines.whisper_branch`), the same way every time.

Why: greedy decoding wrote one "five" too many ("nine two five five five five five zero seven
zero zero"), lost one "two" of "two two, two" in a card, or one "oh" of "oh oh". The lines below
(flite voices: their audio is the same on every run) were wrong before the branches; the beam
and samples that came before found some of them on some runs only (sampling was not repeatable).
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.support.hearing_score import read_value
from tests.support.hearing_set import hearing_lines
from worker.engines.whisper_digits import DIGIT_SHAPES
from worker.engines.whisper_hints import decode_hint
from worker.engines.whisper_stt import WhisperSTT
from worker.simulate.voices import Voice, speak

from .helpers import WordTokenizer

#: (voice, line): a fifth five, an "oh" turned into a five, "two two, two" as two twos, "oh oh" as one.
BRANCHED = [("flite:slt@1", "phone-5"), ("flite:slt@1", "phone-13"), ("flite:rms@1.1", "card-5"),
            ("flite:rms@1.1", "card-4")]


@pytest.fixture(scope="module")
def heard(whisper: WhisperSTT) -> list[tuple[str, str, str, str]]:
    lines = {x.id: x for x in hearing_lines(("phone", "card"))}
    pad = np.zeros(4800, np.float32)
    out = []
    for voice, line_id in BRANCHED:
        line = lines[line_id]
        audio = np.concatenate([pad, speak(Voice.parse(voice), line.say), pad])
        hint, shape = decode_hint(line.expecting), DIGIT_SHAPES[line.expecting or ""]
        greedy = whisper.transcriber.transcribe(audio, prompt=hint, numeric=True).text
        first = whisper.transcriber.transcribe(audio, prompt=hint, numeric=True, digits=shape)
        again = whisper.transcriber.transcribe(audio, prompt=hint, numeric=True, digits=shape)
        assert first.text == again.text, (voice, line_id, first.text, again.text)  # repeatable
        assert first.reshaped
        out.append((line_id, read_value(line, greedy) or "", read_value(line, first.text) or "", line.value))
    return out


def test_numbers_of_the_wrong_shape_are_decoded_again_from_where_the_decoder_hesitated(
        heard: list[tuple[str, str, str, str]]) -> None:
    assert all(greedy != want for _, greedy, _, want in heard), heard  # the greedy decodes are wrong
    assert sum(branched == want for _, _, branched, want in heard) >= 3, heard


def test_branches_force_the_closest_other_words_and_end_only_before_the_last_digit() -> None:
    from worker.engines.whisper_branch import _Decode, _Decoder

    words = WordTokenizer()
    decoder = _Decoder(None, words, None, [], 40, [])
    said = [" nine", " two", " five", " five", " five", " oh", " six"]
    tokens = [words.encode(w)[0] for w in said]
    steps = []
    for i, token in enumerate([*tokens, words.eot]):
        step = np.full(len(words.ids) + 1, -20.0, dtype=np.float32)
        step[token] = -0.1
        steps.append(step)
    steps[4][words.encode(" Oh")[0]] = -0.5  # the third five was nearly an "Oh"
    steps[4][words.encode(" oh")[0]] = -1.0  # ... or an "oh": the same word, one branch
    steps[3][words.encode(" Five")[0]] = -0.2  # the word the decoder wrote: never a branch
    steps[1][words.eot] = -2.0  # ending after "nine": would drop the digits said after it
    steps[6][words.eot] = -3.0  # ending before the last digit: one digit too many at the end
    steps[2][words.encode(" double")[0]] = -4.0
    parent = _Decode(tokens, steps, "", 0.0, False)
    branched = decoder.branches(parent)
    assert branched[0] == tokens[:4] + [words.encode(" Oh")[0]]
    assert tokens[:4] + [words.encode(" oh")[0]] not in branched
    assert all(p[-1] != words.encode(" Five")[0] for p in branched)
    assert tokens[:6] + [words.eot] in branched and tokens[:1] + [words.eot] not in branched
    assert tokens[:2] + [words.encode(" double")[0]] in branched


def test_a_search_past_its_deadline_gives_up_without_decoding() -> None:
    """The budget (`SEARCH_BUDGET_S`): a transcription already past it gets no branch search at
    all (a card of fifteen ones searched for 6-9 s, twice), so the plain decode stands."""
    import time

    from worker.engines.whisper_branch import fitting_decode

    class _NoModel:
        def generate(self, *args: object, **kwargs: object) -> object:
            raise AssertionError("decoded after the deadline")

    shape = DIGIT_SHAPES["card_number"]
    assert fitting_decode(_NoModel(), WordTokenizer(), None, [], 40, [], shape,
                          deadline=time.perf_counter() - 0.01) is None


def test_a_search_whose_audio_went_stale_stops_before_its_next_decoder_call() -> None:
    """A speculative decode's search stops once the caller went on (its audio will not be the final):
    the searches of a card of fifteen ones read in groups queued up on the model's lock, each for
    its whole budget, and the final waited behind them."""
    import time
    from types import SimpleNamespace

    from worker.engines.whisper_branch import fitting_decode

    words = WordTokenizer()
    four = words.encode(" four")[0]

    class _OneWordModel:
        """Decodes "four" (a number far too short for a card) every time; counts its calls."""

        calls = 0

        def generate(self, features: object, prompts: list[list[int]], **kwargs: object) -> list[object]:
            self.calls += 1
            vocab = len(words.ids) + 8
            rows = [np.full(vocab, -20.0, np.float32) for _ in range(2)]
            rows[0][four], rows[1][words.eot] = -0.1, -0.1
            return [SimpleNamespace(sequences_ids=[[four]], logits=[rows], no_speech_prob=0.0) for _ in prompts]

    shape = DIGIT_SHAPES["card_number"]
    fresh = _OneWordModel()
    assert fitting_decode(fresh, words, None, [], 40, [], shape, deadline=time.perf_counter() + 60) is None
    assert fresh.calls > 1  # not stale: the search branches (rounds, then the beam)
    stale = _OneWordModel()
    assert fitting_decode(stale, words, None, [], 40, [], shape, deadline=time.perf_counter() + 60,
                          stale=lambda: stale.calls >= 1) is None
    assert stale.calls == 1  # the first decode only: the caller went on meanwhile
