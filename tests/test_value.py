"""Value: construction, attributes, operators with numbers on either side, graph structure."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest

from autograd_tiny import Value
from autograd_tiny.ops import OPS

# -- construction --------------------------------------------------------------------------------


@pytest.mark.parametrize("data, expected", [(3, 3.0), (-2.5, -2.5), (0, 0.0), (Fraction(1, 4), 0.25),
                                            (10**20, 1e20)])
def test_numbers_are_stored_as_float(data: object, expected: float) -> None:
    v = Value(data)  # type: ignore[arg-type]
    assert type(v.data) is float
    assert v.data == expected


def test_numpy_scalars_are_accepted_and_stored_as_float() -> None:
    np = pytest.importorskip("numpy")
    for scalar, expected in [(np.float64(1.5), 1.5), (np.float32(0.25), 0.25), (np.int64(7), 7.0),
                             (np.int8(-3), -3.0)]:
        v = Value(scalar)
        assert type(v.data) is float and v.data == expected
        # and on either side of an operator (numpy hands a Value on the right back to Value)
        for out in (Value(1.0) + scalar, scalar * Value(2.0), scalar ** Value(1.0), scalar / Value(1.0)):
            assert isinstance(out, Value) and type(out.data) is float
        assert (scalar * Value(2.0)).data == 2 * expected
        assert scalar < Value(100.0)


def test_numpy_bool_is_rejected() -> None:
    np = pytest.importorskip("numpy")
    with pytest.raises(TypeError, match="bool"):
        Value(np.bool_(True))


def test_fresh_value_attributes() -> None:
    v = Value(2.0, label="w1")
    assert v.data == 2.0
    assert v.grad == 0.0
    assert v.label == "w1"
    assert v.op is None
    assert v.parents == ()
    assert v.operands == ()
    assert v.is_leaf
    assert Value(1.0).label == ""


def test_attributes_of_a_computed_value() -> None:
    a, b = Value(2.0, "a"), Value(3.0, "b")
    c = a * b
    assert c.data == 6.0 and c.grad == 0.0 and c.label == ""
    assert c.op is OPS["mul"]
    assert c.parents == (a, b)
    assert c.operands == (a, b)
    assert not c.is_leaf


def test_constants_are_operands_but_not_parents() -> None:
    w = Value(4.0)
    right = w * 2
    left = 2 - w
    assert right.parents == (w,) and right.operands == (w, 2.0)
    assert left.parents == (w,) and left.operands == (2.0, w)
    assert left.data == -2.0
    assert (w ** 2).operands == (w, 2.0)
    assert (2 ** w).operands == (2.0, w)


def test_label_can_be_set_after_construction() -> None:
    v = Value(1.0) + 1
    v.label = "net_h1"
    assert v.label == "net_h1"
    assert "net_h1" in repr(v)


def test_repr_shows_data_grad_label_and_op() -> None:
    v = Value(1.5, "x")
    assert repr(v) == "Value(data=1.5, grad=0.0, label='x')"
    assert repr(v * 2) == "Value(data=3.0, grad=0.0, op='*')"


# -- operators ------------------------------------------------------------------------------------

# Each case: (expression on Values, the same expression on floats). a = 3, b = -2.
BINARY = [
    ("a + b", lambda a, b: a + b),
    ("a - b", lambda a, b: a - b),
    ("a * b", lambda a, b: a * b),
    ("a / b", lambda a, b: a / b),
    ("a ** b", lambda a, b: a ** b),
]


@pytest.mark.parametrize("name, fn", BINARY)
def test_binary_operators_with_values_and_numbers_on_either_side(name: str, fn) -> None:
    a, b = 3.0, -2.0
    expected = fn(a, b)
    for left, right in [(Value(a), Value(b)), (Value(a), b), (a, Value(b)), (Value(a), int(b)),
                        (int(a), Value(b))]:
        out = fn(left, right)
        assert isinstance(out, Value), name
        assert out.data == expected, (name, left, right)


def test_unary_minus_and_abs() -> None:
    a = Value(-2.5)
    assert (-a).data == 2.5 and (-a).op is OPS["neg"]
    assert abs(a).data == 2.5 and abs(a).op is OPS["abs"]


def test_pow_with_number_and_value_exponents() -> None:
    a, b = Value(2.0), Value(3.0)
    assert (a ** 3).data == 8.0
    assert (a ** b).data == 8.0
    assert (2 ** b).data == 8.0
    assert (a ** 0.5).data == math.sqrt(2.0)
    assert (a ** -1).data == 0.5


@pytest.mark.parametrize("method, fn", [
    ("exp", math.exp), ("log", math.log), ("tanh", math.tanh),
    ("sigmoid", lambda x: 1 / (1 + math.exp(-x))), ("relu", lambda x: max(x, 0.0)),
    ("sqrt", math.sqrt), ("sin", math.sin), ("cos", math.cos),
])
def test_methods(method: str, fn) -> None:
    for x in (0.3, 1.7, 4.0):
        out = getattr(Value(x), method)()
        assert out.op is OPS[method]
        assert out.data == pytest.approx(fn(x), rel=1e-15)
    assert Value(-1.0).relu().data == 0.0


def test_comparisons_compare_data_and_make_no_node() -> None:
    a, b = Value(1.0), Value(2.0)
    assert a < b and a <= b and b > a and b >= a
    assert a < 1.5 and a <= 1 and a > 0 and a >= 1
    assert 0.5 < a and 3 > a  # reflected: Python swaps to a > 0.5, a < 3
    assert isinstance(a < b, bool)
    assert a.parents == () and b.parents == ()


def test_equality_is_identity_so_values_work_in_sets_and_dicts() -> None:
    a, b = Value(1.0), Value(1.0)
    assert a != b and a == a
    assert len({a, b, a}) == 2
    assert {a: "x"}[a] == "x"


def test_float_conversion() -> None:
    assert float(Value(2.5) * 2) == 5.0


def test_each_node_records_its_op() -> None:
    a, b = Value(0.5), Value(2.0)
    cases = {
        "add": a + b, "sub": a - b, "mul": a * b, "div": a / b, "pow": a ** b, "neg": -a,
        "exp": a.exp(), "log": a.log(), "tanh": a.tanh(), "sigmoid": a.sigmoid(), "relu": a.relu(),
        "sqrt": a.sqrt(), "abs": abs(a), "sin": a.sin(), "cos": a.cos(),
    }
    assert set(cases) == set(OPS), "a new op in the table needs a case here"
    for name, v in cases.items():
        assert v.op is OPS[name]
        assert all(p is a or p is b for p in v.parents)


def test_detach_copies_data_and_label_and_cuts_the_graph() -> None:
    a = Value(2.0, "a")
    b = (a * 3).tanh()
    b.label = "b"
    d = b.detach()
    assert d is not b
    assert d.data == b.data and d.label == "b"
    assert d.is_leaf and d.parents == ()
    (d * 2).backward()
    assert d.grad == 2.0
    assert a.grad == 0.0, "backward through a detached value must not reach the original graph"
