"""Reading derivation files: load_derivation's inputs, the parsed spec, and every error class."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from autograd_tiny import Derivation, load_derivation
from autograd_tiny.derivation import Quantity, parse_spec
from autograd_tiny.derivation.format import MAX_STEPS
from autograd_tiny.errors import UsageError

DATA = Path(__file__).parent / "data"
GOOD = DATA / "net222.toml"
TEXT = GOOD.read_text()
#: The same file without its claims, for tests that add their own.
BARE = TEXT[: TEXT.index("[claims]")] + "[claims]\n"


def replace(old: str, new: str, text: str = TEXT) -> str:
    """Return ``text`` with ``old`` (which must occur) replaced by ``new``."""
    assert old in text, old
    return text.replace(old, new)


def error_of(text: str) -> str:
    with pytest.raises(UsageError) as info:
        parse_spec(text, "t.toml")
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("t.toml: ")
    return message


# -- load_derivation --------------------------------------------------------------------------

def test_load_from_str_path_pathlib_and_text_agree() -> None:
    by_str = load_derivation(str(GOOD))
    by_path = load_derivation(GOOD)
    by_text = load_derivation(TEXT)
    assert isinstance(by_str, Derivation)
    for d in (by_str, by_path, by_text):
        assert d.title == "2-2-2 test network"
        assert d.layers == [["i1", "i2"], ["h1", "h2"], ["o1", "o2"]]
        assert d.input_names == ["i1", "i2"]
        assert d.learning_rate == 0.5
        assert {n: p.data for n, p in d.parameters.items()} == {
            "w1": 0.15, "w2": 0.20, "w3": 0.25, "w4": 0.30, "w5": 0.40, "w6": 0.45,
            "w7": 0.50, "w8": 0.55, "b1": 0.35, "b2": 0.60}
    assert by_str.spec.source == str(GOOD)
    assert by_text.spec.source == "<text>"


def test_single_line_starting_with_a_key_is_text() -> None:
    # No newline, but it starts with a TOML key: text, not a path (and then invalid: layers missing).
    with pytest.raises(UsageError, match=r"<text>: activation: missing"):
        load_derivation('title = "x"')


def test_missing_path_and_directory_and_binary_file(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"nope\.toml: no such file"):
        load_derivation(tmp_path / "nope.toml")
    with pytest.raises(UsageError, match="is a directory"):
        load_derivation(tmp_path)
    binary = tmp_path / "b.toml"
    binary.write_bytes(b"title = \"\xff\xfe\"\n")
    with pytest.raises(UsageError, match="not UTF-8"):
        load_derivation(binary)


def test_load_rejects_non_path_objects() -> None:
    with pytest.raises(TypeError, match="expected a path or TOML text, got int"):
        load_derivation(3)  # type: ignore[arg-type]


def test_load_rejects_an_empty_path() -> None:
    # Path("") is the current directory; an empty string is neither a file name nor a derivation.
    with pytest.raises(ValueError, match="got an empty string; pass a derivation file.s path or its TOML"):
        load_derivation("")


# -- what the spec holds ------------------------------------------------------------------------

def test_claims_keep_the_digits_as_written() -> None:
    spec = parse_spec(TEXT + '"w1+" = 0.14978071600\nnet_h1 = 1_000.5\n"out_h1@3" = 1.5e-3\n'
                      '"E@2" = 4\n')
    by_name = {c.name: c for c in spec.claims}
    assert by_name["w1+"].written == "0.14978071600"
    assert by_name["w1+"].exact == Decimal("0.14978071600")
    assert by_name["w1+"].unit == Decimal("1e-11")
    assert by_name["net_h1"].unit == Decimal("0.1")
    assert by_name["net_h1"].value == 1000.5
    assert by_name["out_h1@3"].unit == Decimal("1e-4")  # 1.5e-3 = 0.0015: last digit at 1e-4
    assert by_name["E@2"].written == "4" and by_name["E@2"].unit == Decimal(1)


@pytest.mark.parametrize(("name", "quantity"), [
    ("net_h1", Quantity("net", "h1", 0)),
    ("out_o2+", Quantity("out", "o2", 1)),
    ("E", Quantity("E", None, 0)),
    ("E@7", Quantity("E", None, 7)),
    ("E_o1", Quantity("E_term", "o1", 0)),
    ("E_o2+", Quantity("E_term", "o2", 1)),
    ("dE/dw5", Quantity("grad", "w5", 0)),
    ("dE/db1", Quantity("grad", "b1", 0)),
    ("dE/dout_h1", Quantity("dout", "h1", 0)),
    ("dE/dnet_o1@2", Quantity("dnet", "o1", 2)),
    ("w1+", Quantity("param", "w1", 1)),
    ("b2@10", Quantity("param", "b2", 10)),
])
def test_claim_names(name: str, quantity: Quantity) -> None:
    spec = parse_spec(BARE + f'"{name}" = 0.5\n')
    assert spec.claims[-1].quantity == quantity
    assert spec.claims[-1].quantity.name == name


def test_activation_per_layer_and_defaults() -> None:
    spec = parse_spec(replace('activation = "sigmoid"', 'activation = ["tanh", "identity"]',
                              replace("update_biases = false\n", "")))
    assert spec.activations == ["tanh", "identity"]
    assert spec.update_biases is True
    d = load_derivation(replace('activation = "sigmoid"', 'activation = ["tanh", "identity"]'))
    assert [n.activation for layer in d.network.layers for n in layer.neurons] == \
        ["tanh", "tanh", "identity", "identity"]


# -- every error class ---------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    # TOML itself
    (replace("learning_rate = 0.5", "learning_rate = = 0.5"), "invalid TOML: Invalid value (at line 5"),
    (replace("[biases]", 'w1 = ["i1", "h1", 0.15]\n[biases]'),
     "invalid TOML: [weights] 'w1' is written twice (lines 18 and 27); keep one"),
    # a claim name with / + or @ written as a bare key (the TOML error alone says "Expected '='")
    (replace("[biases]", "dE/dw5 = 0.08\n[biases]"),
     'invalid TOML: line 27: the key dE/dw5 needs quotes, since / + and @ cannot be in a bare TOML '
     'key: write "dE/dw5" = ...'),
    (replace("[biases]", "E@100 = 0.1\n[biases]"), 'line 27: the key E@100 needs quotes'),
    (replace("[biases]", "w1+ = 0.1\n[biases]"), 'line 27: the key w1+ needs quotes'),
    # top-level keys
    (replace("learning_rate", "learning-rate"), "learning-rate: unknown key"),
    (replace("loss = \"half_squared_error\"\n", ""), "loss: missing"),
    (replace('title = "2-2-2 test network"', "title = 3"), "title: expected a string, got the number 3"),
    # activation and loss
    (replace('"sigmoid"', '"softplus"'), "activation: unknown activation 'softplus'; choose one of sigmoid"),
    (replace('"sigmoid"', '"softmax"'), "activation: softmax is for the output layer only"),
    (replace('"half_squared_error"', '"cross_entropy"'), "loss: cross_entropy takes probabilities from "
                                                         "a softmax output layer"),
    (replace('"sigmoid"', '["sigmoid"]'), "activation: 1 activations listed but the network has 2 layers"),
    (replace('"half_squared_error"', '"log_loss"'), "loss: unknown loss 'log_loss'"),
    # numbers
    (replace("learning_rate = 0.5", "learning_rate = 0"), "learning_rate: must be greater than 0, got 0"),
    (replace("learning_rate = 0.5", 'learning_rate = "0.5"'),
     "learning_rate: expected a number, got the string '0.5' (write numbers without quotes)"),
    (replace("i2 = 0.10", "i2 = inf"), "inputs.i2: expected a finite number, got inf"),
    (replace("i2 = 0.10", "i2 = true"), "inputs.i2: expected a number, got a boolean (true)"),
    (replace("update_biases = false", "update_biases = 0"), "update_biases: expected true or false"),
    # layers and their sizes
    (replace('layers = [["i1", "i2"], ["h1", "h2"], ["o1", "o2"]]', 'layers = [["i1", "i2"]]'),
     "layers: needs at least an input and an output layer"),
    (replace('["h1", "h2"], ["o1", "o2"]', '["h1", "h2"], ["o1", "h1"]'),
     "layers[2]: neuron 'h1' is already in layer 1"),
    (replace('["h1", "h2"], ["o1", "o2"]', '[], ["o1", "o2"]'), "layers[1]: is empty"),
    (replace('["h1", "h2"]', '["h1", "h 2"]'), "layers[1]: neuron name 'h 2' must be letters"),
    (replace("i2 = 0.10\n", ""), "inputs: no value for input neuron(s) i2"),
    (replace("o2 = 0.99", "o2 = 0.99\no3 = 0.5"), "targets.o3: 'o3' is not an output neuron"),
    # weights
    (replace('["h1", "o2", 0.50]', '["h3", "o2", 0.50]'), "weights.w7: unknown neuron 'h3'"),
    (replace('w6 = ["h2", "o1", 0.45]\n', ""), "weights: missing weight from h2 to o1"),
    (replace('["h2", "o1", 0.45]', '["h1", "o1", 0.45]'),
     "weights.w6: duplicate weight: w5 already connects h1 to o1"),
    (replace('["h1", "o1", 0.40]', '["i1", "o1", 0.40]'),
     "weights.w5: connects i1 (layer 0) to o1 (layer 2)"),
    (replace('["h1", "o1", 0.40]', '["h1", "o1"]'), "weights.w5: expected [from, to, value]"),
    (replace('["h1", "o1", 0.40]', '["h1", "o1", "0.40"]'), "weights.w5: expected a number, got the string"),
    (replace('w5 = ["h1"', 'net_x = ["h1"'), "weights.net_x: weight name 'net_x' would read like a claim"),
    # biases
    (replace('b1 = [0.35, "h1", "h2"]', 'b1 = [0.35, "i1"]'), "biases.b1: 'i1' is an input neuron"),
    (replace('b2 = [0.60, "o1", "o2"]', 'b2 = [0.60, "o1", "h1"]'),
     "biases.b2: neuron 'h1' already has bias b1"),
    (replace('b2 = [0.60, "o1", "o2"]', 'b2 = [0.60, "o1", "o9"]'), "biases.b2: unknown neuron 'o9'"),
    (replace('b2 = [0.60, "o1", "o2"]', 'b2 = [0.60]'), "biases.b2: expected [value, neuron, ...]"),
    (replace('b2 = [0.60, "o1", "o2"]', 'w1 = [0.60, "o1", "o2"]'),
     "biases.w1: 'w1' is already a weight's name"),
    # claims
    (replace('"dE/dw5"', '"dE/dw9"'), 'claims."dE/dw9": no weight or bias \'w9\''),
    (TEXT + "net_h9 = 1\n", "claims.net_h9: no neuron 'h9'"),
    (TEXT + '"dE/dh1" = 1\n', 'claims."dE/dh1": h1 is a neuron, not a weight or bias; write dE/dout_h1'),
    (TEXT + "net_i1 = 1\n", "claims.net_i1: i1 is an input neuron"),
    (TEXT + "E_h1 = 1\n", "claims.E_h1: h1 is not an output neuron"),
    (TEXT + "w1 = 1\n", "claims.w1: w1 alone is the file's own value; claim w1+ or w1@K"),
    (TEXT + "loss = 1\n", "claims.loss: names nothing; claims are net_N, out_N, E"),
    (TEXT + '"E@100000000" = 1\n', f'claims."E@100000000": 100000000 steps is more than the {MAX_STEPS}'),
    # the step limit follows the network's size: the 2-2-2 net is estimated at 44 nodes (per
    # neuron 2 products, 2 sums (one with the bias), the sigmoid: 4 x 6 = 24 with the sum's
    # first term counted as a product; 4 per output for the loss, 2 inputs, 10 parameters),
    # so 1,000,000 steps are 44 million node-steps, 11 times the budget of 4 million
    (TEXT + '"E@1000000" = 1\n', 'claims."E@1000000": 1000000 steps of this network (about 44 graph '
                                 "nodes per step) would take about 11 minutes to check; claim at most "
                                 "about 90909 steps"),
    (TEXT + 'net_h1 = "0.3775"\n', "claims.net_h1: expected a number, got the string '0.3775'"),
    (TEXT + "net_h1 = nan\n", "claims.net_h1: expected a finite number, got nan"),
    # numbers beyond the float range are described by their size, not printed in full
    (replace("i2 = 0.10", "i2 = 1" + "0" * 399), "inputs.i2: an int of 400 digits is too large for a float"),
    (replace("i2 = 0.10", "i2 = 1e400"), "inputs.i2: 1e400 is too large for a float"),
    (replace("i2 = 0.10", "i2 = 1" + "0" * 4999), "a whole number in the file has more than 4300 digits"),
    (TEXT + '"E@1' + "0" * 4999 + '" = 1\n', f"5000-digit step counts are more than the {MAX_STEPS}"),
])
def test_error_messages_name_the_key_and_the_problem(text: str, expected: str) -> None:
    message = error_of(text)
    assert expected in message
    assert len(message) < 300, message[:400]  # one readable line, even for a 5000-digit number


def test_a_long_key_is_cut_short_in_the_message() -> None:
    name = "net_" + "h" * 500
    message = error_of(TEXT + f"{name} = 1\n")
    assert message.startswith("t.toml: claims.net_hhhh") and "... (511 characters): no neuron" in message
    assert len(message) < 300


@pytest.mark.parametrize("name", sorted(p.name for p in DATA.glob("bad_*.toml")))
def test_bad_files_raise_usage_errors_naming_the_file(name: str) -> None:
    with pytest.raises(UsageError) as info:
        load_derivation(DATA / name)
    message = str(info.value)
    assert message.startswith(str(DATA / name) + ": ")
    assert "\n" not in message


def test_user_files_are_parsed_not_evaluated(tmp_path: Path) -> None:
    # A claim name or value that looks like Python is just an unknown name or a non-number.
    assert "names nothing" in error_of(TEXT + '"__import__(\'os\')" = 1\n')
    assert "expected a number" in error_of(TEXT + 'E_o1 = "1 + 1"\n')


def test_step_limit_follows_the_network_size() -> None:
    # A 2-500-2 network, estimated as 2 nodes per weight into a neuron, 1 per bias and 1 per
    # sigmoid: 500 x (4 + 1 + 1) = 3000 for the hidden layer, 2 x (1000 + 1 + 1) = 2004 for the
    # outputs, 4 x 2 for the loss, 2 inputs, 2000 weights and 2 biases: 7016 nodes, so
    # 4,000,000 node-steps allow 570 steps. 200,000 steps (the old fixed limit: hours of
    # training) are refused with that advice (200,000 x 7016 / 4,000,000 = 351 minutes).
    hidden = [f"h{i}" for i in range(500)]
    lines = ['activation = "sigmoid"', 'loss = "half_squared_error"', "learning_rate = 0.1",
             f'layers = [["x1", "x2"], {hidden!r}, ["o1", "o2"]]'.replace("'", '"'),
             "[inputs]", "x1 = 0.1", "x2 = 0.2", "[targets]", "o1 = 0", "o2 = 1", "[weights]"]
    lines += [f'w_{x}_{h} = ["{x}", "{h}", 0.01]' for h in hidden for x in ("x1", "x2")]
    lines += [f'w_{h}_{o} = ["{h}", "{o}", 0.01]' for h in hidden for o in ("o1", "o2")]
    lines += ["[biases]", f'b1 = [0.1, {", ".join(repr(h) for h in hidden)}]'.replace("'", '"'),
              'b2 = [0.1, "o1", "o2"]', "[claims]"]
    text = "\n".join(lines) + "\n"
    message = error_of(text + '"E@200000" = 1\n')
    assert ("200000 steps of this network (about 7016 graph nodes per step) would take about "
            "351 minutes to check; claim at most about 570 steps") in message
    assert parse_spec(text + '"E@570" = 1\n').claims[0].quantity.step == 570
