"""Python's cyclic garbage collector and big graphs of Values.

A graph of Values has no reference cycles: reference counting frees it as soon
as the last reference goes. But every node refers to other objects, so Python
tracks it for its cyclic collector, and a graph built in one training step
makes the collector walk it again and again while it grows.

Python 3.11 runs a full collection (of the oldest generation) when two things
hold: the oldest generation's counter passed its threshold (``threshold2``, 10 by
default: ten collections of the middle generation, about 70,000 allocations),
and the objects moved into the oldest generation since the last full collection
exceed a quarter of those the last one found alive. While one graph of N nodes
is built the second rule lets a full collection through each time the graph has
grown by about a quarter, so a step walks the graph so far about
log(N / B) / log(1.25) times (B: the objects that were alive before, about
60,000 in a bare interpreter): 8 full collections for a 1,000,000-node step,
about 4 N node visits in all. The count per node stays bounded, but a visit to
a node of a graph of hundreds of megabytes is a cache miss, so the time per
node grows with the graph: 1.6 us per node of a 1M-node MLP step goes to the
collector, against none for a 74,000-node one (``benchmarks/scaling.py``).

Importing autograd_tiny therefore raises ``threshold2`` from Python's default 10
to :data:`GRAPH_THRESHOLD2` (1000), which keeps full collections at least about
7,000,000 allocations apart. The time per node of an eager step then stays flat
from 65,000 to 1,000,000 nodes. The trade-off: a reference cycle that survives
two young collections may wait longer (up to that many allocations) before it
is freed; cycles that die young, and every acyclic object, are freed as
before. A threshold the program set itself is left alone, and
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
