"""`mediabloom sip setup`: the inbound trunk and the dispatch rule that route a number to the agent.

A call to one of the trunk's numbers, from an allowed address, lands in a new room
(`<room_prefix><random>`, one per call) with the agent dispatched by name: the same explicit
dispatch the token backend uses for browser callers. Both objects are found by name and updated
in place, so running the command again changes nothing (it never creates a second trunk or
rule, which LiveKit would reject as a conflict on the same number anyway).
"""

from __future__ import annotations

from livekit import api
from livekit.api.sip_service import SipService
from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class PhoneLine(BaseSettings):
    """The phone line of a deployment (`MB_SIP_*`); `sip.yaml` configures the bridge itself."""

    model_config = SettingsConfigDict(env_prefix="MB_SIP_", env_file=".env", extra="ignore")

    numbers: list[str] = Field(default_factory=lambda: ["+15550100"])
    """Numbers callers dial (the trunk's `numbers`; the SIP request URI's user part)."""
    allowed_addresses: list[str] = Field(default_factory=lambda: ["127.0.0.1/32"])
    """Where calls may come from (the carrier's SIP addresses; loopback for local tests)."""
    trunk_name: str = "mediabloom-inbound"
    rule_name: str = "mediabloom-per-call"
    room_prefix: str = "call-"


class LineSetup(BaseModel):
    """What `sip setup` left in LiveKit, and whether it had to change anything."""

    trunk_id: str
    rule_id: str
    trunk_created: bool
    rule_created: bool
    updated: list[str] = Field(default_factory=list)


def _trunk(line: PhoneLine) -> api.SIPInboundTrunkInfo:
    return api.SIPInboundTrunkInfo(name=line.trunk_name, numbers=line.numbers,
                                   allowed_addresses=line.allowed_addresses)


def _rule(line: PhoneLine, trunk_id: str, agent_name: str) -> api.SIPDispatchRuleInfo:
    return api.SIPDispatchRuleInfo(
        name=line.rule_name, trunk_ids=[trunk_id],
        rule=api.SIPDispatchRule(dispatch_rule_individual=api.SIPDispatchRuleIndividual(room_prefix=line.room_prefix)),
        room_config=api.RoomConfiguration(agents=[api.RoomAgentDispatch(agent_name=agent_name)]),
    )


async def ensure_line(sip: SipService, line: PhoneLine, agent_name: str) -> LineSetup:
    """Create or update the trunk and the rule (matched by name) so they say what `line` says."""
    updated: list[str] = []
    trunks = [t for t in (await sip.list_inbound_trunk(api.ListSIPInboundTrunkRequest())).items
              if t.name == line.trunk_name]
    want_trunk = _trunk(line)
    if trunks:
        trunk = trunks[0]
        if list(trunk.numbers) != line.numbers or list(trunk.allowed_addresses) != line.allowed_addresses:
            want_trunk.sip_trunk_id = trunk.sip_trunk_id
            trunk = await sip.update_inbound_trunk(trunk.sip_trunk_id, want_trunk)
            updated.append("trunk")
        trunk_created = False
    else:
        trunk = await sip.create_inbound_trunk(api.CreateSIPInboundTrunkRequest(trunk=want_trunk))
        trunk_created = True

    rules = [r for r in (await sip.list_dispatch_rule(api.ListSIPDispatchRuleRequest())).items
             if r.name == line.rule_name]
    want_rule = _rule(line, trunk.sip_trunk_id, agent_name)
    if rules:
        rule = rules[0]
        same = (list(rule.trunk_ids) == [trunk.sip_trunk_id] and rule.rule == want_rule.rule
                and rule.room_config == want_rule.room_config)
        if not same:
            want_rule.sip_dispatch_rule_id = rule.sip_dispatch_rule_id
            rule = await sip.update_dispatch_rule(rule.sip_dispatch_rule_id, want_rule)
            updated.append("dispatch rule")
        rule_created = False
    else:
        rule = await sip.create_dispatch_rule(api.CreateSIPDispatchRuleRequest(dispatch_rule=want_rule))
        rule_created = True
    return LineSetup(trunk_id=trunk.sip_trunk_id, rule_id=rule.sip_dispatch_rule_id, trunk_created=trunk_created,
                     rule_created=rule_created, updated=updated)


async def setup_line(http_url: str, api_key: str, api_secret: str, line: PhoneLine, agent_name: str) -> LineSetup:
    """Connect to LiveKit's API (its http(s) URL) and ensure the line."""
    lk = api.LiveKitAPI(http_url, api_key, api_secret)
    try:
        return await ensure_line(lk.sip, line, agent_name)
    finally:
        await lk.aclose()
