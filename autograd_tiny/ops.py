"""The table of primitive operations: the single place where derivatives live.

Every primitive is one :class:`Op` entry. Its forward computation and its local
derivatives are written once, as small Python expressions over the names

* ``x`` (first input), ``y`` (second input, binary ops only) and
* ``out`` (the result of the forward computation).

Everything else in the package reads these strings:

* :mod:`autograd_tiny.codegen` turns them into the eager ``Value`` methods and
  backward rules, and into the straight-line code of :func:`autograd_tiny.compile`;
* :mod:`autograd_tiny.functional` evaluates them on floats or on Values
  (``grad(..., create_graph=True)`` gives second derivatives this way);
* :mod:`autograd_tiny.formula` prints them as text, Markdown or LaTeX for the
  chain-rule explanations.

Adding an operation means adding one entry here (and, for a new method name, one
line in :class:`autograd_tiny.value.Value`). The functions the expressions may
call are listed in :data:`FUNCTIONS`; ``/`` and ``**`` follow IEEE 754 like
PyTorch (``1/0 = inf``, ``0/0 = nan``) instead of raising.

How backward applies a derivative ``d`` to the incoming gradient ``g`` is read off
the form of its expression (:func:`autograd_tiny.codegen.contribution`), so that is
data too:

* a constant ``0``, also as one branch of a condition (``0.0 if x <= 0 else 1.0``),
  is a *structural* zero: that branch contributes exactly 0, even when ``g`` is
  infinite or nan (multiplying would give ``inf * 0 = nan`` and poison every
  weight upstream; PyTorch's relu also selects 0);
* a constant ``1`` or ``-1`` passes ``g`` or ``-g`` on;
* a quotient ``1 / D`` is applied as ``g / D``, dividing instead of multiplying by
  the reciprocal: ``1 / D`` overflows for a subnormal ``D`` (``1 / 5e-324 = inf``)
  where ``g / D`` is the finite true value (d exp(log x)/dx at 5e-324 is 1). Write
  a derivative that is a reciprocal in this form;
* anything else is multiplied: ``g * (d)``.

Misconceptions are data too, beside the derivatives they get wrong: each entry's
:attr:`Op.misconceptions` lists local derivatives that students write instead of the
true one (the other factor of a product swapped for its own, the power rule without
its exponent, sigmoid' written as sigmoid), as expressions over the same names. The
derivation checker (:mod:`autograd_tiny.derivation.misconceptions`) runs them with the
same code as the true ones and prints them with the same printer, so a hint can show
the slipped formula.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass


@dataclass(frozen=True)
class Misconception:
    """A wrong local derivative of one operand that students write for an operation.

    Attributes:
        position: the operand (0 for ``x``, 1 for ``y``).
        says: what the student did, as a clause ("takes the factor itself instead of the
            other factor").
        derivative: the wrong derivative, an expression over ``x``, ``y``, ``out`` like the
            table's own; or, so that no derivative is written twice, one of
        uses: another operation whose derivative is taken (sigmoid's for tanh), or
        at_input: True for the op's own derivative evaluated at its input (``out`` read as ``x``).
        scale: a forward slip, the op's value scaled (see the attribute).
        :meth:`Op.wrong_derivative` gives the expression in every case.
    """

    position: int
    says: str
    derivative: str = ""
    uses: str = ""
    at_input: bool = False
    #: a slip of the forward pass instead: the op's value (and so its derivative) multiplied
    #: by ``scale`` at every node of the op (``log10`` for ``ln``)
    scale: float = 0.0


@dataclass(frozen=True)
class Op:
    """One primitive operation.

    Attributes:
        name: identifier, also the method name for unary ops (``"exp"``).
        symbol: how graphs and explanations show the operation (``"*"``, ``"exp"``).
        arity: 1 or 2.
        forward: the result as an expression of ``x`` (and ``y``).
        derivatives: one expression per input: d out / d input, over ``x``, ``y``, ``out``.
        doc: one sentence for the generated method's docstring.
        misconceptions: wrong local derivatives students write instead (see
            :class:`Misconception`).
    """

    name: str
    symbol: str
    arity: int
    forward: str
    derivatives: tuple[str, ...]
    doc: str
    misconceptions: tuple[Misconception, ...] = ()

    def wrong_derivative(self, m: Misconception) -> str:
        """Return misconception ``m``'s derivative as an expression over ``x``, ``y``, ``out``:
        its own, another operation's from this table, or this one's with ``out`` read as ``x``
        (a forward slip's is the true one: the scale multiplies it)."""
        if m.scale:
            return self.derivatives[m.position]
        if m.uses:
            return OPS[m.uses].derivatives[m.position]
        if m.at_input:
            tree = ast.parse(self.derivatives[m.position], mode="eval")
            for node in ast.walk(tree):
                if isinstance(node, ast.Name) and node.id == "out":
                    node.id = "x"
            return ast.unparse(tree)
        return m.derivative

    def __post_init__(self) -> None:
        if self.arity not in (1, 2) or len(self.derivatives) != self.arity:
            raise ValueError(f"op {self.name!r}: arity {self.arity} needs that many derivatives")
        for m in self.misconceptions:
            if not 0 <= m.position < self.arity:
                raise ValueError(f"op {self.name!r}: misconception {m.says!r} names operand "
                                 f"{m.position}, but the op has {self.arity}")
            if sum((bool(m.derivative), bool(m.uses), m.at_input, bool(m.scale))) != 1:
                raise ValueError(f"op {self.name!r}: misconception {m.says!r} needs exactly one of "
                                 "derivative, uses, at_input and scale")


#: Functions that forward and derivative expressions may call, with their meaning.
FUNCTIONS: dict[str, str] = {
    "exp": "e to the power x (inf on overflow)",
    "log": "natural logarithm (-inf at 0, nan below 0)",
    "tanh": "hyperbolic tangent",
    "abs": "absolute value (+0 at -0, like PyTorch)",
    "sigmoid": "logistic function 1 / (1 + exp(-x)), computed without overflow",
    "sqrt": "square root (nan below 0)",
    "sin": "sine",
    "cos": "cosine",
}

_TABLE = [
    Op("add", "+", 2, "x + y", ("1", "1"), "Return ``self + other``."),
    Op("sub", "-", 2, "x - y", ("1", "-1"), "Return ``self - other``.",
       (Misconception(1, "loses the minus sign of the subtracted term", derivative="1"),)),
    Op("mul", "*", 2, "x * y", ("y", "x"), "Return ``self * other``.",
       (Misconception(0, "takes the factor itself instead of the other factor", derivative="x"),
        Misconception(1, "takes the factor itself instead of the other factor", derivative="y"),
        Misconception(0, "leaves the other factor out", derivative="1"),
        Misconception(1, "leaves the other factor out", derivative="1"))),
    # d/dy is -x / y ** 2 written as -out / y, which PyTorch also computes ((x / y) / y).
    Op("div", "/", 2, "x / y", ("1 / y", "-out / y"),
       "Return ``self / other`` (IEEE 754: ``1/0 = inf``, ``0/0 = nan``).",
       (Misconception(0, "leaves out the division by the denominator (a mean's 1/N)", derivative="1"),
        Misconception(1, "loses the quotient rule's minus sign", derivative="out / y"),
        Misconception(1, "divides by the denominator once where the quotient rule divides by its "
                         "square", derivative="-out"))),
    # At x = 0 the general rules would give 0 * inf = nan. x ** 0 is constant, so
    # d/dx is 0 when y = 0; 0 ** y is constant (0 or inf) for y != 0, so d/dy is 0
    # when x = 0. Both zeros are structural (an infinite gradient contributes 0).
    # PyTorch agrees, except that it gives -inf for d/dy at x = 0, y < 0, and nan
    # for d/dy at x = 0 when the incoming gradient is infinite.
    Op("pow", "**", 2, "x ** y",
       ("(0.0 if y == 0 else y * x ** (y - 1))", "(0.0 if x == 0 else out * log(x))"),
       "Return ``self ** other`` (nan for a negative base with a fractional exponent).",
       (Misconception(0, "leaves the exponent out of the power rule", derivative="x ** (y - 1)"),
        Misconception(0, "does not lower the exponent in the power rule", derivative="y * x ** y"))),
    Op("neg", "neg", 1, "-x", ("-1",), "Return ``-self``.",
       (Misconception(0, "loses the minus sign of the negation", derivative="1"),)),
    Op("exp", "exp", 1, "exp(x)", ("out",), "Return e ** self (inf when it overflows)."),
    Op("log", "log", 1, "log(x)", ("1 / x",),
       "Return the natural logarithm (``-inf`` at 0 and ``nan`` below 0, like PyTorch).",
       (Misconception(0, "keeps the logarithm as its own derivative", derivative="log(x)"),
        Misconception(0, "uses log10 where the natural logarithm ln belongs",
                      scale=0.43429448190325176))),  # 1 / ln 10
    Op("tanh", "tanh", 1, "tanh(x)", ("1 - out * out",), "Return the hyperbolic tangent.",
       (Misconception(0, "evaluates tanh' at the input instead of the output", at_input=True),
        Misconception(0, "forgets to square tanh in its derivative", derivative="1 - out"),
        Misconception(0, "uses sigmoid's derivative for tanh", uses="sigmoid"),
        Misconception(0, "leaves tanh's derivative out (takes it as 1)", derivative="1"))),
    Op("sigmoid", "sigmoid", 1, "sigmoid(x)", ("out * (1 - out)",),
       "Return the logistic function 1 / (1 + e ** -self), without overflow.",
       (Misconception(0, "writes sigmoid' as sigmoid itself", derivative="out"),
        Misconception(0, "evaluates sigmoid' at the input instead of the output", at_input=True),
        Misconception(0, "uses tanh's derivative for sigmoid", uses="tanh"),
        Misconception(0, "leaves sigmoid's derivative out (takes it as 1)", derivative="1"))),
    # The forward pass is written with ``x < 0`` so that nan and -0.0 pass through (relu(nan) = nan,
    # relu(-0.0) = -0.0), like PyTorch; the derivative with ``x <= 0``, so that it is 0 at ±0.
    Op("relu", "relu", 1, "(0.0 if x < 0 else x)", ("(0.0 if x <= 0 else 1.0)",),
       "Return max(self, 0); its derivative at 0 is taken as 0, like PyTorch.",
       (Misconception(0, "lets the gradient through relu where its input is negative", derivative="1"),
        Misconception(0, "writes relu' as relu itself", derivative="out"))),
    Op("sqrt", "sqrt", 1, "sqrt(x)", ("1 / (2 * out)",), "Return the square root (nan below 0).",
       (Misconception(0, "leaves the 1/2 out of the square root's derivative", derivative="1 / out"),)),
    # The 0 at x = 0 (and at nan) is structural: PyTorch multiplies by sign(x) there
    # instead, so an infinite incoming gradient gives nan in PyTorch and 0 here.
    Op("abs", "abs", 1, "abs(x)", ("(1.0 if x > 0 else (-1.0 if x < 0 else 0.0))",),
       "Return ``abs(self)`` (+0.0 at ±0); its derivative at 0 is taken as 0, like PyTorch."),
    Op("sin", "sin", 1, "sin(x)", ("cos(x)",), "Return the sine.",
       (Misconception(0, "gives sin' a minus sign", derivative="-cos(x)"),)),
    Op("cos", "cos", 1, "cos(x)", ("-sin(x)",), "Return the cosine.",
       (Misconception(0, "loses the minus sign of cos'", derivative="sin(x)"),)),
]

#: Every primitive, by name.
OPS: dict[str, Op] = {op.name: op for op in _TABLE}
