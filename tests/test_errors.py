"""Bad inputs: each raises the right exception type with a message that names the offending value
(and its type) and, where there is a choice, says what to do instead."""

from __future__ import annotations

import re

import pytest

from autograd_tiny import Value, grad, gradcheck, nn, no_grad, topological_order

# -- Value --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad, type_name", [
    (True, "bool"), ("1.5", "str"), (None, "NoneType"), (1j, "complex"), ([1.0], "list"),
    ((1.0,), "tuple"), ({"x": 1}, "dict"),
])
def test_value_data_must_be_a_real_number(bad, type_name) -> None:
    with pytest.raises(TypeError) as err:
        Value(bad)
    message = str(err.value)
    assert f"got {type_name}" in message
    assert repr(bad) in message
    assert "real number" in message


def test_value_from_a_numpy_array_is_refused() -> None:
    np = pytest.importorskip("numpy")
    with pytest.raises(TypeError, match="got ndarray"):
        Value(np.array([1.0, 2.0]))


def test_value_of_an_int_too_large_for_a_float_is_named_briefly() -> None:
    # 10**400 has 401 digits; the message gives their count instead of printing them.
    with pytest.raises(ValueError) as err:
        Value(10 ** 400)
    message = str(err.value)
    assert "Value data is too large for a float: got an int of 401 digits" in message
    assert "0000000000" not in message and len(message) < 150
    with pytest.raises(ValueError, match="got a negative int of 401 digits"):
        Value(-(10 ** 400))
    # beyond Python's 4300-digit int-to-text limit, showing the number must not fail
    with pytest.raises(ValueError, match="got an int of more than 4300 digits"):
        Value(10 ** 5000)


@pytest.mark.parametrize("expr, side", [(lambda v: v * 10 ** 400, "right"),
                                        (lambda v: 10 ** 400 + v, "left")])
def test_operand_too_large_for_a_float_is_named_briefly(expr, side) -> None:
    with pytest.raises(ValueError, match=f"^{side} operand of [*+] is too large for a float: got an int "
                                         "of 401 digits"):
        expr(Value(2.0))


def test_long_bad_operand_is_cut_short_in_the_message() -> None:
    with pytest.raises(TypeError) as err:
        Value(1.0) * list(range(100_000))
    message = str(err.value)
    assert "got list: [0, 1, 2" in message and "(688890 characters)" in message
    assert len(message) < 200


def test_label_must_be_a_string() -> None:
    with pytest.raises(TypeError, match="label must be a str, got int: 3"):
        Value(1.0, label=3)  # type: ignore[arg-type]


@pytest.mark.parametrize("expr, side, symbol", [
    (lambda v: v + "a", "right", "+"), (lambda v: "a" - v, "left", "-"),
    (lambda v: v * None, "right", "*"), (lambda v: [1] / v, "left", "/"),
    (lambda v: v ** "2", "right", "**"), (lambda v: 1j ** v, "left", "**"),
    (lambda v: v + True, "right", "+"),
])
def test_operators_name_the_bad_operand(expr, side, symbol) -> None:
    with pytest.raises(TypeError, match=f"{side} operand of {re.escape(symbol)} must be a real number.*got "):
        expr(Value(2.0))


def test_comparison_with_a_non_number() -> None:
    with pytest.raises(TypeError, match="comparison operand.*got str: 'a'"):
        Value(1.0) < "a"  # noqa: B015


def test_backward_seed_must_be_a_number() -> None:
    with pytest.raises(TypeError, match="backward gradient.*got str: 'x'"):
        Value(1.0).backward("x")  # type: ignore[arg-type]


def test_topological_order_needs_a_value() -> None:
    with pytest.raises(TypeError, match="expected a Value, got float: 3.0"):
        topological_order(3.0)  # type: ignore[arg-type]


# -- functional ------------------------------------------------------------------------------------------


def test_grad_argument_errors() -> None:
    x = Value(1.0)
    y = x * 2
    with pytest.raises(TypeError, match="output must be a Value, got float: 1.0"):
        grad(1.0, [x])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"inputs\[1\] must be a Value, got float: 2.0"):
        grad(y, [x, 2.0])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="grad_output.*got str"):
        grad(y, [x], grad_output="a")  # type: ignore[arg-type]
    other = Value(5.0)
    with pytest.raises(ValueError, match=r"inputs\[0\] \(Value\(data=5.0.*allow_unused=True"):
        grad(y, [other])


def test_gradcheck_argument_errors() -> None:
    with pytest.raises(TypeError, match="fn must return a Value, got float"):
        gradcheck(lambda x: 1.0, [1.0])  # type: ignore[arg-type, return-value]
    with pytest.raises(TypeError, match=r"gradcheck inputs\[1\].*got str: 'a'"):
        gradcheck(lambda x, y: x * y, [1.0, "a"])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="inputs must be a list"):
        gradcheck(lambda x: x, 1.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="eps must be > 0, got 0"):
        gradcheck(lambda x: x, [1.0], eps=0)
    with no_grad(), pytest.raises(RuntimeError, match="outside no_grad"):
        gradcheck(lambda x: x * 2, [1.0])


# -- nn ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("make, exc, pattern", [
    (lambda: nn.Neuron(0), ValueError, "nin must be a positive int, got 0"),
    (lambda: nn.Neuron(2.5), TypeError, "nin must be a positive int, got float: 2.5"),
    (lambda: nn.Neuron(True), TypeError, "nin must be a positive int, got bool"),
    (lambda: nn.Neuron(2, "softmax"), ValueError,
     "unknown activation 'softmax'; choose one of sigmoid, tanh, relu, identity"),
    (lambda: nn.Neuron(2, weights=[1.0]), ValueError, "2 inputs but 1 weights were given; pass one weight"),
    (lambda: nn.Neuron(2, weights=[1.0, "a"], name="h1"), TypeError,
     "weight 1 of neuron 'h1' must be a number or a Value, got str: 'a'"),
    (lambda: nn.Neuron(2, bias="a"), TypeError, "bias of the neuron must be a number or a Value, got str"),
    (lambda: nn.Neuron(2, weights=3), TypeError,
     "weights of the neuron must be a list of 2 numbers or Values, got int: 3"),
    (lambda: nn.Neuron(2, weights="ab"), TypeError,
     "weights of the neuron must be a list of 2 numbers or Values, got str: 'ab'"),
    (lambda: nn.Neuron(1, weights=[10 ** 400]), ValueError,
     "weight 0 of the neuron is too large for a float: got an int of 401 digits"),
    (lambda: nn.Layer(2, 2, names="ab"), TypeError, "names must be a list of 2 neuron names, got str: 'ab'"),
    (lambda: nn.Neuron(2, name=3), TypeError, "name must be a str, got int"),
    (lambda: nn.Layer(2, 0), ValueError, "nout must be a positive int, got 0"),
    (lambda: nn.Layer(2, 2, bias="shared"), ValueError,
     "unknown bias mode 'shared'; choose one of neuron, layer, none"),
    (lambda: nn.Layer(2, 2, names=["a"]), ValueError,
     "1 names given for 2 neurons; pass one name per neuron"),
    (lambda: nn.Layer.from_neurons([]), ValueError, "at least one neuron"),
    (lambda: nn.Layer.from_neurons([nn.Neuron(2), nn.Neuron(3)]), ValueError,
     r"neurons\[1\] has 3 inputs but neurons\[0\] has 2"),
    (lambda: nn.Layer.from_neurons([nn.Neuron(2), "x"]), TypeError,
     r"neurons\[1\] must be a Neuron, got str"),
    (lambda: nn.MLP(2, []), ValueError, "at least one layer size"),
    (lambda: nn.MLP(2, 3), TypeError, "nouts must be a list of layer sizes such as \\[2, 1\\], got 3"),
    (lambda: nn.MLP(2, [2, 0]), ValueError, r"nouts\[1\] must be a positive int, got 0"),
    (lambda: nn.MLP(2, [2, 1.5]), TypeError, r"nouts\[1\] must be a positive int, got float: 1.5"),
    (lambda: nn.MLP(2, [2, 1], activation=["tanh"]), ValueError, "1 activations given for 2 layers"),
    (lambda: nn.MLP(2, [2, 1], activation=["tanh", "foo"]), ValueError, "unknown activation 'foo'"),
    (lambda: nn.MLP.from_layers([nn.Layer(2, 3), nn.Layer(2, 1)]), ValueError,
     "layer 1 expects 2 inputs but layer 0 has 3 neurons"),
    (lambda: nn.MLP.from_layers([]), ValueError, "at least one layer"),
])
def test_module_construction_errors(make, exc, pattern) -> None:
    with pytest.raises(exc, match=pattern):
        make()


def test_module_call_errors() -> None:
    with pytest.raises(ValueError, match=r"neuron 'h1' expects 2 inputs, got 1: \[1.0\]"):
        nn.Neuron(2, name="h1")([1.0])
    with pytest.raises(ValueError, match=r"the network expects 2 inputs, got 3"):
        nn.MLP(2, [1], seed=0)([1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match="got str: 'x'"):
        nn.Neuron(2)([1.0, "x"])
    with pytest.raises(TypeError, match=r"^neuron 'h1' expects a list of 2 inputs \(numbers or Values\), "
                                        r"got int: 3$"):
        nn.Neuron(2, name="h1")(3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"^the neuron expects a list of 2 inputs .*got NoneType: None$"):
        nn.Neuron(2)(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"^the network expects a list of 2 inputs .*got float: 1.5$"):
        nn.MLP(2, [1], seed=0)(1.5)  # type: ignore[arg-type]


def test_state_dict_errors() -> None:
    net = nn.MLP(2, [1], seed=0)
    missing_and_unknown = r"missing \[.*'layers.0.neurons.0.b'.*unknown \['x'\].*strict=False"
    with pytest.raises(ValueError, match=missing_and_unknown):
        net.load_state_dict({"x": 1.0})
    state = net.state_dict()
    state["layers.0.neurons.0.w.1"] = "0.5"
    with pytest.raises(TypeError, match=r"state\['layers.0.neurons.0.w.1'\] must be a number, got str"):
        net.load_state_dict(state)
    state["layers.0.neurons.0.w.1"] = 10 ** 400
    with pytest.raises(ValueError, match=r"state\['layers.0.neurons.0.w.1'\] is too large for a float"):
        net.load_state_dict(state)
    with pytest.raises(TypeError, match="state must be a dict.*got list"):
        net.load_state_dict([1.0, 2.0])  # type: ignore[arg-type]
    with pytest.raises(KeyError, match="no parameter named 'w1'"):
        net.get_parameter("w1")


@pytest.mark.parametrize("make, exc, pattern", [
    (lambda: nn.half_squared_error([Value(1.0)], [1.0, 2.0]), ValueError,
     "1 outputs but 2 targets; pass one target per output"),
    (lambda: nn.squared_error([], []), ValueError, "at least one output"),
    (lambda: nn.mean_squared_error([1.0], [1.0]), TypeError, r"outputs\[0\] must be a Value, got float"),
    (lambda: nn.mean_squared_error([Value(1.0)], ["a"]), TypeError,
     r"targets\[0\] must be a number, got str"),
    (lambda: nn.mean_squared_error([Value(1.0)], [10 ** 400]), ValueError,
     r"targets\[0\] is too large for a float: got an int of 401 digits"),
    (lambda: nn.mean_squared_error(None, [1.0]), TypeError,
     "outputs must be a Value or a list of them, got NoneType: None"),
    (lambda: nn.mean_squared_error([Value(1.0)], "a"), TypeError,
     "targets must be a number or a list of them, got str: 'a'"),
    (lambda: nn.binary_cross_entropy(Value(1.5), 1.0), ValueError,
     r"outputs in \[0, 1\], outputs\[0\] is 1.5; use a sigmoid"),
    (lambda: nn.binary_cross_entropy(Value(0.5), 2.0), ValueError,
     r"targets in \[0, 1\], targets\[0\] is 2.0"),
    (lambda: nn.hinge([Value(0.5), Value(0.1)], [1.0, 0.0]), ValueError,
     r"targets -1 or \+1, targets\[1\] is 0.0; map 0/1 labels with 2 \* y - 1"),
])
def test_loss_errors(make, exc, pattern) -> None:
    with pytest.raises(exc, match=pattern):
        make()


@pytest.mark.parametrize("make, exc, pattern", [
    (lambda: nn.SGD([Value(1.0)], lr=0), ValueError, "learning rate must be a finite number > 0, got 0.0"),
    (lambda: nn.SGD([Value(1.0)], lr=float("nan")), ValueError,
     "learning rate must be a finite number > 0, got nan"),
    (lambda: nn.SGD([Value(1.0)], lr=float("inf")), ValueError,
     "learning rate must be a finite number > 0, got inf"),
    (lambda: nn.SGD([Value(1.0)], lr=10 ** 400), ValueError,
     "learning rate is too large for a float: got an int of 401 digits"),
    (lambda: nn.SGD([Value(1.0)], lr="a"), TypeError, "learning rate must be a number, got str: 'a'"),
    (lambda: nn.SGD([Value(1.0)], lr=0.1, momentum=1), ValueError, r"momentum must be in \[0, 1\), got 1"),
    (lambda: nn.SGD([1.0], lr=0.1), TypeError, r"params\[0\] must be a Value, got float: 1.0"),
    (lambda: nn.SGD([], lr=0.1), ValueError, r"empty parameter list; pass model.parameters\(\)"),
    (lambda: nn.SGD(nn.MLP(2, [1], seed=0), lr=0.1), TypeError,
     r"params must be an iterable of Values such as model.parameters\(\), got MLP"),
])
def test_sgd_errors(make, exc, pattern) -> None:
    with pytest.raises(exc, match=pattern):
        make()


def test_sgd_refuses_a_parameter_passed_twice() -> None:
    w = Value(1.0)
    with pytest.raises(ValueError, match=r"params\[2\] is the same Value as params\[0\]"):
        nn.SGD([w, Value(2.0), w], lr=0.1)
