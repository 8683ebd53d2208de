"""Reading in a second process: items, the return value, errors, stopping and dying, with real processes."""

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from bookapp.importer import FileProblem
from bookapp.services.read_ahead import PIPE_BYTES, SEND_AHEAD, ReadAhead, ReaderCrashed

ROOT = Path(__file__).resolve().parent.parent


def numbers(count: int, error: BaseException | None = None):
    yield from range(count)
    if error is not None:
        raise error
    return count


def gone(pid: int) -> bool:
    """Whether *pid* has exited (a zombie waiting for its new parent to collect it counts as exited)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "\nState:\tZ" in status


def test_items_and_the_return_value_arrive_in_order_from_another_process():
    with ReadAhead(lambda: numbers(20_000)) as items:
        assert list(items) == list(range(20_000))
    assert items.result == 20_000
    with ReadAhead(lambda: iter([os.getpid()])) as items:
        assert next(items) != os.getpid()


def test_the_reader_works_ahead_while_nothing_is_taken_but_only_so_far(tmp_path):
    made = tmp_path / "made"

    def big_items():
        for count in range(1, 10**6):
            made.write_text(str(count))
            yield b"x" * (PIPE_BYTES + 1000)  # more than a pipe holds: only the reader's own queue holds several

    def made_so_far(at_least: int) -> int:
        """How many items the reader has made, once it has made *at_least* (a reader starved of the CPU
        is waited for) and then no more for a whole second."""
        readings, deadline = [], time.monotonic() + 20
        while time.monotonic() < deadline:
            time.sleep(0.25)
            if text := made.read_text():  # empty while the reader rewrites it
                readings.append(int(text))
            if len(readings) >= 5 and len(set(readings[-5:])) == 1 and readings[-1] >= at_least:
                return readings[-1]
        raise AssertionError(f"the reader never stopped, or never made {at_least}: {readings}")

    with ReadAhead(big_items) as items:
        assert len(next(items)) == PIPE_BYTES + 1000
        ahead = made_so_far(SEND_AHEAD + 1)
        # Taken 1, its queue full, one in the pipe or being written, one made and waiting for room.
        assert SEND_AHEAD + 1 <= ahead <= SEND_AHEAD + 4
        for _ in range(10):
            next(items)
        assert made_so_far(ahead + 10) == ahead + 10, "taking items lets it make as many more"


def test_an_error_in_the_reader_is_raised_here_with_its_type_and_message():
    received = []
    with (
        ReadAhead(lambda: numbers(3, FileProblem("Row 4 opens a quote that is never closed."))) as items,
        pytest.raises(FileProblem, match="Row 4 opens a quote"),
    ):
        received.extend(items)
    assert received == [0, 1, 2]


def test_an_error_that_cannot_cross_arrives_by_its_type_name_without_its_text():
    class Unpicklable(Exception):
        pass  # a class defined in a function cannot be pickled

    with (
        ReadAhead(lambda: numbers(1, Unpicklable("<script>cell text</script>"))) as items,
        pytest.raises(ReaderCrashed) as raised,
    ):
        list(items)
    assert "Unpicklable" in str(raised.value) and "cell text" not in str(raised.value)


def test_a_reader_that_dies_is_reported_and_collected():
    def die():
        yield 1
        os.kill(os.getpid(), 9)
        yield 2

    with ReadAhead(die) as items:
        pid = items.pid
        with pytest.raises(ReaderCrashed, match="signal 9"):
            list(items)
    assert gone(pid)


def test_stopping_early_stops_the_reader():
    items = ReadAhead(lambda: numbers(10**12))
    pid = items.pid
    assert next(items) == 0
    items.close()
    assert gone(pid)


def test_a_reader_whose_importing_process_is_killed_exits():
    script = textwrap.dedent(
        """
        import sys, time
        from bookapp.services.read_ahead import ReadAhead
        items = ReadAhead(lambda: iter(range(10**12)))
        next(items)
        print(items.pid, flush=True)
        time.sleep(120)
        """
    )
    parent = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        reader = int(parent.stdout.readline())
        time.sleep(0.2)
        assert not gone(reader), "the reader waits, blocked on a full pipe"
        parent.kill()
        parent.wait(10)
        deadline = time.monotonic() + 10
        while not gone(reader) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert gone(reader), "the reader's next send fails once nobody can read the pipe"
    finally:
        parent.kill()
        parent.stdout.close()


def opened_then_ordered(orders):
    """A reader that sends what it has before its orders, then what it was ordered to."""
    yield "opened"
    order = orders()
    if order is None:
        return "no orders"
    start, count = order
    yield from range(start, start + count)
    return count


def test_an_instructed_reader_sends_first_then_does_as_it_is_ordered():
    """The workbook case: the child opens the file and sends the header; the parent decides (the columns,
    the resume point) and orders the rest, which may be large (a validator pickled)."""
    with ReadAhead(opened_then_ordered, instructed=True) as items:
        assert next(items) == "opened"
        items.instruct((10, 3))
        assert list(items) == [10, 11, 12]
    assert items.result == 3


def test_an_instructed_reader_given_no_orders_ends_and_a_big_order_arrives_whole():
    with ReadAhead(opened_then_ordered, instructed=True) as items:
        assert next(items) == "opened"
        items.withhold_orders()  # the parent stops before ordering anything (a file it will not read)
        assert list(items) == []
    assert items.result == "no orders"

    def echo(orders):
        yield "ready"
        yield orders()

    big = b"x" * (4 * PIPE_BYTES)
    with ReadAhead(echo, instructed=True) as items:
        assert next(items) == "ready"
        items.instruct(big)
        assert next(items) == big
