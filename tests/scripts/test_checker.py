"""The chaos checkers on hand-made histories, linearizable and not, and on histories made
from a real sequential execution (Hypothesis): proof that they can fail and can pass."""

from __future__ import annotations

import functools
import time

import pytest
from chaoslib.checker import _calls, check_queue, check_register, check_registers
from chaoslib.history import HistoryError, Op, read_history, write_history
from chaoslib.wgl import READ, WRITE, Call, Search
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

LIN, NOT, UNKNOWN = "linearizable", "not linearizable", "unknown"


def w(p: int, value: int, t0: float, t1: float | None, outcome: str = "ok", key: str = "r") -> Op:
    return Op(p, "write", key, value, t0, t1, outcome)


def r(p: int, result: int | None, t0: float, t1: float | None, outcome: str = "ok",
      key: str = "r") -> Op:
    return Op(p, "read", key, None, t0, t1, outcome, result if outcome == "ok" else None)


def cas(p: int, expected: int | None, new: int, t0: float, t1: float | None,
        result: bool | None = True, outcome: str = "ok") -> Op:
    return Op(p, "cas", "r", [expected, new], t0, t1, outcome, result if outcome == "ok" else None)


def status(*ops: Op, **bounds) -> str:
    return check_register(ops, **bounds).status


# -- registers: linearizable ------------------------------------------------------------------
def test_empty_and_sequential_histories_are_linearizable():
    assert status() == LIN
    assert status(r(1, None, 0, 1), w(1, 1, 2, 3), r(2, 1, 4, 5), cas(1, 1, 2, 6, 7),
                  cas(2, 1, 3, 8, 9, result=False), r(1, 2, 10, 11)) == LIN


def test_a_read_concurrent_with_a_write_may_see_either_value():
    assert status(w(1, 1, 0, 1), w(2, 2, 2, 6), r(3, 1, 3, 4), r(3, 2, 4, 5)) == LIN
    assert status(w(1, 1, 0, 1), w(2, 2, 2, 6), r(3, 2, 3, 4), r(3, 1, 4.5, 5)) == NOT


def test_concurrent_cas_one_wins_the_other_sees_the_new_value():
    assert status(w(1, 0, 0, 1), cas(2, 0, 1, 2, 5), cas(3, 0, 2, 2, 5, result=False),
                  r(1, 1, 6, 7)) == LIN


def test_initial_value_is_configurable():
    assert status(r(1, 7, 0, 1), initial=7) == LIN
    assert status(r(1, 7, 0, 1)) == NOT


# -- registers: violations --------------------------------------------------------------------
def test_stale_read_is_caught_and_explained():
    verdict = check_register([w(1, 1, 0, 1), w(1, 2, 2, 3), r(2, 1, 4, 5, key="r")])
    assert verdict.status == NOT and verdict.key == "r" and verdict.ops == 3
    assert verdict.detail.splitlines() == [
        "cannot linearize p2 read r -> ok 1 [4.000, 5.000]",
        "  it needs the value 1, but every op that could have written it was overwritten "
        "before it began:",
        "  p1 write r 1 -> ok [0.000, 1.000], then p1 write r 2 -> ok [2.000, 3.000]"]


def test_the_search_alone_finds_a_stale_read_and_says_why():
    ops = [w(1, 1, 0, 1), w(1, 2, 2, 3), r(2, 1, 4, 5)]
    result = Search(*_calls(ops), None).run(1000, None)
    assert result.status == NOT and result.blocker.source is ops[1]
    assert result.states == {1: (Call(WRITE, 1, None, 0, 1, ops[0]),
                                 (Call(READ, 1, None, 4, 5, ops[2]),))}


def test_lost_write_is_caught():
    # The write of 2 was acknowledged, yet every later read sees 1.
    assert status(w(1, 1, 0, 1), w(2, 2, 2, 3), r(3, 1, 4, 5), r(3, 1, 6, 7)) == NOT


def test_two_cas_from_the_same_value_cannot_both_succeed():
    verdict = check_register([w(1, 0, 0, 1), cas(2, 0, 1, 2, 5), cas(3, 0, 2, 2, 5)])
    assert verdict.status == NOT
    assert verdict.detail.splitlines() == [
        "cannot linearize p2 cas r 0->1 -> ok True [2.000, 5.000]",
        "  the register could only hold: 0 (from p1 write r 0 -> ok [0.000, 1.000]), which it "
        "may not change: still needed by p3 cas r 0->2 -> ok True [2.000, 5.000], and no op can "
        "write 0 again",
        "  it needs the value 0, written by: p1 write r 0 -> ok [0.000, 1.000]",
        "  concurrent with: p3 cas r 0->2 -> ok True [2.000, 5.000]"]


def test_cas_true_when_the_value_could_not_have_been_expected():
    assert status(w(1, 0, 0, 1), w(1, 5, 2, 3), cas(2, 0, 1, 4, 5)) == NOT


def test_cas_false_when_the_value_must_have_been_expected():
    verdict = check_register([w(1, 0, 0, 1), cas(2, 0, 1, 2, 3, result=False)])
    assert verdict.status == NOT
    assert "needs a value other than 0" in verdict.detail


def test_read_of_absent_after_a_write_completed():
    assert status(r(1, None, 0, 3), w(2, 1, 1, 2)) == LIN
    assert status(w(2, 1, 0, 1), r(1, None, 2, 3)) == NOT


def test_failed_ops_never_happened():
    assert status(w(1, 1, 0, 1, "fail"), r(2, None, 2, 3)) == LIN
    assert status(w(1, 1, 0, 1, "fail"), r(2, 1, 2, 3)) == NOT


# -- registers: indeterminate ops -------------------------------------------------------------
def test_info_write_may_take_effect_late_or_never():
    took_effect_late = [w(1, 1, 0, None, "info"), r(2, None, 5, 6), r(2, 1, 7, 8)]
    never = [w(1, 1, 0, 1, "info"), r(2, None, 5, 6), r(2, None, 7, 8)]
    assert status(*took_effect_late) == LIN and status(*never) == LIN


def test_info_write_takes_effect_once_and_not_before_its_invoke():
    assert status(w(1, 1, 0, None, "info"), r(2, 1, 2, 3), r(2, None, 4, 5)) == NOT
    assert status(r(2, 1, 0, 1), w(1, 1, 2, None, "info")) == NOT
    flip_back = [w(3, 0, 0, 1), w(1, 1, 2, None, "info"), r(2, 1, 3, 4), r(2, 0, 5, 6),
                 r(2, 1, 7, 8)]
    assert status(*flip_back) == NOT


def test_info_reads_are_ignored():
    assert status(w(1, 1, 0, 1), r(2, None, 2, 3, "info")) == LIN


def test_info_cas_applies_only_from_its_expected_value():
    assert status(w(1, 0, 0, 1), cas(2, 0, 1, 2, None, outcome="info"), r(3, 1, 5, 6)) == LIN
    assert status(w(1, 3, 0, 1), cas(2, 0, 1, 2, None, outcome="info"), r(3, 1, 5, 6)) == NOT


def test_chained_info_ops_reach_a_value():
    # 7 is reachable only by the info write of 5, then the info cas 5 -> 7.
    ops = [w(1, 0, 0, 1), w(2, 5, 2, None, "info"), cas(3, 5, 7, 2, None, outcome="info"),
           r(4, 7, 10, 11), cas(4, 7, 8, 12, 13)]
    assert status(*ops) == LIN
    assert status(*ops, r(4, 5, 14, 15)) == NOT


def test_cas_false_may_be_explained_by_an_unread_info_write():
    # Nothing reads 9: the info write of 9 is what made the compare fail.
    ops = [w(1, 0, 0, 1), w(2, 9, 2, None, "info"), cas(3, 0, 1, 4, 5, result=False),
           w(1, 4, 6, 7), r(3, 4, 8, 9)]
    assert status(*ops) == LIN
    assert status(*ops[:1], *ops[2:]) == NOT


# -- bounds -----------------------------------------------------------------------------------
def _pathological(n: int) -> list[Op]:
    """n concurrent writes, then reads no order of them explains: the search must try every
    subset before it can say no."""
    writes = [w(p, p, 0, 100) for p in range(1, n + 1)]
    return [*writes, r(0, 1, 200, 201), r(0, 2, 202, 203)]


def test_a_small_pathological_history_is_decided():
    assert status(*_pathological(6)) == NOT


def test_pathological_history_stops_at_the_step_bound():
    verdict = check_register(_pathological(40), max_steps=5_000)
    assert verdict.status == UNKNOWN and "step bound 5,000" in verdict.detail


def test_pathological_history_stops_at_the_deadline():
    start = time.monotonic()
    verdict = check_register(_pathological(40), max_steps=10**12, deadline=start + 0.3)
    assert verdict.status == UNKNOWN and "deadline" in verdict.detail
    assert time.monotonic() - start < 2.0


def test_a_hard_key_leaves_time_for_the_others():
    hard = [Op(o.process, o.kind, "a", o.value, o.invoke, o.complete, o.outcome, o.result)
            for o in _pathological(40)]
    verdicts = check_registers([*hard, w(1, 1, 0, 1, key="b")], max_steps=10**12,
                               deadline=time.monotonic() + 0.4)
    assert [(v.key, v.status) for v in verdicts] == [("a", UNKNOWN), ("b", LIN)]


def test_check_registers_checks_each_key_alone():
    ops = [w(1, 1, 0, 1, key="a"), w(1, 2, 0, 1, key="b"), r(2, 1, 2, 3, key="a"),
           r(2, 1, 2, 3, key="b"), Op(3, "enqueue", "q", 10, 0, 1, "ok")]
    verdicts = check_registers(ops, max_steps=1000, deadline=time.monotonic() + 5)
    assert [(v.key, v.status) for v in verdicts] == [("a", LIN), ("b", NOT)]
    with pytest.raises(HistoryError):
        check_register(ops[:2])


# -- registers: generated from a real sequential execution -----------------------------------
KINDS = st.sampled_from(["read", "write", "cas"])
STEP = st.tuples(KINDS, st.integers(0, 3), st.integers(0, 3), st.integers(0, 25),
                 st.integers(0, 25), st.sampled_from(["ok"] * 6 + ["info", "lost", "fail"]))


def executed(steps: list[tuple]) -> list[Op]:
    """Run `steps` one after another on a register, op i at time 10 * i, then widen each op's
    interval around that point. "info" ops took effect and their client never heard; "lost"
    ones are info ops that never took effect; "fail" ones never took effect either."""
    value, ops = None, []
    for i, (kind, a, b, before, after, fate) in enumerate(steps):
        at, result = 10 * i, None
        applies = fate in ("ok", "info")
        if kind == "read":
            result = value
        elif kind == "write":
            value = a if applies else value
        else:
            result = value == a
            value = b if applies and result else value
        outcome = {"ok": "ok", "fail": "fail"}.get(fate, "info")
        complete = None if outcome == "info" else at + after
        arg = {"cas": [a, b], "write": a, "read": None}[kind]
        ops.append(Op(i % 5, kind, "r", arg, at - before, complete, outcome,
                      result if outcome == "ok" else None))
    return ops


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(STEP, max_size=40))
def test_executed_histories_are_linearizable(steps):
    verdict = check_register(executed(steps), max_steps=200_000)
    assert verdict.status == LIN, verdict.detail


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(STEP, min_size=1, max_size=40), st.data())
def test_a_read_of_a_value_never_written_is_caught(steps, data):
    ops = executed(steps)
    reads = [i for i, op in enumerate(ops) if op.kind == "read" and op.outcome == "ok"]
    assume(reads)
    i = data.draw(st.sampled_from(reads))
    ops[i] = Op(ops[i].process, "read", "r", None, ops[i].invoke, ops[i].complete, "ok", 99)
    verdict = check_register(ops, max_steps=200_000)
    assert verdict.status == NOT
    assert verdict.detail.startswith("cannot linearize") and "ok 99" in verdict.detail
    assert Search(*_calls(ops), None).run(200_000, None).status == NOT  # without stale.py


def brute_force(ops: list[Op], initial: object = None) -> bool:
    """Linearizability by trying every order (tiny histories only), straight from the
    definition: any op may go next unless an unplaced "ok" op completed before it was
    invoked; "ok" ops must all be placed; info writes and cas may be placed or not."""
    required = [op for op in ops if op.outcome == "ok"]
    optional = [op for op in ops if op.outcome == "info" and op.kind != "read"]

    def step(op: Op, state: object) -> tuple[bool, object]:
        if op.kind == "write":
            return True, op.value
        if op.kind == "read":
            return state == op.result, state
        expected, new = op.value
        if op.outcome == "ok" and not op.result:
            return state != expected, state
        return state == expected, new

    @functools.cache
    def search(placed: frozenset, spent: frozenset, state: object) -> bool:
        left = [i for i in range(len(required)) if i not in placed]
        if not left:
            return True
        horizon = min(required[i].complete for i in left)
        moves = [(placed | {i}, spent, required[i]) for i in left]
        moves += [(placed, spent | {j}, op) for j, op in enumerate(optional) if j not in spent]
        for new_placed, new_spent, op in moves:
            fits, after = step(op, state)
            if op.invoke <= horizon and fits and search(new_placed, new_spent, after):
                return True
        return False

    return search(frozenset(), frozenset(), initial)


RANDOM_OP = st.tuples(st.sampled_from(["read", "write", "cas"]), st.integers(0, 12),
                      st.integers(0, 6), st.sampled_from(["ok", "ok", "ok", "info", "fail"]),
                      st.integers(0, 2), st.integers(0, 2), st.sampled_from([None, 0, 1, 2]),
                      st.booleans())


def random_op(p: int, kind: str, t0: int, length: int, outcome: str, a: int, b: int,
              seen: int | None, swapped: bool) -> Op:
    value = {"write": a, "cas": [a, b], "read": None}[kind]
    result = None if outcome != "ok" else {"write": None, "cas": swapped, "read": seen}[kind]
    return Op(p, kind, "r", value, t0, None if outcome == "info" else t0 + length, outcome, result)


@settings(max_examples=400, deadline=None)
@given(st.lists(RANDOM_OP, max_size=7), st.sampled_from([None, 0]))
def test_search_agrees_with_brute_force(drawn, initial):
    ops = [random_op(p, *fields) for p, fields in enumerate(drawn)]
    expected = LIN if brute_force(ops, initial) else NOT
    assert check_register(ops, initial=initial).status == expected
    assert Search(*_calls(ops), initial).run(10**6, None).status == expected


# -- queue ------------------------------------------------------------------------------------
def enq(p: int, value: int, t0: float, t1: float | None, outcome: str = "ok") -> Op:
    return Op(p, "enqueue", "q", value, t0, t1 if outcome != "info" else None, outcome)


QUEUE = [enq(1, 1, 0, 1), enq(2, 2, 0, 1), enq(1, 3, 2, 3), enq(2, 4, 2, None, "info"),
         enq(3, 5, 2, 3, "fail")]


def test_queue_in_order_with_indeterminate_present_or_absent():
    assert check_queue(QUEUE, [2, 1, 3, 4]).ok
    verdict = check_queue(QUEUE, [1, 2, 3])
    assert verdict.ok and verdict.detail.startswith("3 acknowledged and 1 indeterminate")


def test_queue_lost_duplicated_unexpected():
    verdict = check_queue(QUEUE, [1, 3, 3, 5, 77])
    assert not verdict.ok
    assert verdict.lost == (2,) and verdict.duplicated == (3,) and verdict.unexpected == (5, 77)
    assert verdict.misordered == ()
    assert "lost 1: 2" in verdict.detail and "unexpected 2: 5, 77" in verdict.detail


def test_queue_misordered():
    verdict = check_queue(QUEUE, [3, 1, 2])
    assert not verdict.ok and verdict.misordered == ((2, 3),)
    # an indeterminate enqueue still happened after its invoke, if at all
    assert check_queue(QUEUE, [4, 1, 2, 3]).misordered == ((2, 4),)


# -- history file -----------------------------------------------------------------------------
def test_history_round_trip(tmp_path):
    ops = [w(1, 1, 0.5, 1.25), cas(2, 1, 2, 2, None, outcome="info"), r(3, None, 3, 4),
           Op(4, "enqueue", "q", 7, 5, 6, "ok", node="n1", error="")]
    path = tmp_path / "history.jsonl"
    write_history(path, ops)
    assert read_history(path) == ops


@pytest.mark.parametrize("fields", [
    dict(kind="delete"), dict(outcome="maybe"), dict(complete=None), dict(complete=-1.0),
    dict(kind="cas", value=5, result=True), dict(kind="cas", value=[1, 2], result=None)])
def test_malformed_ops_are_refused(fields, tmp_path):
    good = dict(process=1, kind="write", key="r", value=1, invoke=0.0, complete=1.0, outcome="ok")
    with pytest.raises(HistoryError):
        Op(**{**good, **fields})
    path = tmp_path / "bad.jsonl"
    path.write_text('{"process": 1}\n')
    with pytest.raises(HistoryError, match="bad.jsonl:1"):
        read_history(path)
