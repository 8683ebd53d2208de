"""Memory an import gives back as it goes.

glibc's malloc maps a block of 128 KiB or more on its own and unmaps it when freed, but after freeing
one such block it raises that threshold to the block's size (up to 32 MB) and carves the later ones
from its heap, which it returns only from the top. An import's duplicate check (importer.duplicates)
merges sorted arrays of every ISBN seen, a 16th of them at a time, each merge a new array a little
larger than the one it frees: from the heap, each leaves a hole the next is too big for. At 5,000,000
rows that was 19 MB of holes in the reading process, beside the check's own 38 MB (bench/RESULTS.md).
A fixed threshold keeps every large block mapped, so a freed one goes back to the system at once.
"""

import ctypes
import logging
import sys

log = logging.getLogger(__name__)

#: mallopt's parameter for the threshold (glibc's malloc.h); setting it also ends its raising.
_M_MMAP_THRESHOLD = -3
#: glibc's own starting threshold, kept fixed.
MAP_FROM_BYTES = 128 * 1024


def give_back_large_blocks() -> bool:
    """Have blocks of MAP_FROM_BYTES or more go back to the system when freed, in this process and the
    processes it forks; return whether the C library took the setting (glibc on Linux does)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # a C library without it
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    taken = bool(mallopt(_M_MMAP_THRESHOLD, MAP_FROM_BYTES))
    if not taken:
        log.debug("event=mmap-threshold-not-set")
    return taken
