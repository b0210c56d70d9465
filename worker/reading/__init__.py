"""Reading the caller: what one caller turn says, read once and shared.

The call feeds the state machine from it (yes/no, wishes) and the offline planner fills
tool arguments from it (slots), so both must read the same words the same way. Layout, in
the order the words flow:

- ``tokens``: normalise the recogniser's text and cut it into tokens (``Words``).
- ``numbers``: the spoken-number grammar (chunks and runs of digits and number words).
- ``context``: one utterance being read, with the tokens each slot already claimed.
- ``identifiers``, ``dates``, ``times``, ``money``, ``choices``, ``places``, ``names``:
  the slot extractors, one concern each; ``vocabulary`` holds the word lists they share.
- ``wishes``: yes/no, "a person please" and goodbye said in words.
- ``slots``: ``extract()``, which runs the extractors in a fixed order into ``Slots``.
- ``intents``: the caller's intent by meaning (MiniLM), for paraphrases the rules miss.
- ``turn``: ``read_turn()``, the one memoised reading of a turn both users share.
"""
