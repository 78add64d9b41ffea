"""Answering concurrent single recommendations together, off the event loop.

One thread computes every ``POST /recommend``: the event loop only queues the query and
awaits its answer. The queries that arrive while the thread is busy are answered together by
the next ``recommend`` call (one FAISS search, one ranker run over all their candidates),
at most ``max_batch`` of them, grouped by the model version each request resolved. Nothing
waits for a batch to fill: a lone request is answered at once, and under load the batches
grow by themselves, which amortises the fixed cost of each search and ranker run.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from service.recommendation.recommender import Recommendation, UserQuery, recommend

if TYPE_CHECKING:  # the registry's warm-up imports this package
    from service.registry.loaded_model import LoadedModel

DEFAULT_MAX_BATCH = 64


@dataclass(frozen=True)
class _Pending:
    model: LoadedModel
    query: UserQuery
    future: asyncio.Future
    loop: asyncio.AbstractEventLoop


_STOP = object()


class RecommendBatcher:
    """The thread and queue behind ``answer``; started on first use, ``close`` ends it."""

    def __init__(self, max_batch: int = DEFAULT_MAX_BATCH) -> None:
        self.max_batch = max(1, int(max_batch))
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"RecommendBatcher(max_batch={self.max_batch})"

    async def answer(self, model: LoadedModel, query: UserQuery) -> Recommendation:
        """``recommend(model, [query])``'s answer, computed on the batcher's thread; raises
        what that call raises for this query (``ObjectiveError`` for bad weights)."""
        if self._thread is None:
            self._start()
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._queue.put(_Pending(model, query, future, loop))
        return await future

    def close(self) -> None:
        """Answer what is queued, then end the thread."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(_STOP)
            thread.join(timeout=30)

    def _start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="recommend-batcher", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        stopping = False
        while not stopping:
            batch: list[_Pending] = []
            item = self._queue.get()
            while True:
                if item is _STOP:
                    stopping = True
                else:
                    batch.append(item)
                if stopping or len(batch) >= self.max_batch:
                    break
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            if batch:
                _deliver(batch, _answer_batch(batch))


def _answer_batch(batch: Sequence[_Pending]) -> list[Recommendation | BaseException]:
    """Each pending query's answer (or error), one ``recommend`` call per model version."""
    outcomes: list[Recommendation | BaseException | None] = [None] * len(batch)
    groups: dict[int, list[int]] = {}
    for position, pending in enumerate(batch):
        groups.setdefault(id(pending.model), []).append(position)
    for positions in groups.values():
        model = batch[positions[0]].model
        queries = [batch[p].query for p in positions]
        for position, outcome in zip(positions, _answer_group(model, queries)):
            outcomes[position] = outcome
    return outcomes  # type: ignore[return-value]


def _answer_group(
    model: LoadedModel, queries: list[UserQuery]
) -> list[Recommendation | BaseException]:
    try:
        return list(recommend(model, queries))
    except Exception as error:
        if len(queries) == 1:
            return [error]
    # One query spoilt the call (bad weights, say): each alone, so that only it fails.
    return [_answer_alone(model, query) for query in queries]


def _answer_alone(model: LoadedModel, query: UserQuery) -> Recommendation | BaseException:
    try:
        (answer,) = recommend(model, [query])
    except Exception as error:
        return error
    return answer


def _deliver(batch: Sequence[_Pending], outcomes: Sequence[Recommendation | BaseException]) -> None:
    # One wake-up per event loop and batch, not one per request.
    by_loop: dict[int, tuple[asyncio.AbstractEventLoop, list]] = {}
    for pending, outcome in zip(batch, outcomes):
        by_loop.setdefault(id(pending.loop), (pending.loop, []))[1].append(
            (pending.future, outcome)
        )
    for loop, results in by_loop.values():
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits any more
            loop.call_soon_threadsafe(_settle, results)


def _settle(results: list[tuple[asyncio.Future, Recommendation | BaseException]]) -> None:
    for future, outcome in results:
        if future.done():  # the request was cancelled (the client went away)
            continue
        if isinstance(outcome, BaseException):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)
