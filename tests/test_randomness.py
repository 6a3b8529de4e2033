"""Named streams: a stream's numbers depend on its name, replication and seed alone
(the distributions' samplers are tested in tests/test_distributions.py)."""

from __future__ import annotations

import numpy as np

import sim
from sim.core.rng import Streams, stream
from sim.model.demand import draw_cases


def test_same_name_same_numbers_and_names_independent():
    a = stream(7, 3, "arrivals").random(5)
    assert np.array_equal(a, stream(7, 3, "arrivals").random(5))
    assert not np.array_equal(a, stream(7, 3, "true_risk").random(5))
    assert not np.array_equal(a, stream(7, 4, "arrivals").random(5))
    assert not np.array_equal(a, stream(8, 3, "arrivals").random(5))


def test_using_one_stream_leaves_others_unchanged():
    s1, s2 = Streams(1, 0), Streams(1, 0)
    s1.uniforms("extra", 1000)  # a draw elsewhere must not shift this stream
    assert np.array_equal(s1.uniforms("child", 10), s2.uniforms("child", 10))


def test_the_order_streams_are_first_used_in_changes_no_numbers():
    forward, backward = Streams(5, 2), Streams(5, 2)
    names = ["arrivals", "true_risk", "handoff", "warrant_defect"]
    first = {name: forward.uniforms(name, 4) for name in names}
    second = {name: backward.uniforms(name, 4) for name in reversed(names)}
    assert all(np.array_equal(first[name], second[name]) for name in names)


def test_a_replications_cases_do_not_depend_on_which_stream_was_created_first():
    cfg = sim.load_config(["run.horizon_days=200", "run.progress=false"])
    fresh = draw_cases(cfg, Streams(cfg.run.seed, 1))
    touched = Streams(cfg.run.seed, 1)
    for name in ("handoff", "review_detection", "child", "true_risk"):  # created, nothing drawn
        touched[name]
    again = draw_cases(cfg, touched)
    assert all(np.array_equal(getattr(fresh, f), getattr(again, f)) for f in vars(fresh))
