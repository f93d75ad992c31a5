"""Many independent LLM workflows (one per tree) run together, each written as if alone.

Each workflow is a coroutine that awaits ``pipeline.ask(item, position, role,
requests)``. How a request travels depends on the role's backend:

- an endpoint (a concurrent backend) gets it at once, under the backend's
  concurrency limit: no workflow waits for an unrelated one, so a slow reply
  holds up only its own tree and the endpoint stays busy;
- a local model gets it in a batch: requests wait until every live workflow is
  waiting on a local model, then the requests at the earliest position (turn,
  step) go out as one batch per role, in item order. A workflow that re-asks
  stays behind and the others wait for it, so every batch holds every workflow
  at that step, exactly the batches of a builder that advances all trees step by
  step.

``lockstep=True`` batches endpoint roles the same way (every step a barrier):
how trees were built before per-tree pipelining, kept for the throughput bench.
The results never depend on timing: a request's answer depends only on the
request (its seed included) and, for a local model, on the batch it shares,
which the rule above fixes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass

from aloe.llm.base import ChatRequest, ChatResult
from aloe.llm.client import LLM


@dataclass
class Waiting:
    """A workflow's requests held for a local model's batch, and where to deliver the answers."""

    item: int
    position: tuple
    role: str
    requests: list[ChatRequest]
    future: asyncio.Future


class Pipeline:
    def __init__(self, llm: LLM, lockstep: bool = False):
        self.llm = llm
        self.lockstep = lockstep
        self._waiting: list[Waiting] = []
        self._live = 0
        self._failed = False  # once a workflow fails, nothing more is sent: the run is over
        self._sending: set[asyncio.Task] = set()  # the event loop keeps only weak references

    def run(self, workflows: list[Awaitable]) -> list:
        """Run every workflow to its end; their results in order. The first failure cancels
        the others and is raised."""
        return asyncio.run(self._run(workflows))

    async def _run(self, workflows: list[Awaitable]) -> list:
        self._live = len(workflows)

        async def one(workflow: Awaitable):
            try:
                result = await workflow
            except BaseException:
                self._failed = True
                raise
            self._live -= 1
            self._release()
            return result

        tasks = [asyncio.ensure_future(one(w)) for w in workflows]
        try:
            return list(await asyncio.gather(*tasks))
        except BaseException:
            for t in tasks:  # stop the others before their clients close under them
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        finally:
            await self.llm.aclose()

    async def ask(self, item: int, position: tuple, role: str, requests: list[ChatRequest]) -> list[ChatResult]:
        if not self.lockstep and self.llm.concurrent(role):
            return await self.llm.achat(role, requests)
        future = asyncio.get_running_loop().create_future()
        self._waiting.append(Waiting(item, position, role, requests, future))
        self._release()
        return await future

    def _release(self) -> None:
        """Once every live workflow waits here, send the earliest position's requests (a
        position is one step of one turn, so they are all for one role)."""
        if self._failed or not self._waiting or len(self._waiting) < self._live:
            return
        first = min(w.position for w in self._waiting)
        batch = sorted((w for w in self._waiting if w.position == first), key=lambda w: w.item)
        self._waiting = [w for w in self._waiting if w.position != first]
        task = asyncio.get_running_loop().create_task(self._send(batch))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _send(self, batch: list[Waiting]) -> None:
        role = batch[0].role
        requests = [r for w in batch for r in w.requests]
        try:
            if self.llm.concurrent(role):
                results = await self.llm.achat(role, requests)
            else:  # blocks the loop, which has nothing else to do: every workflow waits here
                results = self.llm.chat(role, requests)
        except Exception as e:
            for w in batch:
                w.future.done() or w.future.set_exception(e)
            return
        start = 0
        for w in batch:
            w.future.done() or w.future.set_result(results[start : start + len(w.requests)])
            start += len(w.requests)
