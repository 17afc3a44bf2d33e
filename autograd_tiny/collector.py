"""Python's cyclic garbage collector and big graphs of Values.

A graph of Values has no reference cycles: reference counting frees it as soon
as the last reference goes. But every node refers to other objects, so Python
tracks it for its cyclic collector, and a graph built in one training step
makes the collector walk it again and again while it grows.

Python 3.11 runs a full collection (of the oldest generation) when two things
hold: the oldest generation's counter passed its threshold (``threshold2``, 10 by
default: ten collections of the middle generation, which here means about
93,000 new nodes), and the objects moved into the oldest generation since the
last full collection exceed a quarter of those the last one found alive. The
second rule is meant to keep the work proportional, but it only bites once the
objects alive are four times the first rule's spacing (about 370,000 here).
Until then a full collection comes every 93,000 nodes and walks the whole graph
built so far, so the work per node grows with the graph; beyond, it stays at a
few walks per node, each of them a cache miss on a graph of hundreds of
megabytes. Measured on one step of a 2-64-64-1 MLP: 1 full collection walking
0.5 objects per node at 74,000 nodes; 8 walking 3.1 objects per node at
1,000,000 nodes (at 40,000, 133,000, 226,000, 320,000, 413,000, 523,000,
658,000 and 827,000 nodes). ``benchmarks/scaling.py --eager-only --gc python``
shows what that costs.

Importing autograd_tiny therefore raises ``threshold2`` from Python's default
10 to :data:`GRAPH_THRESHOLD2` (1000), which keeps full collections at least
about 9,000,000 new objects apart: none at all in most steps up to millions of
nodes, and the time per node of an eager step stays flat from 65,000 to
1,000,000 nodes. The trade-off: a reference cycle that survives two young
collections may wait that much longer before it is freed; cycles that die
young, and every acyclic object (the graph itself), are freed as before.
A threshold the program set itself is left alone, and
:func:`use_python_default` gives the default back.
"""

from __future__ import annotations

import gc

#: The generation-2 threshold autograd_tiny sets at import (Python's default is 10).
GRAPH_THRESHOLD2 = 1000
#: Python's default generation-2 threshold.
PYTHON_THRESHOLD2 = 10


def raise_threshold() -> bool:
    """Set the collector's generation-2 threshold to :data:`GRAPH_THRESHOLD2` if it is Python's default.

    Returns:
        True when the threshold was changed, False when it was not Python's
        default (the program chose its own; it is left alone).
    """
    t0, t1, t2 = gc.get_threshold()
    if t2 != PYTHON_THRESHOLD2:
        return False
    gc.set_threshold(t0, t1, GRAPH_THRESHOLD2)
    return True


def use_python_default() -> None:
    """Give the collector's generation-2 threshold its Python default (10) back.

    Returns:
        None. Full collections then run as often as in a program without autograd_tiny.
    """
    t0, t1, _ = gc.get_threshold()
    gc.set_threshold(t0, t1, PYTHON_THRESHOLD2)


raise_threshold()

__all__ = ["GRAPH_THRESHOLD2", "PYTHON_THRESHOLD2", "raise_threshold", "use_python_default"]
