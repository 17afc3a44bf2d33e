"""A network file's replay: the interpreter over its tape, with the file's names for its numbers.

A hand derivation computes its figures from earlier figures. To tell a slip from a
figure that only carries an earlier slip forward, the checker recomputes each
claimed number from the *other* claimed numbers: wherever the recomputation needs a
quantity that the file claims (``out_h1``, ``dE/dw5``, ``w5+`` ...), it uses the
written value instead of its own.

:class:`Replay` is :class:`autograd_tiny.derivation.interpreter.Replay` on the tape of
one forward pass of the network (:class:`autograd_tiny.derivation.tape.Tape`), plus
where each claim's quantity lives on it (:meth:`Replay.key`) and when a hand
derivation computes it (:meth:`Replay.order`).
"""

from __future__ import annotations

from . import interpreter
from .format import Quantity
from .interpreter import Key, Optimizer, Trace
from .network import Network, factor_edge, factor_label, label
from .tape import Tape, op_derivatives, op_forward

__all__ = ["Key", "Replay", "Trace", "derivative_function", "forward_function"]

forward_function = op_forward
derivative_function = op_derivatives


class Replay(interpreter.Replay):
    """The computation of a network file, step by step, with replaceable numbers.

    Args:
        network: the derivation's network; it is reset to the file's numbers and one
            forward pass is taken to read the graph's structure.
    """

    def __init__(self, network: Network) -> None:
        spec = network.spec
        network.reset()
        fw = network.forward()
        tape = Tape([fw.loss], network.parameters, fw.nodes)
        super().__init__(tape, {name: p.data for name, p in network.parameters.items()},
                         [name for name in network.parameters if spec.is_trainable(name)],
                         Optimizer(spec.learning_rate, spec.momentum, spec.dampening, spec.nesterov,
                                   spec.weight_decay),
                         network.sample_scale)
        index = tape.index
        self.depth = tape.depth
        self.first_use = tape.first_use
        self._label = tape.names
        self._fw = fw
        self._index = index
        self._turns = [index[t] for t in network.turns]

    def step_inputs(self, step: int) -> dict[int, float]:
        """Return the ``turn[s]`` leaves of a batch updated after each sample: 1 for step ``step``'s
        sample, 0 for the others (nothing for other files)."""
        return {t: 1.0 if step % len(self._turns) == i else 0.0 for i, t in enumerate(self._turns)}

    # -- naming -----------------------------------------------------------------------------
    def key(self, q: Quantity) -> Key:
        """Return where quantity ``q`` lives in a replay (aliases share a key)."""
        if q.kind in ("param", "velocity", "rgrad"):
            return ({"param": "p", "velocity": "v", "rgrad": "r"}[q.kind], str(q.subject), q.step)
        if q.kind == "Ereg":
            return ("e", 0, q.step)
        if q.kind == "factor":
            fw = self._fw
            top, bottom = fw.nodes[label(q)], fw.nodes[factor_label(q)]
            try:
                node, pos = factor_edge(top, bottom)
            except ValueError:  # through several operations (a softmax): a local gradient
                return ("l", self._index[top] * len(self.tape) + self._index[bottom], q.step)
            return ("d", 2 * self._index[node] + pos, q.step)
        where = self._label[label(q)]
        if q.kind in ("dout", "dnet", "grad", "dx"):
            return ("s" if q.sample is not None else "g", where, q.step)
        return ("f", where, q.step)


    def order(self, key: Key) -> tuple[float, ...]:
        """Return where the number at ``key`` is computed: ``(step, phase, position)``.

        Phase 0 is the forward pass, a layer at a time (by depth in the graph: every net
        input of a layer, then every output), 1 the backward pass from the loss (by depth
        the other way; a parameter's gradient is done when its shallowest use has passed
        it back; a chain-rule factor comes as its node passes the gradient on), 2 the
        update taking step ``step`` to ``step + 1`` (all parameters at
        once: equal orders).
        """
        channel, where, step = key
        if channel in ("p", "v"):
            return (step - 1, 2, 0)
        if channel == "r":
            return self.order(("g", self.tape.params[str(where)], step))
        if channel == "e":
            return (step, 0, self.depth[self.tape.root] + 0.5)
        assert isinstance(where, int)
        if channel == "d":  # a factor: used as the backward pass leaves its node
            return (step, 1, -self.depth[where // 2] + 0.25)
        if channel == "l":
            return (step, 1, -self.depth[where // len(self.tape)] + 0.25)
        if channel == "f":
            return (step, 0, self.depth[where])
        if self.tape.nodes[where].op is None:
            return (step, 1, -self.first_use.get(where, 0) + 0.5)
        return (step, 1, -self.depth[where])
