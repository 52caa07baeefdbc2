"""Bulk work: one switch for code that makes hundreds of thousands of short-lived objects at once."""

import gc
from contextlib import contextmanager


@contextmanager
def bulk_allocations():
    """Pause the cyclic garbage collector while a batch is parsed, validated or stored.

    A batch makes hundreds of thousands of small objects without reference cycles (rows, tuples, dicts); the
    collector would rescan the survivors again and again and take 2–3 times the work itself. Reference counting
    still frees everything; the collector is switched back on (if it was on) when the batch is done.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
