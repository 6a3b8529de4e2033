"""The model's environment (``sim.model.engine``) processes SimPy's events in SimPy's order:
the same log of who ran when, ties included, as ``simpy.Environment``; the same stop at
``until``, the same failures; a process started by ``start_at`` takes its first step where a
process waiting on a timeout would have started it; a ``QuietProcess`` runs as SimPy's
process, its end an event only when something waits for it; and a replication gives the same
tables on either environment."""

from __future__ import annotations

import numpy as np
import pytest
import simpy

import sim
from sim.model import run_replication
from sim.model.engine import Environment, QuietProcess, call_now, start, start_at


def _tied_log(env: simpy.Environment, start_process=None) -> list[tuple[float, str]]:
    """Processes whose timeouts fall on the same instants (ties broken by scheduling order),
    one of them starting others mid-run and at time 0: the (time, who) of every step. The
    workers are started by ``start_process`` (default ``env.process``)."""
    log: list[tuple[float, str]] = []
    start_process = start_process or (lambda generator: env.process(generator))

    def worker(name: str, delays: list[float]):
        log.append((env.now, f"{name} starts"))
        for delay in delays:
            yield env.timeout(delay)
            log.append((env.now, name))

    def starter():
        for k in range(3):
            start_process(worker(f"late{k}", [0.5, 0.0, 1.0]))
            yield env.timeout(1.0)

    for k in range(4):
        start_process(worker(f"w{k}", [1.0, 0.5, 0.5, 0.0, 2.0]))
    env.process(starter())
    env.run(until=4.0)
    return log


def test_the_same_order_of_steps_as_simpy_ties_included():
    simpy_log, engine_log = _tied_log(simpy.Environment()), _tied_log(Environment())
    assert engine_log == simpy_log
    assert len({time for time, _ in engine_log}) < len(engine_log)  # there were ties to break


def test_quiet_processes_take_simpys_steps_and_end_without_an_event_unless_awaited():
    env = Environment()
    assert _tied_log(env, lambda generator: start(env, generator)) == _tied_log(simpy.Environment())

    def short(env, value):
        yield env.timeout(1.0)
        return value

    def waiter(env, process, log):
        value = yield process
        log.append((env.now, value))

    for environment in (simpy.Environment, Environment):
        env = environment()
        unawaited, awaited = start(env, short(env, "a")), start(env, short(env, "b"))
        log: list = []
        env.process(waiter(env, awaited, log))
        env.run(until=1.0)
        while unawaited.is_alive:
            env.step()
        assert unawaited.processed and unawaited.value == "a"
        assert all(entry[3] is not unawaited for entry in env._queue)  # its end is no event
        while awaited.is_alive:
            env.step()
        assert awaited.triggered and not awaited.processed  # its end is an event, for the waiter
        assert any(entry[3] is awaited for entry in env._queue)
        env.run(until=2.0)
        assert log == [(1.0, "b")]
        assert isinstance(unawaited, QuietProcess)


def test_run_stops_before_what_is_due_at_until_and_resumes_from_there():
    env = Environment()
    seen = []

    def ticker():
        while True:
            yield env.timeout(1.0)
            seen.append(env.now)

    env.process(ticker())
    assert env.run(until=3) is None
    assert env.now == 3 and seen == [1.0, 2.0]  # the tick due at 3 is left, as SimPy leaves it
    env.run(until=5.5)
    assert seen == [1.0, 2.0, 3.0, 4.0, 5.0]
    with pytest.raises(ValueError, match="must be greater"):
        env.run(until=5.5)
    with pytest.raises(ValueError, match="Negative delay"):
        env.timeout(-1.0)


def test_a_failed_process_fails_the_run_as_in_simpy():
    def failing(env):
        yield env.timeout(1.0)
        raise KeyError("case 7")

    for env, begin in ((simpy.Environment(), simpy.Environment.process), (Environment(), Environment.process),
                       (simpy.Environment(), start), (Environment(), start)):
        begin(env, failing(env))
        with pytest.raises(KeyError, match="case 7") as raised:
            env.run(until=2.0)
        assert isinstance(raised.value.__cause__, KeyError) and env.now == 1.0


def test_until_an_event_and_until_empty_are_simpys():
    env = Environment()
    done = env.timeout(2.0, value="two")
    assert env.run(until=done) == "two" and env.now == 2.0
    env.timeout(1.5)
    env.run()
    assert env.now == 3.5


def _arrivals_log(env: simpy.Environment, arrival_days: list[float], with_start_at: bool) -> list[tuple[float, str]]:
    """Cases let in at their arrival days, either by a process that waits for each arrival
    (``env.timeout``, then ``env.process``) or by ``call_now`` and ``start_at``, beside a
    process whose timeouts fall on the same instants."""
    log: list[tuple[float, str]] = []

    def case(i: int):
        log.append((env.now, f"case {i} in"))
        yield env.timeout(0.25)
        log.append((env.now, f"case {i} out"))

    def rival():
        for _ in range(8):
            yield env.timeout(0.25)
            log.append((env.now, "rival"))

    env.process(rival())
    if with_start_at:
        arrived = 0

        def let_in(_event) -> None:
            nonlocal arrived
            i, now = arrived, env.now
            while i < len(arrival_days) and arrival_days[i] <= now:
                env.process(case(i))
                i += 1
            if i < len(arrival_days):
                start_at(env, case(i), arrival_days[i] - now, first=let_in)
                i += 1
            arrived = i

        call_now(env, let_in)
    else:
        def arrivals():
            for i, day in enumerate(arrival_days):
                if day > env.now:
                    yield env.timeout(day - env.now)
                env.process(case(i))

        env.process(arrivals())
    env.run(until=3.0)
    return log


@pytest.mark.parametrize("environment", [simpy.Environment, Environment])
def test_start_at_starts_a_case_where_an_arrivals_process_would(environment):
    # a backlog at day 0, arrivals on the rival's instants, two arriving together
    days = [-2.0, 0.0, 0.25, 0.5, 0.5, 0.6, 1.0, 1.75]
    by_process = _arrivals_log(environment(), days, with_start_at=False)
    assert _arrivals_log(environment(), days, with_start_at=True) == by_process
    assert [entry for entry in by_process if entry[1].endswith(" in")][:2] == [(0.0, "case 0 in"), (0.0, "case 1 in")]


@pytest.mark.parametrize("overrides", [[], ["forces=three_forces", "scenario=regional_pooling"]])
def test_a_replication_is_the_same_on_simpys_environment(overrides):
    cfg = sim.load_config([*overrides, "run.horizon_days=300", "run.progress=false"])
    ours, simpys = run_replication(cfg, 1), run_replication(cfg, 1, env=simpy.Environment())
    assert ours.cases.keys() == simpys.cases.keys()
    for name, column in ours.cases.items():
        np.testing.assert_array_equal(column, simpys.cases[name], err_msg=name)
    np.testing.assert_array_equal(ours.snapshots, simpys.snapshots)
    assert ours.pools == simpys.pools


def test_the_model_resource_serves_as_simpys_with_its_holders_kept_as_granted():
    """``staff.PriorityResource`` against ``simpy.PriorityResource``: the same grants in the
    same order from the same requests and releases, a release of a request that holds
    nothing ignored as SimPy ignores it, and its holders listed in the order granted."""
    from sim.model.staff import PriorityResource

    def run(resource_class) -> tuple[list[tuple[float, str]], list[str]]:
        env = Environment()
        res = resource_class(env, capacity=3)
        log: list[tuple[float, str]] = []
        names: dict = {}

        def case(name: str, priority: int, arrive: float, hold: float):
            yield env.timeout(arrive)
            req = res.request(priority=priority)
            names[req] = name
            yield req
            log.append((env.now, name))
            yield env.timeout(hold)
            res.release(req)
            res.release(req)  # twice: nothing more to give back

        for k in range(12):
            env.process(case(f"c{k}", k % 4, 0.5 * (k % 5), 1.0 + (k % 3)))
        env.run(until=3.2)
        return log, [names[req] for req in res.users]

    ours, simpys = run(PriorityResource), run(simpy.PriorityResource)
    assert ours == simpys
    assert len(ours[1]) == 3 and len(ours[0]) > 3  # slots turned over, and three held at the end
