"""Re-running a derivation's forward and backward passes with written numbers put in.

A hand derivation computes its figures from earlier figures. To tell a slip from a
figure that only carries an earlier slip forward, the checker recomputes each
claimed number from the *other* claimed numbers: wherever the recomputation needs a
quantity that the file claims (``out_h1``, ``dE/dw5``, ``w5+`` ...), it uses the
written value instead of its own.

:class:`Replay` does that on the network's computation graph. It takes the graph of
one forward pass once (its structure does not change between steps), then, step by
step, evaluates every node forward, runs reverse-mode differentiation backward and
applies the gradient-descent update, with any node's value, any node's gradient or
any parameter replaced by a given number. Forward results and derivatives come from
the operation table (:mod:`autograd_tiny.ops`), rewritten into Python by
:mod:`autograd_tiny.codegen` exactly as the eager engine does, so a replay without
replacements gives the engine's numbers.

Each replaced number can carry a bit; the replay then also reports which replaced
numbers each result depends on (using which of ``x``, ``y``, ``out`` each table
derivative reads), which is how the checker names the figure a slip came from.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from functools import cache

from .. import codegen
from ..ops import OPS
from ..value import Value, topological_order
from .format import Quantity
from .network import Network, factor_edge, factor_label, label, step_range

#: ``(channel, where, step)``: ``("f", node, k)`` a node's value, ``("g", node, k)`` the loss's
#: gradient with respect to a node, ``("s", node, k)`` the same divided by the replay's
#: ``sample_scale`` (a sample's own derivative in a batch), ``("d", 2 * node + position, k)``
#: the local derivative of a node with respect to one operand (a factor of the chain rule),
#: ``("p", name, k)`` a parameter's value after ``k`` steps.
Key = tuple[str, int | str, int]

_NAMESPACE = codegen.float_namespace()
_OPERAND_POSITION = {"x": 0, "y": 1}


@cache
def forward_function(op_name: str) -> Callable[[float, float], float]:
    """Return ``f(x, y)``: the table's forward expression of an operation, on floats."""
    source = codegen.substitute(OPS[op_name].forward, {"x": "x", "y": "y"})
    return codegen.table_function(  # type: ignore[return-value]
        "x, y", [source], _NAMESPACE, f"forward of {op_name}", single=True)


@cache
def derivative_function(op_name: str) -> Callable[[float, float, float], tuple[float, ...]]:
    """Return ``f(x, y, out)``: the table's local derivatives of an operation, one per operand."""
    terms = [codegen.substitute(d, {"x": "x", "y": "y", "out": "out"})
             for d in OPS[op_name].derivatives]
    return codegen.table_function(  # type: ignore[return-value]
        "x, y, out", terms, _NAMESPACE, f"derivatives of {op_name}")


@dataclass
class _Node:
    """One node of the replayed graph."""

    param: str | None = None          # a parameter leaf's name
    const: float = 0.0                # a constant leaf's value (inputs)
    op: str | None = None             # the operation of an interior node
    operands: tuple[tuple[int | None, float], ...] = ()   # (node index, or None and a constant)
    parents: tuple[tuple[int, int], ...] = ()             # (operand position, node index)
    reads: tuple[tuple[int, ...], ...] = ()               # per position: operand nodes its derivative reads


@dataclass
class Trace:
    """What one replay computed, for the steps asked for.

    ``params[k]`` holds the parameters after ``k`` steps (with replacements applied);
    ``values[k]``, ``grads[k]`` and ``factors[k]`` every node's value, gradient and local
    derivatives (at ``2 * node + position``) at step ``k``; ``masks`` the bits each kept
    result depends on.
    """

    params: dict[int, dict[str, float]] = field(default_factory=dict)
    values: dict[int, list[float]] = field(default_factory=dict)
    grads: dict[int, list[float]] = field(default_factory=dict)
    masks: dict[Key, int] = field(default_factory=dict)
    factors: dict[int, list[float]] = field(default_factory=dict)
    sample_scale: float = 1.0
    #: ``velocity[k]``: each parameter's momentum velocity before step ``k``'s update (kept
    #: steps; a parameter without one starts at its step's gradient).
    velocity: dict[int, dict[str, float]] = field(default_factory=dict)

    def get(self, key: Key) -> float:
        """Return the number at ``key`` (its step must have been kept)."""
        channel, where, step = key
        if channel == "p":
            return self.params[step][where]  # type: ignore[index]
        if channel == "s":
            return self.grads[step][where] / self.sample_scale  # type: ignore[index]
        table = {"f": self.values, "g": self.grads, "d": self.factors}[channel]
        return table[step][where]  # type: ignore[index]


class Replay:
    """The computation of a derivation, step by step, with replaceable numbers.

    Args:
        network: the derivation's network; it is reset to the file's numbers and one
            forward pass is taken to read the graph's structure.
    """

    def __init__(self, network: Network) -> None:
        spec = network.spec
        network.reset()
        fw = network.forward()
        order = topological_order(fw.loss)
        index: dict[Value, int] = {v: i for i, v in enumerate(order)}
        param_name = {p: name for name, p in network.parameters.items()}
        self.nodes: list[_Node] = []
        for v in order:
            if v.is_leaf:
                self.nodes.append(_Node(param=param_name[v]) if v in param_name else _Node(const=v.data))
                continue
            op = v.op
            assert op is not None
            operands = tuple((index[o], 0.0) if isinstance(o, Value) else (None, float(o))
                             for o in v.operands)
            parents = tuple((pos, i) for pos, (i, _) in enumerate(operands) if i is not None)
            reads = []
            for pos in range(op.arity):
                used = codegen.names_used(op.derivatives[pos])
                nodes = [operands[_OPERAND_POSITION[n]][0] for n in used if n in _OPERAND_POSITION
                         if _OPERAND_POSITION[n] < len(operands)]
                if "out" in used:
                    nodes.append(index[v])
                reads.append(tuple(i for i in nodes if i is not None))
            self.nodes.append(_Node(op=op.name, operands=operands, parents=parents, reads=tuple(reads)))
        self.root = index[fw.loss]
        #: node -> its depth (0 for a leaf, else one more than its deepest operand) and the
        #: depth of the shallowest node that uses it (the last to add to its gradient).
        self.depth: list[int] = []
        self.first_use: dict[int, int] = {}
        for node in self.nodes:
            self.depth.append(1 + max((self.depth[p] for _, p in node.parents), default=-1))
            for _, p in node.parents:
                self.first_use[p] = min(self.first_use.get(p, len(self.nodes)), self.depth[-1])
        self.learning_rate = spec.learning_rate
        self.momentum = spec.momentum
        self.weight_decay = spec.weight_decay
        self.sample_scale = network.sample_scale
        self._label = {name: index[v] for name, v in fw.nodes.items() if v in index}
        self._fw = fw
        self._index = index
        self.start = {name: p.data for name, p in network.parameters.items()}
        self.trainable = {name: spec.is_trainable(name) for name in network.parameters}
        self.param_index = {name: index[p] for name, p in network.parameters.items() if p in index}
        self._net = {n: index[v] for n, v in fw.net.items()}
        self._out = {n: index[v] for n, v in fw.out.items()}
        self._terms = {n: index[v] for n, v in fw.terms.items()}
        #: neuron -> the node applying its activation (neurons with the identity have none,
        #: softmax neurons none either: their output is no single-input operation).
        activation = {n: spec.activations[i - 1] for i, layer in enumerate(spec.layers) if i
                      for n in layer}
        self.activation_nodes = {n: i for n, i in self._out.items()
                                 if i != self._net[n] and activation[n] != "softmax"}
        self.forward_nodes = frozenset(i for i, node in enumerate(self.nodes) if node.op is not None)
        self._forward = [forward_function(n.op) if n.op else None for n in self.nodes]
        self._derivative = [derivative_function(n.op) if n.op else None for n in self.nodes]

    # -- naming -----------------------------------------------------------------------------
    def key(self, q: Quantity) -> Key:
        """Return where quantity ``q`` lives in a replay (aliases share a key)."""
        if q.kind == "param":
            return ("p", str(q.subject), q.step)
        if q.kind == "factor":
            fw = self._fw
            node, pos = factor_edge(fw.nodes[label(q)], fw.nodes[factor_label(q)])
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
        if channel == "p":
            return (step - 1, 2, 0)
        assert isinstance(where, int)
        if channel == "d":  # a factor: used as the backward pass leaves its node
            return (step, 1, -self.depth[where // 2] + 0.25)
        if channel == "f":
            return (step, 0, self.depth[where])
        if self.nodes[where].op is None:
            return (step, 1, -self.first_use.get(where, 0) + 0.5)
        return (step, 1, -self.depth[where])

    # -- one step ---------------------------------------------------------------------------
    def step(
        self,
        params: Mapping[str, float],
        values_in: Mapping[int, float] | None = None,
        grads_in: Mapping[int, float] | None = None,
        derivative_params: Mapping[str, float] | None = None,
        derivatives: Mapping[int, str | None] | None = None,
        factors_in: Mapping[int, float] | None = None,
        factors_out: list[float] | None = None,
    ) -> tuple[list[float], list[float]]:
        """Return every node's value and gradient for one forward and backward pass.

        Args:
            params: each parameter's value.
            values_in: node index -> a value to use instead of the computed one.
            grads_in: node index -> a gradient to use instead of the computed one.
            derivative_params: when given, the backward pass evaluates local
                derivatives with these parameter values (the forward values stay):
                how a derivation that uses updated weights in its backward pass computes.
            derivatives: node index -> the name of the table operation whose local
                derivative the backward pass uses at that node instead of its own (with the
                node's operands and value), or None to leave the factor out (take it as 1):
                how a derivation that uses another activation's derivative computes.
            factors_in: ``2 * node + position`` -> a local derivative to use there.
            factors_out: a list of ``2 * len(nodes)`` numbers that receives every local
                derivative the backward pass used.
        """
        values_in = values_in or {}
        grads_in = grads_in or {}
        nodes, forward = self.nodes, self._forward
        n = len(nodes)
        vals = [0.0] * n
        for i in range(n):
            node = nodes[i]
            fn = forward[i]
            if fn is None:
                v = params[node.param] if node.param is not None else node.const
            else:
                ops = node.operands
                x = vals[ops[0][0]] if ops[0][0] is not None else ops[0][1]
                y = 0.0
                if len(ops) > 1:
                    y = vals[ops[1][0]] if ops[1][0] is not None else ops[1][1]
                v = fn(x, y)
            vals[i] = values_in.get(i, v) if values_in else v
        dvals = vals
        if derivative_params is not None:
            dvals = list(vals)
            for name, i in self.param_index.items():
                if i not in values_in:
                    dvals[i] = derivative_params[name]
        grads = [0.0] * n
        grads[self.root] = 1.0
        derivative = self._derivative
        for i in range(n - 1, -1, -1):
            der = derivative[i]
            if der is None:
                continue
            g = grads_in[i] if i in grads_in else grads[i]
            grads[i] = g
            ops = nodes[i].operands
            x = dvals[ops[0][0]] if ops[0][0] is not None else ops[0][1]
            y = 0.0
            if len(ops) > 1:
                y = dvals[ops[1][0]] if ops[1][0] is not None else ops[1][1]
            if derivatives and i in derivatives:
                other = derivatives[i]
                if other is None:
                    for _, p in nodes[i].parents:
                        grads[p] += g
                    continue
                der = derivative_function(other)
            d = der(x, y, dvals[i])
            if factors_in or factors_out is not None:
                d = tuple(factors_in.get(2 * i + pos, v) if factors_in else v for pos, v in enumerate(d))
                if factors_out is not None:
                    for pos, v in enumerate(d):
                        factors_out[2 * i + pos] = v
            for pos, p in nodes[i].parents:
                grads[p] += g * d[pos]
        for i, g in grads_in.items():
            if nodes[i].op is None:
                grads[i] = g
        return vals, grads

    def update(self, params: Mapping[str, float], grads: list[float],
               velocity: dict[str, float] | None = None) -> dict[str, float]:
        """Return the parameters after one gradient-descent step with the given gradients.

        With weight decay the step uses ``dE/dP + wd * P``; with momentum it keeps each
        parameter's velocity in ``velocity`` (updated in place; an absent one starts at the
        step's gradient), as ``torch.optim.SGD`` does.
        """
        lr, wd, m = self.learning_rate, self.weight_decay, self.momentum
        new: dict[str, float] = {}
        for name, value in params.items():
            if not self.trainable[name]:
                new[name] = value
                continue
            d = grads[self.param_index[name]]
            if wd:
                d = d + wd * value
            if m and velocity is not None:
                d = velocity[name] = m * velocity[name] + d if name in velocity else d
            new[name] = value - lr * d
        return new

    def _masks(self, pmask: Mapping[str, int], fbits: Mapping[int, int],
               gbits: Mapping[int, int], dbits: Mapping[int, int] | None = None,
               ) -> tuple[list[int], list[int], dict[str, int]]:
        """Return the bits every value and gradient depends on, and the next step's parameter bits."""
        nodes = self.nodes
        n = len(nodes)
        fmask = [0] * n
        for i, node in enumerate(nodes):
            if i in fbits:
                fmask[i] = fbits[i]
            elif node.param is not None:
                fmask[i] = pmask[node.param]
            elif node.op is not None:
                m = 0
                for _, p in node.parents:
                    m |= fmask[p]
                fmask[i] = m
        gmask = [0] * n
        for i in range(n - 1, -1, -1):
            node = nodes[i]
            if node.op is None:
                continue
            g = gbits.get(i, gmask[i])
            gmask[i] = g
            for pos, p in node.parents:
                m = g
                if dbits and 2 * i + pos in dbits:
                    m |= dbits[2 * i + pos]
                else:
                    for r in node.reads[pos]:
                        m |= fmask[r]
                gmask[p] |= m
        for i, bit in gbits.items():
            if nodes[i].op is None:
                gmask[i] = bit
        nxt = {
            name: (m | gmask[self.param_index[name]]) if self.trainable[name] else m
            for name, m in pmask.items()
        }
        return fmask, gmask, nxt

    # -- many steps -------------------------------------------------------------------------
    def run(
        self,
        replace: Mapping[Key, float],
        until: int,
        keep: Collection[int] = (),
        bits: Mapping[Key, int] | None = None,
        progress: bool = False,
    ) -> Trace:
        """Replay steps ``0 .. until`` with the numbers in ``replace`` put in.

        Args:
            replace: key -> the number to use there instead of the computed one.
            until: the last step whose forward and backward passes are needed; the
                parameters after it (step ``until + 1``) are computed too.
            keep: steps whose values and gradients the trace keeps (parameters are
                kept for these steps and for ``until + 1``).
            bits: key -> a bit; the trace's ``masks`` then say, for every kept key,
                which of these replacements the number depends on.
            progress: show a bar on stderr for a long run.

        Returns:
            A :class:`Trace`.
        """
        f_in: dict[int, dict[int, float]] = {}
        g_in: dict[int, dict[int, float]] = {}
        d_in: dict[int, dict[int, float]] = {}
        p_in: dict[int, dict[str, float]] = {}
        for (channel, where, k), value in replace.items():
            if channel == "p":
                p_in.setdefault(k, {})[str(where)] = value
            else:
                assert isinstance(where, int)
                if channel == "s":
                    value *= self.sample_scale
                {"f": f_in, "g": g_in, "s": g_in, "d": d_in}[channel].setdefault(k, {})[where] = value
        fb: dict[int, dict[int, int]] = {}
        gb: dict[int, dict[int, int]] = {}
        db: dict[int, dict[int, int]] = {}
        pb: dict[int, dict[str, int]] = {}
        for (channel, where, k), bit in (bits or {}).items():
            if channel == "p":
                pb.setdefault(k, {})[str(where)] = bit
            else:
                assert isinstance(where, int)
                {"f": fb, "g": gb, "s": gb, "d": db}[channel].setdefault(k, {})[where] = bit
        tracking = bits is not None
        trace = Trace(sample_scale=self.sample_scale)
        velocity: dict[str, float] = {}
        params = dict(self.start)
        pmask = dict.fromkeys(params, 0)
        stable = False
        for k in step_range(until + 2, progress, "replaying"):
            params.update(p_in.get(k, {}))
            if tracking:
                for name, bit in pb.get(k, {}).items():
                    pmask[name] = bit
                    stable = False
            if k in keep or k == until + 1:
                trace.params[k] = dict(params)
                if tracking:
                    for name, m in pmask.items():
                        trace.masks[("p", name, k)] = m
            if k == until + 1:
                break
            factors = [0.0] * (2 * len(self.nodes)) if k in keep else None
            vals, grads = self.step(params, f_in.get(k), g_in.get(k), factors_in=d_in.get(k),
                                    factors_out=factors)
            marked = k in fb or k in gb or k in db
            if tracking and not (stable and not marked and k not in keep):
                fmask, gmask, nxt = self._masks(pmask, fb.get(k, {}), gb.get(k, {}), db.get(k, {}))
                stable = nxt == pmask and not marked
                pmask = nxt
                if k in keep:
                    for i, node in enumerate(self.nodes):
                        trace.masks[("f", i, k)] = fmask[i]
                        trace.masks[("g", i, k)] = trace.masks[("s", i, k)] = gmask[i]
                        for pos in range(len(node.operands)):
                            m = db.get(k, {}).get(2 * i + pos, 0)
                            for r in node.reads[pos] if not m else ():
                                m |= fmask[r]
                            trace.masks[("d", 2 * i + pos, k)] = m
            if k in keep:
                trace.values[k] = vals
                trace.grads[k] = grads
                assert factors is not None
                trace.factors[k] = factors
                trace.velocity[k] = dict(velocity)
            params = self.update(params, grads, velocity)
        return trace
