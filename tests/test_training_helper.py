"""The training loop shared by ``nn.train`` and ``autograd-tiny train``: numbers, rows as they come, plots."""

from __future__ import annotations

import io
import subprocess
import sys
import threading
import types

import pytest
from test_nn_training import train_xor

from autograd_tiny import nn
from autograd_tiny.commands.train import train as train_derivation
from autograd_tiny.derivation import load_example
from autograd_tiny.nn import training

XOR = [([0.0, 0.0], 0.0), ([0.0, 1.0], 1.0), ([1.0, 0.0], 1.0), ([1.0, 1.0], 0.0)]


def manual_xor(steps: int) -> tuple[nn.MLP, list[float]]:
    """The loop of tests/test_nn_training.py (its own code), and the loss after the last step:
    the oracle for nn.train."""
    net, losses = train_xor(seed=0, steps=steps)
    losses.append(nn.binary_cross_entropy([net(x)[0] for x, _ in XOR], [y for _, y in XOR]).data)
    return net, losses


def test_train_gives_the_losses_of_the_written_out_loop(capsys) -> None:
    _, expected = manual_xor(300)
    net = nn.MLP(2, [4, 1], activation=["tanh", "sigmoid"], seed=0)
    history = nn.train(net, XOR, nn.binary_cross_entropy, nn.SGD(net.parameters(), lr=0.5, momentum=0.9),
                       300, progress=False)
    assert history.losses == expected  # bit for bit: the same operations in the same order
    assert history.steps == 300 and len(history.losses) == 301
    # XOR learnt (test_nn_training.py: 100% from seed 0 in 300 steps)
    assert [net(x)[0].data > 0.5 for x, _ in XOR] == [y > 0.5 for _, y in XOR]
    assert history.losses[-1] < 0.05 < history.losses[0]
    assert capsys.readouterr().out == ""  # no table without every
    assert repr(history).startswith("History(steps=300, loss ")


def test_train_and_the_cli_loop_agree_on_seed004(capsys) -> None:
    # The derivation's network trained by the CLI's loop, and the same MLP trained by nn.train.
    d, e = load_example("seed004"), load_example("seed004")
    cli = train_derivation(d, 50, progress=False).losses
    net = e.network
    history = nn.train(net, [([0.05, 0.10], [0.01, 0.99])], nn.half_squared_error,
                       nn.SGD(net.parameters(), lr=e.learning_rate), 50, progress=False)
    assert cli[0] == pytest.approx(0.298371109, abs=5e-10)  # E of seed 004 by hand
    assert history.losses == pytest.approx(cli, rel=1e-13)
    assert all(b < a for a, b in zip(cli, cli[1:]))


def test_every_prints_the_table_as_it_goes(capsys) -> None:
    net = nn.MLP(2, [4, 1], activation=["tanh", "sigmoid"], seed=0)
    history = nn.train(net, XOR, nn.binary_cross_entropy, nn.SGD(net.parameters(), lr=0.5, momentum=0.9),
                       10, every=4, progress=False)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "  step  loss"
    assert [int(line.split()[0]) for line in lines[1:]] == [0, 4, 8, 10]
    assert [float(line.split()[1]) for line in lines[1:]] == pytest.approx(
        [history.losses[k] for k in (0, 4, 8, 10)], rel=1e-8)


class Recorder(io.StringIO):
    """A file that records each flushed write into a shared event list."""

    def __init__(self, events: list[str]) -> None:
        super().__init__()
        self.events = events

    def flush(self) -> None:
        text = self.getvalue()
        if text:
            self.events.append("row " + text.split()[0])
            self.seek(0)
            self.truncate()


def test_each_row_is_flushed_before_the_next_step() -> None:
    events: list[str] = []
    losses = iter([5.0, 4.0, 3.0, 2.0, 1.0, 0.5])

    def step() -> float:
        events.append("step")
        return next(losses)

    history = training.run(step, lambda: next(losses), 5, every=2, table=Recorder(events))
    assert history.losses == [5.0, 4.0, 3.0, 2.0, 1.0, 0.5]
    assert events == ["row step", "step", "row 0", "step", "step", "row 2", "step", "step", "row 4",
                      "row 5"]


def test_cli_rows_reach_a_pipe_while_it_is_still_training() -> None:
    # 10,000,000 steps take minutes; the rows for steps 0 and 1000 must arrive long before.
    proc = subprocess.Popen([sys.executable, "-m", "autograd_tiny", "train", "--example", "seed004",
                             "--steps", "10000000", "--every", "1000"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    watchdog = threading.Timer(300, proc.kill)  # only so that a regression fails instead of hanging
    watchdog.start()
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(5)]
        still_training = proc.poll() is None
    finally:
        watchdog.cancel()
        proc.kill()
        proc.wait()
    assert lines[2].split() == ["step", "loss", "E"]
    assert lines[3].split() == ["0", "0.298371109"]  # E of seed 004 by hand
    assert lines[4].split()[0] == "1000"
    assert still_training


def test_progress_bar_goes_to_stderr(capsys) -> None:
    net = nn.MLP(2, [2, 1], seed=0)
    nn.train(net, XOR, nn.half_squared_error, nn.SGD(net.parameters(), lr=0.1), 3, progress=True)
    captured = capsys.readouterr()
    assert "training" in captured.err and captured.out == ""


@pytest.mark.parametrize(("kwargs", "error", "needle"), [
    ({"steps": -1}, ValueError, "steps must be >= 0, got -1"),
    ({"steps": 2.5}, TypeError, "steps must be an int >= 0, got float: 2.5"),
    ({"steps": 3, "every": 0}, ValueError, "every must be >= 1, got 0"),
    ({"steps": 3, "data": []}, ValueError, "data must be a non-empty list of (inputs, target) pairs"),
    ({"steps": 3, "data": [([0.0, 1.0], 1.0, 2.0)]}, TypeError, "data[0] must be an (inputs, target) pair"),
    ({"steps": 3, "data": [([0.0, "a"], 1.0)]}, TypeError, "data[0]'s inputs must be numbers, got str: 'a'"),
    ({"steps": 3, "data": [([0.0, 1.0], [1.0, 0.0])]}, ValueError,
     "data[0] has 2 target(s) but the model gives 1 output(s)"),
    ({"steps": 3, "optimizer": "sgd"}, TypeError, "optimizer must have a step() method"),
])
def test_train_rejects_bad_arguments(kwargs, error, needle) -> None:
    net = nn.MLP(2, [2, 1], seed=0)
    args = {"data": XOR, "optimizer": nn.SGD(net.parameters(), lr=0.1), **kwargs}
    with pytest.raises(error) as info:
        nn.train(net, args["data"], nn.half_squared_error, args["optimizer"], args["steps"],
                 every=args.get("every"), progress=False)
    assert needle in str(info.value)


def test_plot_without_matplotlib_says_how_to_install_it(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    net = nn.MLP(2, [2, 1], seed=0)
    with pytest.raises(ImportError, match=r'pip install "autograd-tiny\[plot\]"'):
        nn.train(net, XOR, nn.half_squared_error, nn.SGD(net.parameters(), lr=0.1), 3, plot=True)


# -- plots ----------------------------------------------------------------------------------------
LONG_TITLE = ("2-2-2 network, one step and 10,000 steps (seed 004: figures computed by autograd-tiny): "
              "loss over 10000 steps")  # what `train --example seed004 --steps 10000 --plot` titles


def title_box(figure):
    figure.canvas.draw()
    (ax,) = figure.axes
    return ax.title.get_window_extent(figure.canvas.get_renderer())


def test_a_long_plot_title_fits_inside_the_figure() -> None:
    pytest.importorskip("matplotlib")
    d = load_example("seed004")
    history = train_derivation(d, 30, progress=False, plot=True, title=LONG_TITLE)
    figure = history.figure
    box, width, height = title_box(figure), figure.bbox.width, figure.bbox.height
    assert 0 <= box.x0 < box.x1 <= width and 0 <= box.y0 < box.y1 <= height
    (ax,) = figure.axes
    assert "\n" in ax.get_title() and ax.get_title().split() == LONG_TITLE.split()  # wrapped, not cut
    # the line holds every loss: step k at x = k
    xs, ys = ax.lines[0].get_data()
    assert list(xs) == list(range(31)) and list(ys) == history.losses


def test_the_same_title_on_one_line_would_be_cut_off() -> None:
    # The check above can fail: unwrapped, this title is wider than the 6.4-inch figure.
    pytest.importorskip("matplotlib")
    plot = training.LossPlot("", 10)
    plot.ax.set_title(LONG_TITLE)
    assert title_box(plot.figure).width > plot.figure.bbox.width


def test_a_live_plot_is_redrawn_in_place(monkeypatch) -> None:
    pytest.importorskip("matplotlib")
    shown: list[tuple[str, bytes]] = []

    class Handle:
        def update(self, image) -> None:
            shown.append(("update", image.data))

    def display(image, display_id):
        assert display_id is True
        shown.append(("display", image.data))
        return Handle()

    fake = types.SimpleNamespace(display=display, Image=lambda data: types.SimpleNamespace(data=data))
    monkeypatch.setattr(training, "_ipython_display", lambda: fake)
    monkeypatch.setattr(training, "MIN_REDRAW_SECONDS", 0.0)  # every planned redraw, however fast
    net = nn.MLP(2, [2, 1], seed=0)
    opt = nn.SGD(net.parameters(), lr=0.1)
    steps = 100
    history = training.run(lambda: nn.train(net, XOR, nn.half_squared_error, opt, 1, progress=False)
                           .losses[0], lambda: 0.25, steps, plot=True, live=True, title="XOR")
    assert shown[0][0] == "display" and all(kind == "update" for kind, _ in shown[1:])
    # redrawn every 100 // MAX_REDRAWS = 4 steps, and once at the end
    assert len(shown) == 1 + steps // (steps // training.MAX_REDRAWS) + 1
    assert shown[-1][1][:8] == b"\x89PNG\r\n\x1a\n"
    xs, ys = history.figure.axes[0].lines[0].get_data()
    assert len(xs) == steps + 1 and ys[-1] == 0.25
