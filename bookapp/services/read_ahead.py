"""Read and validate a file in a second process while the import's own process writes.

An import's reading and validating (pure Python, no database) takes about as long as its writing.
In one process they take turns, because one Python process runs Python on one core at a time; a
thread does not help, since both halves need the interpreter. ReadAhead forks a child process that
runs a generator and sends each item it yields through a pipe, so the two halves run on two cores.

- **Flat memory:** the child works at most SEND_AHEAD (or *ahead*) items ahead of the parent, then waits until
  the parent takes one; a million-row file never piles up between the two.
- **Nobody left behind:** the child closes its copy of the pipe's reading end, so if the parent dies
  (killed worker, timeout) its next send fails and it exits; the parent stops the child whenever it
  stops reading (finished, cancelled, failed).
- **Errors arrive as raised:** an exception in the child is raised again in the parent, of the same
  type when it can be pickled (FileProblem and its message, for one).
- **Nothing shared is touched:** the child inherits the parent's database and Redis connections
  but never uses them, and ends with os._exit, so no cleanup code sends anything on them.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import os
import pickle
import queue
import signal
import threading
import warnings
from collections.abc import Callable, Generator
from multiprocessing.connection import Connection
from multiprocessing.reduction import ForkingPickler
from typing import Any, NamedTuple

try:
    import fcntl
except ImportError:  # Windows, which cannot fork: the import reads in its own process there
    fcntl = None


def available() -> bool:
    """Whether this platform can fork (Windows cannot: the import then reads in its own process)."""
    return hasattr(os, "fork")


class _End(NamedTuple):
    result: Any


class _Failed(NamedTuple):
    error: BaseException


class ReaderCrashed(RuntimeError):
    """The reading process failed with an error that could not be sent back as itself."""

    def __init__(self, type_name: str):
        super().__init__(f"the reading process failed with {type_name}")
        self.type_name = type_name

    def __reduce__(self):
        return (ReaderCrashed, (self.type_name,))


class ReadAhead:
    """Iterate here over what ``produce()`` yields in a forked child; ``result`` is what it returned.

    Use as a context manager, so the child is stopped however the loop ends.
    """

    def __init__(self, produce: Callable[..., Generator], ahead: int = 0, *, instructed: bool = False):
        """*ahead*: the items the child may have ready before this process takes them (SEND_AHEAD when 0).

        *instructed*: ``produce`` is called with a function that waits for what this process then passes
        to ``instruct`` (None if it never does): the child can start on what needs no instructions (open
        and check a file) while this process decides the rest from what the child sent first."""
        read_fd, write_fd = os.pipe()
        _widen(write_fd)
        order_fds = os.pipe() if instructed else None
        with warnings.catch_warnings():
            # Python 3.12+ warns that a child forked from a threaded process may deadlock on a lock
            # another thread held. The child takes none of those locks: it reads a file, validates
            # and writes to its pipe (no database, Redis or logging).
            warnings.simplefilter("ignore", DeprecationWarning)
            try:
                self.pid = os.fork()
            except OSError:  # no memory or process slot left: leave no open pipe behind
                for fd in (read_fd, write_fd, *(order_fds or ())):
                    os.close(fd)
                raise
        if self.pid == 0:  # the child
            code = 1
            try:
                os.close(read_fd)
                if order_fds:
                    os.close(order_fds[1])
                    produce = functools.partial(produce, functools.partial(_receive, order_fds[0]))
                code = _send_all(produce, Connection(write_fd, readable=False), ahead or SEND_AHEAD)
            finally:
                os._exit(code)
        os.close(write_fd)
        self._pipe = Connection(read_fd, writable=False)
        self._orders: int | None = None
        if order_fds:
            os.close(order_fds[0])
            self._orders = order_fds[1]
        self.result: Any = None

    def instruct(self, order: Any) -> None:
        """Pass *order* to the child (once): what its ``produce`` waits for."""
        data = pickle.dumps(order)
        data = len(data).to_bytes(8, "little") + data
        try:
            while data:
                data = data[os.write(self._orders, data) :]
        except BrokenPipeError:
            pass  # the child is gone: the next item says how
        finally:
            self.withhold_orders()

    def withhold_orders(self) -> None:
        """Tell the child no order will come (its ``orders()`` returns None): the parent will not read on."""
        if self._orders is not None:
            os.close(self._orders)
            self._orders = None

    def lower_priority(self, niceness: int) -> None:
        """Let the child run only on CPU time others leave, about: raise its niceness to *niceness*
        (for good: an unprivileged process may not lower it again). Where the platform has no
        niceness, or the child is gone, nothing changes."""
        if self.pid and hasattr(os, "setpriority"):
            with contextlib.suppress(OSError):
                os.setpriority(os.PRIO_PROCESS, self.pid, max(niceness, os.getpriority(os.PRIO_PROCESS, self.pid)))

    def __iter__(self):
        return self

    def __next__(self):
        try:
            message = self._pipe.recv()
        except EOFError:
            status = self._reap(block=True)
            raise ReaderCrashed(f"an exit ({_describe(status)})") from None
        if isinstance(message, _End):
            self.result = message.result
            raise StopIteration
        if isinstance(message, _Failed):
            raise message.error
        return message

    def close(self) -> None:
        """Stop the child (if it is still running) and collect it."""
        self.withhold_orders()
        if not self._pipe.closed:
            self._pipe.close()
        if self.pid and self._reap(block=False) is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)  # it holds nothing that needs a clean stop
            self._reap(block=True)

    def _reap(self, *, block: bool) -> int | None:
        """Collect the child's exit status (None if it is still running and *block* is false)."""
        if not self.pid:
            return None
        try:
            pid, status = os.waitpid(self.pid, 0 if block else os.WNOHANG)
        except ChildProcessError:
            pid, status = self.pid, 0  # already collected elsewhere
        if pid == 0:
            return None
        self.pid = 0
        return status

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


#: Items the reading process may have ready before the importing process takes them, unless told
#: otherwise (an import passes as many chunks as make about READ_AHEAD_ROWS rows: row_reading.py). A chunk
#: of 2,000 book rows pickles to about 300 kB, so 32 hold about 10 MB.
#: Working ahead, the reading goes on while the importing process pauses (a commit that checkpoints
#: SQLite's log takes a tenth of a second or more), where a bare pipe would stop it after about one
#: chunk.
SEND_AHEAD = 32


#: Bytes a pipe may hold (Linux only; 1 MiB is the most an unprivileged process may ask for by
#: default). A pickled chunk then goes through in one write, where the default 64 kB pipe took about
#: five, each a wait for the parent and a turn for the interpreter lock between the child's threads.
PIPE_BYTES = 1 << 20


def _widen(fd: int) -> None:
    """Ask for a pipe of PIPE_BYTES; keep the default one where that is not possible."""
    if hasattr(fcntl, "F_SETPIPE_SZ"):  # Linux
        with contextlib.suppress(OSError):
            fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)


def _send_all(produce: Callable[[], Generator], pipe: Connection, ahead: int = 0) -> int:
    """Run in the child: send each item, then the return value or the error; return the exit code.

    This thread reads and pickles; a second thread writes the pickled items to the pipe, so the
    reading waits only when SEND_AHEAD items are ready and not yet taken.
    """
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C in a terminal is for the parent to handle
    # What the child inherited lives until it exits: the collector need not scan it (nor copy its
    # pages from the parent, as marking objects would).
    gc.freeze()
    ready: queue.Queue = queue.Queue(maxsize=ahead or SEND_AHEAD)
    sender = threading.Thread(target=_send_ready, args=(ready, pipe), name="read-ahead-send", daemon=True)
    sender.start()
    items = produce()
    try:
        while True:
            try:
                item = next(items)
            except StopIteration as stop:
                ready.put(ForkingPickler.dumps(_End(stop.value)))
                break
            ready.put(ForkingPickler.dumps(item))
    except BaseException as exc:  # every error goes back to the parent
        ready.put(ForkingPickler.dumps(_Failed(_sendable(exc))))
    ready.put(None)
    sender.join()
    return 0


def _send_ready(ready: queue.Queue, pipe: Connection) -> None:
    """The child's sending thread: write each pickled item to the pipe, in order, until None."""
    while (data := ready.get()) is not None:
        try:
            pipe.send_bytes(data)
        except (BrokenPipeError, ConnectionResetError):
            os._exit(0)  # the parent stopped reading: nothing left to do


def _receive(fd: int) -> Any:
    """Run in the child: wait for the parent's order (None if it closed the pipe without one)."""
    data = bytearray()
    with open(fd, "rb", buffering=0) as orders:
        while len(data) < 8 or len(data) < 8 + int.from_bytes(data[:8], "little"):
            block = orders.read(1 << 20)
            if not block:
                return None
            data += block
    return pickle.loads(data[8:])


def _sendable(exc: BaseException) -> BaseException:
    try:
        copy = pickle.loads(pickle.dumps(exc))
    except Exception:  # any exception type may refuse pickling
        return ReaderCrashed(type(exc).__name__)
    if type(copy) is not type(exc):
        return ReaderCrashed(type(exc).__name__)
    return exc


def _describe(status: int | None) -> str:
    if status is None:
        return "unknown status"
    if os.WIFSIGNALED(status):
        return f"signal {os.WTERMSIG(status)}"
    return f"code {os.waitstatus_to_exitcode(status)}"


class ReadHere:
    """The same interface, reading in this process (when forking is off or not available)."""

    def __init__(self, produce: Callable[[], Generator]):
        self._items = produce()
        self.result: Any = None

    def lower_priority(self, niceness: int) -> None:
        """Nothing to lower: the reading is this process's own."""

    def __iter__(self):
        return self

    def __next__(self):
        try:
            return next(self._items)
        except StopIteration as stop:
            self.result = stop.value
            raise

    def close(self) -> None:
        self._items.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
