"""The server-header accounting of crawler/middlewares/api_budget.py as pure logic (times are given, not read):
answers that arrive out of order only lower what is left within a window; a window reset counts the calls
still in flight; only an answer provably from a later window raises the budget early. The same rules against a
real local Reddit-style server: tests/test_reddit_live.py."""
from __future__ import annotations

from crawler.middlewares.api_budget import Budget


def _budget() -> Budget:
    return Budget("reddit", "http://127.0.0.1:1/reddit-api", 0, 60.0)


def test_a_stale_answer_arriving_after_a_fresher_one_does_not_raise_what_is_left():
    b = _budget()
    b.take(0.0)
    b.answered(3.0, 1.0, 1.0, 0.01, sent_at=0.0)  # 3 of 4 left
    for t in (0.02, 0.03, 0.04):
        assert b.wait_needed(t) == 0
        b.take(t)
    b.answered(0.0, 1.0, 4.0, 0.05, sent_at=0.04)  # the last call's answer first: nothing left
    b.answered(2.0, 1.0, 2.0, 0.30, sent_at=0.02)  # the first call's answer, held back: 2 left back then
    assert b.header_left <= 0
    assert b.wait_needed(0.31) > 0.5  # waits for the window to end instead of spending again


def test_answers_in_order_still_count_what_is_left():
    b = _budget()
    b.take(0.0)
    b.answered(3.0, 1.0, 1.0, 0.01, sent_at=0.0)
    b.take(0.02)
    b.answered(2.0, 1.0, 2.0, 0.03, sent_at=0.02)
    assert b.header_left == 2 and b.wait_needed(0.04) == 0


def test_a_window_reset_counts_the_calls_still_in_flight():
    b = _budget()
    b.take(0.0)
    b.answered(1.0, 1.0, 3.0, 0.01, sent_at=0.0)
    b.take(0.5)  # the last call of this window, still unanswered when the window ends: it may land in the next
    assert b.wait_needed(0.6) > 0
    assert b.wait_needed(1.02) == 0
    assert b.header_left == 4 - 1


def test_an_answer_from_a_later_window_raises_what_is_left_at_once():
    """Long windows (Reddit's are minutes): the first answer says the window ends within 10 s (9 to 10 s: whole
    seconds, rounded up). A call sent at 9.5 s whose answer says 60 s are left belongs to a window ending after
    68.5 s: a later one, whose count replaces the old window's."""
    b = _budget()
    b.take(0.0)
    b.answered(5.0, 10.0, 95.0, 0.01, sent_at=0.0)
    b.take(9.5)
    assert b.header_left == 4
    b.answered(99.0, 60.0, 1.0, 9.51, sent_at=9.5)
    assert b.header_left == 99 and b.wait_needed(9.52) == 0


def test_an_answer_that_may_be_from_the_current_window_only_lowers():
    b = _budget()
    b.take(0.0)
    b.answered(10.0, 50.0, 90.0, 0.01, sent_at=0.0)
    b.take(1.0)
    b.take(1.1)
    # a call sent at 1.0 with 45 s left: its window may be the one seen (ending by 50.01): not provably later
    b.answered(60.0, 45.0, 40.0, 1.2, sent_at=1.0)
    assert b.header_left == 10 - 2
