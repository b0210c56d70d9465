"""A caller turn that arrives as text (the widget's text box) instead of speech.

livekit-agents answers typed input with `generate_reply(user_input=...)`, which never calls
the agent's `on_user_turn_completed`: the state machine would not read the caller's words,
and the flow would not move. So a typed turn goes through the same `Conversation.caller_turn`
as a spoken one — reading, transitions, trace turn — before the reply is generated. The agent
answers in text (transcript) and, while audio is up, in voice.
"""

from __future__ import annotations

from typing import Any

from livekit.agents import AgentSession, llm


async def typed_turn(session: AgentSession, conversation: Any, text: str) -> None:
    """Interrupt whatever the agent is saying, then run `text` as the caller's next turn."""
    text = text.strip()
    if not text:
        return
    await session.interrupt()
    await conversation.caller_turn(llm.ChatMessage(role="user", content=[text]))
    await conversation.agent.update_instructions(conversation.instructions())
    session.generate_reply(user_input=text)
