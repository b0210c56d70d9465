"""Resume: how the executor finishes what a crash interrupted, trusting signed entries only.

Why apart from the running path (``tools.executor``): these are the rules for trusting a
journal after a crash. A call is resumed only if its journal verifies (chain and head) and
nobody owns its claim; the outcome of a call whose claim says it finished is rebuilt from its
signed step lines (never from the idempotency table); a request nothing followed is a call
that died while preparing, closed once. :class:`Recovery` is mixed into ``ToolExecutor``.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from loguru import logger

from tools.journal.owners import owner_state
from tools.journal.records import EntryKind, JournalEntry
from tools.journal.verify import verify_call
from tools.registry import TOOLS, ToolOutcome
from tools.steps import Outputs, StepPlan

if TYPE_CHECKING:
    from tools.executor import ToolExecutor


def finished_outcome(plan: StepPlan, start: JournalEntry, entries: list[JournalEntry],
                     done: Outputs) -> tuple[EntryKind, dict[str, Any]] | None:
    """The terminal line (kind, payload) the signed ``entries`` of one call prove, or None.

    Every step succeeded → ``call_succeeded`` with ``plan.finish`` of the journaled prepared
    arguments and step outputs; the last step failed for good → ``call_failed`` with its error.
    None: the entries do not show how the call ended.
    """
    if all(step.name in done for step in plan.steps):
        result = plan.finish(dict((start.payload or {}).get("args", {})), done)
        return EntryKind.call_succeeded, {"result": result}
    last_failure = next((e for e in reversed(entries) if e.kind == EntryKind.step_failed), None)
    failure = (last_failure.payload or {}) if last_failure is not None else {}
    if failure and not failure.get("will_retry"):
        return EntryKind.call_failed, {"error": str(failure.get("error")), "message": str(failure.get("message", "")),
                                       "transient": bool(failure.get("transient"))}
    return None


def interrupted_requests(entries: list[JournalEntry]) -> list[JournalEntry]:
    """``call_requested`` entries nothing followed: the process died while preparing that call."""
    return [e for e in entries if e.kind == EntryKind.call_requested and not _answered_after(entries, e)]


def _answered_after(entries: list[JournalEntry], request: JournalEntry) -> bool:
    """Whether anything about ``request``'s tool call was journaled after it."""
    return any(e.seq > request.seq and e.kind not in (EntryKind.event, EntryKind.call_requested)
               and e.tool == request.tool and e.tool_call_id == request.tool_call_id for e in entries)


class Recovery:
    """``resume`` and ``close_interrupted`` of ``ToolExecutor`` (see the module docstring)."""

    async def resume(self: ToolExecutor, call_id: str | None = None) -> list[ToolOutcome]:
        """Continue every unfinished tool call (of one call, or all) from its first incomplete step.

        Only calls nobody owns are taken over (lease run out, or owner process dead); one
        still running elsewhere comes back as ``running_elsewhere`` and is left alone. What
        resume journals is rebuilt from the call's verified journal entries only, never from
        the (unsigned) idempotency table: a journal that fails verification is not resumed.
        """
        outcomes = []
        for cid, key in await self.store.unfinished():
            if call_id is not None and cid != call_id:
                continue
            all_entries = await self.store.entries(cid)
            entries = [e for e in all_entries if e.idempotency_key == key]
            start = next((e for e in reversed(entries) if e.kind == "call_started"), None)
            if start is None or start.tool is None or start.tool not in TOOLS:
                continue
            began = time.perf_counter()
            chain = verify_call(all_entries, await self.store.head(cid), self.store.signer, cid)
            if not chain.ok:
                logger.error("not resuming {} {}: its journal fails verification at entry {} ({})", cid, start.tool,
                             chain.bad_seq, chain.reason)
                outcomes.append(self._failed(start.tool, "journal_tampered", f"the journal of {cid} fails "
                                             f"verification at entry {chain.bad_seq}: {chain.reason}", False, began))
                continue
            entries = [e for e in entries if e.seq >= start.seq]
            done = {e.step: (e.payload or {}).get("output", {}) for e in entries if e.kind == "step_succeeded" and e.step}
            prepared = dict((start.payload or {}).get("args", {}))
            if TOOLS[start.tool].effect:
                claim = await self.store.reclaim_stale(cid, key, self.owner, lease_s=self.lease_s)
                if claim is None:
                    claim = await self.store.claim(cid, key, start.tool, start.args_hash or "", self.owner,
                                                   self.lease_s)
                if claim.status == "tampered":
                    logger.error("not resuming {} {}: its idempotency record was edited (signature mismatch)", cid,
                                 start.tool)
                    outcomes.append(self._failed(start.tool, "journal_tampered", f"the idempotency record of "
                                                 f"{start.tool} in {cid} does not match its signature", False, began))
                    continue
                if claim.status in ("in_progress", "conflict"):
                    logger.info("not resuming {} {}: still running in {}", cid, start.tool, claim.owner)
                    outcomes.append(self._failed(start.tool, "running_elsewhere", f"{start.tool} is still running "
                                                 f"in {claim.owner}; not taken over", True, began))
                    continue
                if claim.status == "done":  # finished, but the crash came before its journal line
                    outcomes.append(await self._close_from_journal(cid, key, start, entries, done, began))
                    continue
            logger.info("resuming {} {} after steps {}", cid, start.tool, list(done) or "none")
            outcomes.append(await self._execute(cid, start.tool, TOOLS[start.tool].plan, prepared, key, start.turn,
                                                start.tool_call_id, began, done, resumed=True))
        return outcomes

    async def _close_from_journal(self: ToolExecutor, call_id: str, key: str, start: JournalEntry, entries: list[JournalEntry],
                                  done: dict[str, dict[str, Any]], began: float) -> ToolOutcome:
        """Journal the terminal line of a call whose claim says it finished, from signed entries alone."""
        tool = str(start.tool)
        line = finished_outcome(TOOLS[tool].plan, start, entries, done)
        if line is None:
            logger.error("not resuming {} {}: the idempotency record says it finished but the signed journal "
                         "does not show how", call_id, tool)
            return self._failed(tool, "journal_tampered", f"the idempotency record of {tool} in {call_id} "
                                "disagrees with the signed journal", False, began)
        kind, payload = line
        await self._journal(call_id, kind, tool=tool, tool_call_id=start.tool_call_id, key=key, turn=start.turn,
                            payload=payload)
        if kind == EntryKind.call_succeeded:
            return ToolOutcome(name=tool, ok=True, result=payload["result"],
                               duration_ms=(time.perf_counter() - began) * 1000)
        return self._failed(tool, payload["error"], payload["message"], payload["transient"], began)

    async def close_interrupted(self: ToolExecutor, call_id: str | None = None) -> list[ToolOutcome]:
        """Close calls whose process died after ``call_requested`` and before ``call_started``.

        They stopped while preparing (e.g. tokenizing a card): no step ran, so nothing is
        finished here; each gets one ``call_interrupted`` line so the journal (and ``replay``)
        says what happened, and comes back as an ``interrupted`` outcome for the operator.
        A request whose owner still runs, or may (another host, younger than a lease), is left.
        """
        outcomes = []
        call_ids = [call_id] if call_id is not None else await self.store.interrupted_calls()
        for cid in call_ids:
            for request in interrupted_requests(await self.store.entries(cid)):
                requester = str((request.payload or {}).get("owner") or "")
                state = owner_state(requester)
                if state == "alive" or (state == "unknown" and self.store.clock() - request.at < self.lease_s):
                    continue  # maybe still preparing: its owner runs, or may (another host, not long ago)
                began = time.perf_counter()
                await self._journal(cid, "call_interrupted", tool=str(request.tool),
                                    tool_call_id=request.tool_call_id, key=None, turn=request.turn,
                                    payload={"requested_seq": request.seq,
                                             "message": "the process stopped while preparing the call; "
                                                        "no step ran"})
                logger.info("{}: {} was interrupted before it started (entry {}); nothing to finish", cid,
                            request.tool, request.seq)
                outcomes.append(self._failed(str(request.tool), "interrupted", f"{request.tool} was interrupted "
                                             "before it started; no step ran", True, began))
        return outcomes
