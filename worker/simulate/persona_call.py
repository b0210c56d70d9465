"""A persona talking back: listens to the agent's turn, answers the question asked, in its voice.

How the persona "hears" the agent: it reads the agent's spoken text from the session
(`conversation_item_added`, the text livekit-agents commits once the speech played out,
cut at the interruption point), not the agent's audio. Recognising the agent's audio would
add a second Whisper pass per turn on the same 2 cores, slowing and perturbing the very
call under test, and would test the agent's Piper voice (which Whisper hears near-perfectly)
rather than the agent's hearing, which is what persona calls measure. Timing still follows
the audio: the persona waits until the agent has been quiet (`AgentSpeech.wait_quiet`), as a
person waits for the other side to finish.

The persona hangs up when its goal is met (it said goodbye, or the agent did), when it has
nothing to answer twice in a row, or after its turn limit; the scenario's `max_seconds`
bounds the whole call.
"""

from __future__ import annotations

import asyncio
from typing import Any, Awaitable, Callable

import numpy as np
from livekit.agents import AgentSession
from livekit.agents.voice import events as ev
from loguru import logger

from tools.redact import asks_for_card_group, hide_numbers, mask_card_numbers
from worker.call.conversation import Conversation
from worker.simulate.persona import Persona, PersonaAnswers
from worker.engines.whisper_decode import SAMPLE_RATE
from worker.simulate.voices import speak
from worker.transport import CallerUtterance, CapturingAgentOutput, SimulatedCallerInput

BACKCHANNEL_AFTER_S = 2.0
BARGE_IN_AFTER_S = 3.5
LONG_REPLY_CHARS = 120


class PersonaCaller:
    """Plays one persona into a running call."""

    def __init__(self, persona: Persona, flow: str, mic: SimulatedCallerInput, speaker: CapturingAgentOutput,
                 now: Callable[[], float], log: Any = logger) -> None:
        self.persona = persona
        self.answers = PersonaAnswers(persona, flow)
        self.mic = mic
        self.speaker = speaker
        self.now = now
        self.log = log
        self.heard: list[str] = []
        self.utterances: list[CallerUtterance] = []
        self.lines: list[str] = []

    def _on_item(self, e: ev.ConversationItemAddedEvent) -> None:
        item = e.item
        if getattr(item, "type", None) == "message" and item.role == "assistant" and item.text_content:
            self.heard.append(item.text_content)

    async def _say(self, text: str, conv: Conversation) -> CallerUtterance | None:
        audio = await asyncio.to_thread(speak, self.persona.voice, text)
        pcm = (np.clip(audio, -1.0, 1.0) * 32767).astype(np.int16)
        # a short breath of silence first, as a person draws breath before speaking
        pcm = np.concatenate([np.zeros(int(0.15 * SAMPLE_RATE), np.int16), pcm])
        return await self._play(pcm, SAMPLE_RATE, text, conv)

    async def _play(self, pcm: np.ndarray, rate: int, text: str, conv: Conversation) -> CallerUtterance | None:
        if conv.machine.s.ended or conv.ended.is_set():
            return None
        # a group of the card (asked for, or said again after the offer of another way): hide it
        group = self.answers.last_kind == "card_group" or bool(self.heard) and asks_for_card_group(self.heard[-1])
        self.log.info("persona says: {}", hide_numbers(text) if group else mask_card_numbers(text))
        saying = asyncio.ensure_future(self.mic.say(pcm, rate))
        hung_up = asyncio.ensure_future(conv.ended.wait())
        await asyncio.wait({saying, hung_up}, return_when=asyncio.FIRST_COMPLETED)
        hung_up.cancel()
        if not saying.done():
            saying.cancel()
            return None
        utt = saying.result()
        self.utterances.append(utt)
        self.lines.append(text)
        return utt

    async def _over_read_out(self, after: float, conv: Conversation,
                             wait_quiet: Callable[[float | None], Awaitable[None]]) -> bool:
        """Backchannel and barge-in behaviours, placed into the agent's next long reply.
        True when the persona already answered that reply (a barge-in)."""
        b = self.persona.behaviours
        if not (b.backchannel or b.barge_in) or self.answers.f.listing is None:
            return False
        try:
            started = await self.speaker.speech.wait_started(after=after, timeout=30)
        except TimeoutError:
            return False
        await asyncio.sleep(max(0.0, started.at + BACKCHANNEL_AFTER_S - self.now()))
        if b.backchannel and self.speaker.speech.speaking:
            await self._say("Uh-huh.", conv)
        if b.barge_in and self.speaker.speech.speaking:
            await asyncio.sleep(max(0.0, started.at + BARGE_IN_AFTER_S - self.now()))
            if self.speaker.speech.speaking and "budget" in self.answers.last_line:
                line = f"The one on {self.answers.f.listing}, {self.answers.f.day} please."
                self.answers.last_line = line
                return await self._say(line, conv) is not None
        return False

    async def play(self, conv: Conversation, session: AgentSession,
                   wait_quiet: Callable[[float | None], Awaitable[None]]) -> None:
        """Answer the agent until the persona hangs up or the call ends. `wait_quiet(after)`
        returns once the agent spoke after `after` (call time) and went quiet."""
        session.on("conversation_item_added", self._on_item)
        last_end: float | None = 0.0
        seen = 0
        for _ in range(self.persona.max_turns):
            try:
                await wait_quiet(last_end)
            except TimeoutError:
                self.log.info("persona: the agent never answered; hanging up")
                return
            await asyncio.sleep(0.05)  # the finished reply's chat item lands right after playout
            if conv.machine.s.ended or conv.ended.is_set():
                return
            text = " ".join(self.heard[seen:]) or conv.machine.s.last_agent_text
            seen = len(self.heard)
            line = self.answers.answer(text)
            if line is None:
                self.log.info("persona hangs up")
                return
            utt = await self._say(line, conv)
            if utt is None:
                return
            last_end = utt.end
            if "budget" in line and await self._over_read_out(utt.end, conv, wait_quiet):
                last_end = self.utterances[-1].end
            elif self.utterances[-1] is not utt:  # a backchannel went over the reply
                last_end = None
