"""The gdlogreg command through its entry points, as a user runs it."""

import json
import os
import pty
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest
import skops.io
from PIL import Image
from sklearn.linear_model import LogisticRegression

from sklearn_gdlogreg import _messages, cli
from sklearn_gdlogreg._messages import Mention, Message, ParameterError
from sklearn_gdlogreg.cli import main
from sklearn_gdlogreg.datasets import load_digits_odd_even, load_h5
from sklearn_gdlogreg.persistence import load_model


def gdlogreg(*args):
    """Run the command in this process, as ``python -m sklearn_gdlogreg`` would.

    In-process, the library's import is paid once for all the tests; the
    tests of the entry point itself use :func:`gdlogreg_process`.
    """
    import contextlib
    import io

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main([str(arg) for arg in args])
        except SystemExit as exit:  # argparse's --help and usage errors
            status = exit.code
    return subprocess.CompletedProcess(args, status, out.getvalue(), err.getvalue())


def gdlogreg_process(*args, cwd=None):
    """Run ``python -m sklearn_gdlogreg`` in a subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "sklearn_gdlogreg", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


@pytest.fixture(scope="module")
def digits_model(tmp_path_factory):
    folder = tmp_path_factory.mktemp("digits")
    result = gdlogreg(
        "train", "--solver", "gd", "--max-iter", 300, "--model",
        folder / "m.skops", "--plot", folder / "cost.png",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return folder, result


def test_train_on_bundled_digits_reports_and_saves(digits_model):
    folder, result = digits_model
    out = result.stdout
    assert "digits" in out and "1347 training and 450 test images" in out
    assert "iterations     300" in out
    accuracy = out.split("accuracy")[1].split()
    assert 0.85 < float(accuracy[0]) <= 1 and 0.85 < float(accuracy[1]) <= 1
    assert "did not converge in --max-iter 300" in result.stderr  # one-line note
    assert "Traceback" not in result.stderr
    with Image.open(folder / "cost.png") as image:
        assert image.format == "PNG" and image.size[0] > 300
    assert not list(folder.glob("*.partial"))


def test_train_at_its_defaults_converges_without_a_warning():
    result = gdlogreg("train")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    iterations = int(result.stdout.split("iterations")[1].split()[0])
    assert iterations < 1000


# The saved model stopped at --max-iter 300, short of tol: its refit says so.
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_saved_model_predicts_like_the_in_memory_pipeline(digits_model):
    folder, _ = digits_model
    model = load_model(folder / "m.skops")
    data = load_digits_odd_even()
    np.testing.assert_array_equal(model.classes_, ["even", "odd"])
    # Refit in memory with the same settings: the same descent, bit for bit.
    from sklearn.base import clone

    refit = clone(model).fit(data.X_train, data.target_names[data.y_train])
    # (To the last bit with NumPy 2; NumPy 1.24's products differ by an ulp.)
    np.testing.assert_allclose(
        model.predict_proba(data.X_test), refit.predict_proba(data.X_test),
        rtol=1e-13, atol=1e-15,
    )  # fmt: skip
    assert model[-1].n_iter_ == 300


def test_predict_images_and_formats(digits_model, tmp_path):
    folder, _ = digits_model
    data = load_digits_odd_even()
    paths = []
    for i in range(3):  # 8-bit PNGs of the test digits, at another size
        pixels = (data.X_test[i] * 255 / 16).astype(np.uint8)
        path = tmp_path / f"digit{i}.png"
        Image.fromarray(pixels).resize((32, 32), Image.Resampling.NEAREST).save(path)
        paths.append(path)
    table = gdlogreg("predict", "--model", folder / "m.skops", *paths)
    assert table.returncode == 0, table.stderr
    # The model saw 8x8 images: each 32x32 one is named in a one-line warning.
    warned = table.stderr.splitlines()
    assert len(warned) == 3
    for path, line in zip(paths, warned, strict=True):
        assert line.startswith(f"gdlogreg: warning: {path} is 32x32 pixels, not 8x8")
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["input", "class", "p(even)", "p(odd)"]
    assert len(lines) == 4
    as_json = gdlogreg(
        "predict", "--model", folder / "m.skops", *paths, "--format", "json"
    )
    rows = json.loads(as_json.stdout)
    assert [row["input"] for row in rows] == [str(p) for p in paths]
    for row in rows:
        assert row["p(even)"] + row["p(odd)"] == pytest.approx(1)
        assert row["class"] == max(["even", "odd"], key=lambda c: row[f"p({c})"])
    as_csv = gdlogreg(
        "predict", "--model", folder / "m.skops", *paths, "--format", "csv"
    )
    assert as_csv.stdout.splitlines()[0] == "input,class,p(even),p(odd)"


def test_compare_on_bundled_digits():
    result = gdlogreg("compare", "--solver", "gd", "--max-iter", 200)
    assert result.returncode == 0, result.stderr
    lines = {
        line[:22].strip(): line[22:].split() for line in result.stdout.splitlines()
    }
    assert "LogisticRegression" in result.stdout
    objective = [float(v) for v in lines["objective J (train)"]]
    # lbfgs reaches the optimum: no lower objective is possible.
    assert objective[1] <= objective[0]
    assert lines["iterations"][0] == "200"


def run_in_process(args, capsys):
    """main(args) with its exit status, whether returned or raised by argparse."""
    try:
        status = main(args)
    except SystemExit as exit:
        status = exit.code
    return status, capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["train", "--train", "missing.h5", "--test", "missing.h5"],
            "No HDF5 file at missing.h5",
        ),
        (["train", "--max-iter", "x"], "argument --max-iter: 'x' is not a number"),
        (["train", "--learning-rate", "fast"], "argument --learning-rate"),
        (["train", "--learning-rate", "0"], "0 is not positive"),
        (["train", "--scaler", "minmax"], "invalid choice: 'minmax'"),
        (["train", "--train", "a.h5"], "give both --train and --test"),
        (["train", "--model", "no/such/folder/m.skops"], "its folder does not exist"),
        (
            ["predict", "--model", "missing.skops", "x.png"],
            "No model file at missing.skops",
        ),
        (
            ["predict", "--model", "cost.png", "x.png"],
            "not a model saved by 'gdlogreg train",
        ),
        (
            ["predict", "--model", "lr.skops", "x.png"],
            "does not trust: ['sklearn.linear_model._logistic.LogisticRegression']",
        ),
        (
            ["predict", "--model", "m.skops"],
            "give either --data FILE.h5 or image files",
        ),
        (["predict", "--model", "m.skops", "x.png"], "No image file at x.png"),
        (["predict", "--model", "m.skops", "cost.png", "--data", "d.h5"], "not both"),
        (
            ["predict", "--model", "m.skops", "m.skops"],
            "Cannot read m.skops as an image",
        ),
        (
            ["predict", "--model", "m.skops", "--data", "cost.png"],
            "Cannot read cost.png as HDF5",
        ),
        (
            ["train", "--train", "odd.h5", "--test", "odd.h5"],
            "odd.h5: found no datasets that look like images among ['pics', 'y']",
        ),
    ],
)
def test_errors_are_one_line_with_status_2(
    digits_model, args, message, capsys, monkeypatch
):
    folder, _ = digits_model
    skops.io.dump(LogisticRegression().fit([[0.0], [1.0]], [0, 1]), folder / "lr.skops")
    with h5py.File(folder / "odd.h5", "w") as file:  # keys the loader cannot guess
        file["pics"], file["y"] = np.zeros((4, 2, 2)), np.arange(4) % 2
    monkeypatch.chdir(folder)
    status, err = run_in_process(args, capsys)
    assert status == 2
    assert err.count("\n") == 1, err
    assert message in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "--max-iter", "-1"], "argument --max-iter: -1 is not a whole"),
        (["predict", "--model", "missing.skops", "x.png"], "No model file"),
    ],
)
def test_errors_through_the_entry_point(tmp_path, args, message):
    result = gdlogreg_process(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and message in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unfitted_or_row_model_file_gives_one_line(tmp_path, capsys):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from sklearn_gdlogreg import GradientDescentLogisticRegression, ImageFlattener
    from sklearn_gdlogreg.persistence import save_model

    image = tmp_path / "x.png"
    Image.fromarray(np.zeros((8, 8), dtype=np.uint8)).save(image)
    unfitted = make_pipeline(ImageFlattener(), GradientDescentLogisticRegression())
    save_model(unfitted, tmp_path / "unfitted.skops")
    rows = make_pipeline(StandardScaler(), GradientDescentLogisticRegression())
    save_model(rows.fit([[0.0], [1.0]], [0, 1]), tmp_path / "rows.skops")
    for name, message in [
        ("unfitted", "its pipeline is not fitted"),
        ("rows", "not start with an ImageFlattener"),
    ]:
        status, err = run_in_process(
            ["predict", "--model", str(tmp_path / f"{name}.skops"), str(image)], capsys
        )
        assert status == 2
        assert err.count("\n") == 1 and message in err, err


def _corrupted_copies(data, count, seed=0):
    """Copies of a model file, truncated, with flipped bits, or (as a valid zip)
    with flipped bits inside one of its members."""
    import io
    import zipfile

    rng = np.random.default_rng(seed)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    for i in range(count):
        how = ("truncated", "bits", "member")[i % 3]
        if how == "truncated":
            yield data[: rng.integers(len(data))]
            continue
        name = rng.choice(sorted(members)) if how == "member" else None
        flipped = bytearray(members[name] if name else data)
        for _ in range(rng.integers(1, 4)):
            flipped[rng.integers(len(flipped))] ^= 1 << int(rng.integers(8))
        if name is None:
            yield bytes(flipped)
            continue
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as archive:
            for member, content in members.items():
                archive.writestr(member, bytes(flipped) if member == name else content)
        yield out.getvalue()


def test_corrupted_model_files_give_one_line_never_a_traceback(digits_model, tmp_path):
    folder, _ = digits_model
    data = load_digits_odd_even()
    with h5py.File(tmp_path / "x.h5", "w") as file:
        file["test_set_x"], file["test_set_y"] = data.X_test[:5], data.y_test[:5]
    copies = _corrupted_copies((folder / "m.skops").read_bytes(), 120)
    outcomes = []
    for i, content in enumerate(copies):
        path = tmp_path / f"copy{i}.skops"
        path.write_bytes(content)
        result = gdlogreg("predict", "--model", path, "--data", tmp_path / "x.h5")
        # A flip in bytes no reader checks leaves a model that predicts.
        assert result.returncode in (0, 2), result.stderr
        if result.returncode == 2:
            assert result.stderr.count("\n") == 1, result.stderr
            assert result.stderr.startswith("gdlogreg: error:"), result.stderr
        outcomes.append(result.returncode)
    assert outcomes.count(2) > 90


def _negate(X):
    return -np.asarray(X)


def test_model_with_foreign_types_is_refused(tmp_path):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    from sklearn_gdlogreg import GradientDescentLogisticRegression

    model = make_pipeline(
        FunctionTransformer(_negate), GradientDescentLogisticRegression()
    ).fit([[0.0], [1.0]], [0, 1])
    skops.io.dump(model, tmp_path / "odd.skops")
    with pytest.raises(ValueError, match="types this package does not trust.*_negate"):
        load_model(tmp_path / "odd.skops")


def test_main_returns_the_status_in_process(capsys, tmp_path):
    assert main(["predict", "--model", str(tmp_path / "none.skops"), "x.png"]) == 2
    assert "No model file" in capsys.readouterr().err


def test_progress_is_shown_on_a_terminal_only():
    if not hasattr(
        __import__("sklearn_gdlogreg.cli").GradientDescentLogisticRegression,
        "set_callbacks",
    ):
        pytest.skip("scikit-learn < 1.9: no fit callbacks, no progress display")
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sklearn_gdlogreg",
            "train",
            "--solver",
            "gd",
            "--max-iter",
            "3000",
        ],  # fmt: skip
        stdout=subprocess.DEVNULL,
        stderr=terminal,
    )
    os.close(terminal)
    output = b""
    while True:
        try:
            chunk = os.read(controller, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        output += chunk
    assert process.wait(timeout=120) == 0
    text = output.decode()
    assert "\riteration 3000/3000  cost" in text
    quiet = gdlogreg("train", "--max-iter", 50)  # captured: not a terminal
    assert "\riteration" not in quiet.stderr and quiet.returncode == 0


def test_ctrl_c_stops_cleanly_and_writes_no_model(tmp_path):
    process = subprocess.Popen(
        [
            sys.executable, "-m", "sklearn_gdlogreg", "train", "--max-iter",
            "100000000", "--tol", "0", "--model", str(tmp_path / "m.skops"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    time.sleep(3)  # well into the descent
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130
    assert "interrupted; no file was written" in err
    assert "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("delay", [0.2, 0.6])
def test_ctrl_c_during_start_up_is_one_line(delay):
    # The child says when its Python code runs: before that, the interpreter
    # itself is starting (and Ctrl-C there is Python's, not the command's).
    script = (
        "import sys\n"
        "from sklearn_gdlogreg.cli import main\n"
        "print('started', file=sys.stderr, flush=True)\n"
        "sys.exit(main(['train']))\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr.readline() == "started\n"
    # While NumPy, then scikit-learn, are being imported (over a second):
    # an import cut short must not leave NumPy saying it is broken.
    time.sleep(delay)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert err.strip() == "gdlogreg: interrupted; no file was written."


def test_help_version_and_option_errors_import_no_scientific_library():
    """They answer at once: nothing heavier than the standard library loads."""
    script = (
        "import sys\n"
        "from sklearn_gdlogreg.cli import main\n"
        "for argv in (['--help'], ['--version'], ['train', '--max-iter', 'x']):\n"
        "    try:\n"
        "        main(argv)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "heavy = ('numpy', 'scipy', 'sklearn', 'h5py', 'PIL', 'matplotlib', 'skops')\n"
        "print('loaded:', [name for name in heavy if name in sys.modules])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert result.stdout.strip().endswith("loaded: []"), result.stdout + result.stderr
    assert "not a number" in result.stderr


def test_console_script_is_installed():
    script = Path(sys.executable).parent / "gdlogreg"
    result = subprocess.run([script, "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "train" in result.stdout


def test_train_and_predict_on_the_course_files(catvnoncat, tmp_path):
    train = os.path.join(catvnoncat.data_home, "train_catvnoncat.h5")
    test = os.path.join(catvnoncat.data_home, "test_catvnoncat.h5")
    result = gdlogreg(
        "train", "--train", train, "--test", test, "--learning-rate", "0.005",
        "--max-iter", "2000", "--tol", "0", "--C", "inf", "--model",
        tmp_path / "cat.skops",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "accuracy       0.9904   0.7000" in result.stdout
    predicted = gdlogreg(
        "predict", "--model", tmp_path / "cat.skops", "--data", test, "--format", "json"
    )
    rows = json.loads(predicted.stdout)
    truth = load_h5(test)
    labels = truth.target_names[truth.target]
    assert (
        np.mean(
            [row["class"] == label for row, label in zip(rows, labels, strict=True)]
        )
        == 0.7
    )


def _bomb_png(path):
    """A small PNG that declares 30000 x 30000 pixels (a decompression bomb)."""
    import struct
    import zlib

    def chunk(kind, data):
        body = kind + data
        return (
            struct.pack(">I", len(data))
            + body
            + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", 30000, 30000, 8, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 100)) + chunk(b"IEND", b"")
    )  # fmt: skip


def _corrupted_h5(path):
    with h5py.File(path, "w") as file:
        file["train_set_x"] = np.arange(40 * 4 * 4 * 3, dtype=np.uint8).reshape(
            40, 4, 4, 3
        )
        file["train_set_y"] = np.arange(40) % 2
    data = bytearray(path.read_bytes())
    data[200:1200] = b"\xff" * 1000  # the superblock and object headers
    path.write_bytes(bytes(data))


def _scalar_images_h5(path):
    with h5py.File(path, "w") as file:
        file["train_set_x"] = 3.0
        file["train_set_y"] = np.arange(4) % 2


def _huge_h5(path):
    """A small file declaring 10^7 x 10^5 pixels: no memory holds them."""
    with h5py.File(path, "w") as file:
        file.create_dataset(
            "train_set_x", shape=(10**7, 10**5), dtype=np.uint8, chunks=(1, 10**5)
        )
        file["train_set_y"] = np.zeros(4, dtype=np.int64)


def _zip_bomb_model(path):
    """A 300 kB file that would unpack to 300 MB."""
    import zipfile

    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("schema.json", "{}")
        archive.writestr("padding.npy", b"\0" * (300 << 20))


@pytest.mark.parametrize(
    ("make", "args"),
    [
        (_bomb_png, ["predict", "--model", "{model}", "{file}"]),
        (_huge_h5, ["train", "--train", "{file}", "--test", "{file}"]),
        (_zip_bomb_model, ["predict", "--model", "{file}", "--data", "{file}"]),
        (_corrupted_h5, ["train", "--train", "{file}", "--test", "{file}"]),
        (_scalar_images_h5, ["train", "--train", "{file}", "--test", "{file}"]),
    ],
)
def test_bad_files_give_one_line_and_status_2(digits_model, tmp_path, make, args):
    folder, _ = digits_model
    name = {"_bomb_png": "bomb.png", "_zip_bomb_model": "bomb.skops"}.get(
        make.__name__, "bad.h5"
    )
    make(tmp_path / name)
    args = [arg.format(model=folder / "m.skops", file=tmp_path / name) for arg in args]
    result = gdlogreg(*args)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("gdlogreg:")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "--learning-rate", "abc"], "'abc' is not a number, nor 'auto'"),
        (["train", "--learning-rate", "inf"], "inf is not finite"),
        (["train", "--learning-rate", "nan"], "nan is not positive"),
        (["train", "--tol", "inf"], "inf is not a finite number >= 0"),
        (["train", "--plot", "cost.jpg"], "name it .png, .pdf or .svg"),
    ],
)
def test_options_are_checked_in_the_command_s_own_words(args, message, capsys):
    status, err = run_in_process(args, capsys)
    assert status == 2 and message in err and err.count("\n") == 1
    assert "_learning_rate" not in err


def test_version(capsys):
    from sklearn_gdlogreg import __version__

    with pytest.raises(SystemExit) as exit:
        main(["--version"])
    assert exit.value.code == 0
    assert capsys.readouterr().out.strip() == f"gdlogreg {__version__}"


@pytest.mark.parametrize("kind", ["pdf", "svg"])
def test_plot_is_written_in_the_format_its_name_asks_for(tmp_path, kind, capsys):
    path = tmp_path / f"cost.{kind}"
    status, _ = run_in_process(
        ["train", "--max-iter", "5", "--quiet", "--plot", str(path)], capsys
    )
    assert status == 0
    head = path.read_bytes()[:64]
    assert head.startswith(b"%PDF") if kind == "pdf" else b"<svg" in path.read_bytes()


def test_ctrl_c_after_the_model_was_written_names_it(tmp_path, monkeypatch, capsys):
    from sklearn_gdlogreg import plotting

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(plotting, "plot_cost_curves", interrupted)
    model = tmp_path / "m.skops"
    status = main(
        ["train", "--max-iter", "20", "--model", str(model), "--plot",
         str(tmp_path / "cost.png")]
    )  # fmt: skip
    assert status == 130
    # (after the warnings the short descent printed)
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last == f"gdlogreg: interrupted; wrote {model}."
    assert model.is_file() and not (tmp_path / "cost.png").exists()


def _digits_under_other_keys(path, rows):
    data = load_digits_odd_even()
    with h5py.File(path, "w") as file:
        file["pics"] = (data.X_train[rows] * 255 / 16).astype(np.uint8)
        file["answers"] = data.y_train[rows]


def test_files_with_unknown_keys_are_read_with_x_key_and_y_key(tmp_path, capsys):
    train, test = tmp_path / "train.h5", tmp_path / "test.h5"
    _digits_under_other_keys(train, slice(0, 300))
    _digits_under_other_keys(test, slice(300, 400))
    status, err = run_in_process(
        ["train", "--train", str(train), "--test", str(test)], capsys
    )
    assert status == 2 and "Name the one to use with --x-key NAME." in err
    assert "x_key" not in err
    model = tmp_path / "m.skops"
    keys = ["--x-key", "pics", "--y-key", "answers"]
    args = ["--train", str(train), "--test", str(test), *keys]
    assert main(["train", *args, "--model", str(model), "--quiet"]) == 0
    assert main(["compare", *args]) == 0
    assert main(["predict", "--model", str(model), "--data", str(test), *keys]) == 0
    assert "pics" not in capsys.readouterr().err


def test_library_messages_name_the_command_s_options(capsys):
    status, err = run_in_process(
        ["train", "--learning-rate", "1e6", "--solver", "gd", "--max-iter", "50"],
        capsys,
    )
    assert status == 2
    assert "diverged with --learning-rate 1e+06" in err
    assert "--learning-rate auto" in err and "--scaler standard" in err
    assert main(["train", "--learning-rate", "0.5", "--max-iter", "5", "--quiet"]) == 0
    warned = capsys.readouterr().err
    assert "did not converge in --max-iter 5 iterations" in warned
    assert "raise --max-iter" in warned and "> --tol 0.0001" in warned
    for python_name in ("learning_rate", "max_iter", "tol=", "StandardScaler"):
        assert python_name not in err + warned


def test_options_are_named_from_the_error_s_parameters_not_its_text(
    monkeypatch, capsys
):
    message = Message(
        "the learning_rate in prose stays; ", Mention("max_iter", 7), " or ",
        Mention("learning_rate", "auto"), ", and ", Mention("C", 2.0),
        " (no option: Python's words).",
    )  # fmt: skip

    def fail(args):
        raise ParameterError(message)

    monkeypatch.setattr(cli, "_train", fail)
    status, err = run_in_process(["train"], capsys)
    assert status == 2
    assert err == (
        "gdlogreg: error: the learning_rate in prose stays; --max-iter 7 or "
        "--learning-rate auto, and C=2 (no option: Python's words).\n"
    )


SCALE = "(--scaler standard, or --scaler pixel for pixel values)"


@pytest.mark.parametrize(
    ("message", "line"),
    [
        (
            _messages.divergence(1e6, 3, "it rose"),
            "Gradient descent diverged with --learning-rate 1e+06: it rose at "
            "iteration 3. Use a smaller --learning-rate, or --learning-rate auto "
            f"(a step that cannot diverge), and scale the features {SCALE}.",
        ),
        (
            _messages.not_converged("M", 5, 0.5, 1e-4, fixed_rate=True),
            "M did not converge in --max-iter 5 iterations: the largest gradient "
            f"entry is 0.5 > --tol 0.0001. Scale the features {SCALE}, raise "
            "--max-iter, or use --learning-rate auto.",
        ),
        (
            _messages.features_overflow(),
            "The features are too large for float64 arithmetic: the squared norm "
            f"of X, which sets the step, overflows. Scale the features {SCALE}.",
        ),
        (
            _messages.features_underflow("float32", 1e-80),
            "The features are too small for float32 arithmetic: the step 1 / L "
            "they call for (L = 1e-80) and the coefficients that fit them are "
            f"beyond float32's range. Scale the features {SCALE}.",
        ),
        (
            _messages.no_dataset("a.h5", "b", ["x"], "x_key"),
            "a.h5 has no dataset 'b'; it has ['x']. Pass one of them as --x-key.",
        ),
        (
            _messages.no_obvious_dataset("a.h5", "no", "labels", ["x"], "y_key"),
            "a.h5: found no datasets that look like labels among ['x']. Name the "
            "one to use with --y-key NAME.",
        ),
        (
            _messages.labels_not_vector("a.h5", "y", (3, 2)),
            "a.h5: labels 'y' have shape (3, 2); expected a vector of one label "
            "per image. Pass the right dataset as --y-key.",
        ),
    ],
)
def test_the_library_s_messages_in_the_command_s_words(message, line):
    assert cli._one_line(_messages.ParameterError(message)) == line


def test_errors_without_fields_are_printed_as_written(monkeypatch, capsys):
    def fail(args):
        raise ValueError("max_iter=5 and StandardScaler, as written")

    monkeypatch.setattr(cli, "_train", fail)
    status, err = run_in_process(["train"], capsys)
    assert err == "gdlogreg: error: max_iter=5 and StandardScaler, as written\n"


@pytest.mark.parametrize(("parameter", "usage"), cli._OPTIONS.items())
def test_the_options_messages_name_are_the_command_s(
    parameter, usage, capsys, monkeypatch
):
    monkeypatch.setenv("COLUMNS", "200")  # one line per option
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    assert usage in capsys.readouterr().out


def test_help_shows_each_option_s_default(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # one line per option
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    options = capsys.readouterr().out.split("options:")[1]
    for option, default in [
        ("--max-iter N", "(default: 1000 iterations, 200 epochs)"),
        ("--batch-size N|auto", "auto (default): 200"),
        ("--momentum BETA", "(default: 0.9)"),
        ("--random-state SEED", "(default: 0, the same every run)"),
        ("--tol T", "(default: 1e-4)"),
        ("--learning-rate RATE|auto", "'auto' (default)"),
        ("--C C", "(default: 1)"),
        ("--x-key NAME", "(default: found by its name)"),
    ]:
        # The option's help: up to the next option (long names put it below).
        entry = options.split(f"\n  {option}", 1)[1].split("\n  -", 1)[0]
        assert default in " ".join(entry.split()), option


def test_max_iter_0_reports_the_starting_model():
    result = gdlogreg("train", "--max-iter", 0)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "iterations     0 (the starting model: zeros)" in out
    assert "(no step taken)" in out
    assert "final cost     0.693147" in out  # log 2: zeros, two classes
    assert "did not converge in --max-iter 0 iterations" in result.stderr


@pytest.mark.parametrize(
    ("options", "note"),
    [
        ([], r" \(the last spectral step\)"),
        (["--solver", "gd"], r" \(1/L, from the data\)"),
        (["--solver", "nesterov", "--line-search"], r" \(the last accepted step"),
        (["--learning-rate", "0.5"], "$"),
    ],
)
def test_train_says_what_its_learning_rate_is(options, note):
    import re

    result = gdlogreg("train", "--max-iter", 50, *options)
    assert result.returncode == 0, result.stderr
    assert re.search(r"^learning rate  [\d.e+-]+" + note, result.stdout, re.M)


def _labelled_digits_h5(path, names=(b"even", b"odd")):
    data = load_digits_odd_even()
    with h5py.File(path, "w") as file:
        file["test_set_x"], file["test_set_y"] = data.X_test[:20], data.y_test[:20]
        if names is not None:
            file["list_classes"] = list(names)
    return data.target_names[data.y_test[:20]]


def test_predict_data_with_labels_prints_accuracy(digits_model, tmp_path):
    folder, _ = digits_model
    labels = _labelled_digits_h5(tmp_path / "x.h5")
    model = load_model(folder / "m.skops")
    data = load_digits_odd_even()
    right = int((model.predict(data.X_test[:20]) == labels).sum())
    accuracy = f"accuracy {right / 20:.4f} ({right} of 20 labels in "
    table = gdlogreg(
        "predict", "--model", folder / "m.skops", "--data", tmp_path / "x.h5"
    )
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split()[-1] == "label" and len(lines) == 22
    assert lines[-1].startswith(accuracy)
    as_csv = gdlogreg(
        "predict", "--model", folder / "m.skops", "--data", tmp_path / "x.h5",
        "--format", "csv",
    )  # fmt: skip
    assert as_csv.stdout.splitlines()[0] == "input,class,p(even),p(odd),label"
    assert len(as_csv.stdout.splitlines()) == 21  # the accuracy: on stderr
    assert as_csv.stderr.startswith(accuracy)


def test_predict_data_whose_labels_are_not_the_classes_warns(digits_model, tmp_path):
    folder, _ = digits_model
    _labelled_digits_h5(tmp_path / "x.h5", names=None)  # labels 0 and 1
    result = gdlogreg(
        "predict", "--model", folder / "m.skops", "--data", tmp_path / "x.h5"
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == (
        f"gdlogreg: warning: the labels in {tmp_path / 'x.h5'} (['0', '1']) are not "
        "the model's classes (['even', 'odd']): no accuracy\n"
    )
    assert "accuracy" not in result.stdout


def test_format_has_help(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    with pytest.raises(SystemExit):
        main(["predict", "--help"])
    help = " ".join(capsys.readouterr().out.split())
    assert "--format {table,csv,json} table (default): aligned columns" in help


@pytest.mark.parametrize(
    ("args", "hint"),
    [
        (["train", "--lr", "0.1"], "did you mean --learning-rate?"),
        (["compare", "--epochs", "3"], "did you mean --max-iter?"),
        (["train", "--optimizer", "adam"], "did you mean --solver?"),
        (["train", "--mini-batch-size", "64"], "did you mean --batch-size?"),
        (["train", "--seed", "1"], "did you mean --random-state?"),
        (["train", "--beta1", "0.9"], "did you mean --beta-1?"),
        (["train", "--max_iter=3"], "did you mean --max-iter?"),
        (["predict", "--model", "m", "--fromat", "csv"], "did you mean --format?"),
        (["train", "--zzzzzz"], None),
    ],
)
def test_an_unknown_option_points_to_the_closest_known_one(args, hint, capsys):
    status, err = run_in_process(args, capsys)
    assert status == 2
    assert err.startswith(f"gdlogreg {args[0]}: error: unrecognized arguments: ")
    assert err.count("\n") == 1
    if hint is None:
        assert "did you mean" not in err
    else:
        assert err.endswith(f" ({hint})\n")


# -- mini-batch descent: --solver sgd, rmsprop or adam ------------------------


@pytest.fixture(scope="module")
def adam_model(tmp_path_factory):
    folder = tmp_path_factory.mktemp("adam")
    result = gdlogreg(
        "train", "--solver", "adam", "--scaler", "standard", "--batch-size", 64,
        "--max-iter", 20, "--tol", 0, "--model", folder / "m.skops",
        "--plot", folder / "cost.png",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return folder, result


def test_train_with_a_mini_batch_solver_reports_epochs_and_saves(adam_model):
    folder, result = adam_model
    out = result.stdout
    # 1347 rows in batches of 64: 22 per epoch; --tol 0: all 20 epochs.
    assert "epochs         20 (440 updates, 22 mini-batches per epoch)" in out
    # The default decay: 0.01 / (1 + 19 * 22 / 1000) in the last epoch.
    assert "learning rate  0.00705219 (the last epoch's, by --schedule decay)" in out
    accuracy = out.split("accuracy")[1].split()
    assert 0.85 < float(accuracy[0]) <= 1 and 0.85 < float(accuracy[1]) <= 1
    assert result.stderr == ""  # --tol 0: no stopping rule, no warning
    with Image.open(folder / "cost.png") as image:
        assert image.format == "PNG"


def test_a_mini_batch_model_loads_and_predicts_as_it_was_fitted(adam_model, tmp_path):
    from sklearn.base import clone

    from sklearn_gdlogreg import MiniBatchLogisticRegression

    folder, result = adam_model
    model = load_model(folder / "m.skops")
    estimator = model[-1]
    assert isinstance(estimator, MiniBatchLogisticRegression)
    assert (estimator.solver, estimator.batch_size, estimator.max_iter) == (
        "adam", 64, 20
    )  # fmt: skip
    assert estimator.tol is None and estimator.random_state == 0
    data = load_digits_odd_even()
    refit = clone(model).fit(data.X_train, data.target_names[data.y_train])
    np.testing.assert_allclose(
        model.predict_proba(data.X_test), refit.predict_proba(data.X_test),
        rtol=1e-12, atol=1e-14,
    )  # fmt: skip
    # The final cost reported is J at the fitted model (not loss_curve_'s mean).
    from sklearn_gdlogreg import logistic_objective

    cost = logistic_objective(
        estimator, model[:-1].transform(data.X_train), data.target_names[data.y_train]
    )
    assert f"final cost     {cost:.6f}" in result.stdout
    labels = _labelled_digits_h5(tmp_path / "x.h5")
    predicted = gdlogreg(
        "predict", "--model", folder / "m.skops", "--data", tmp_path / "x.h5",
        "--format", "csv",
    )  # fmt: skip
    assert predicted.returncode == 0, predicted.stderr
    rows = predicted.stdout.splitlines()[1:]
    assert [row.split(",")[1] for row in rows] == model.predict(
        data.X_test[:20]
    ).tolist()
    assert len(labels) == len(rows) == 20


@pytest.mark.parametrize(
    ("options", "parameters"),
    [
        (
            ["--solver", "sgd", "--momentum", "0.5", "--no-nesterov",
             "--batch-size", "100", "--schedule", "decay", "--decay-rate", "0.1",
             "--no-shuffle", "--random-state", "7", "--n-iter-no-change", "3"],
            dict(solver="sgd", momentum=0.5, nesterovs_momentum=False,
                 batch_size=100, schedule="decay", decay_rate=0.1, shuffle=False,
                 random_state=7, n_iter_no_change=3),
        ),
        (
            ["--solver", "rmsprop", "--beta-2", "0.9", "--epsilon", "1e-6",
             "--schedule", "invscaling", "--power-t", "0.25"],
            dict(solver="rmsprop", beta_2=0.9, epsilon=1e-6, schedule="invscaling",
                 power_t=0.25, batch_size="auto", random_state=0),
        ),
        (
            ["--solver", "adam", "--beta-1", "0.8", "--early-stopping",
             "--validation-fraction", "0.2", "--learning-rate", "0.05", "--C", "10",
             "--l1-ratio", "0.5"],
            dict(solver="adam", beta_1=0.8, early_stopping=True,
                 validation_fraction=0.2, learning_rate=0.05, C=10.0,
                 l1_ratio=0.5, momentum=0.9, nesterovs_momentum=True),
        ),
    ],
)  # fmt: skip
def test_mini_batch_options_reach_the_estimator(options, parameters, tmp_path):
    result = gdlogreg(
        "train", *options, "--scaler", "standard", "--max-iter", 5, "--tol", 0,
        "--model", tmp_path / "m.skops",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    estimator = load_model(tmp_path / "m.skops")[-1]
    assert {name: estimator.get_params()[name] for name in parameters} == parameters
    if "--early-stopping" in options:
        assert "validation     " in result.stdout
        assert "the 20% of training images held out" in result.stdout
    if "decay" in options:
        # The rate of the fifth epoch, 0.25 / (1 + 0.1 * 4), from 1/L:
        assert "(the last epoch's, by --schedule decay)" in result.stdout


# A rate of 1e6 grows the coefficients until the objective overflows, which
# ends the fit as diverged (the command shows no warning; none is raised).
def test_a_mini_batch_fit_s_notes_name_the_command_s_options():
    result = gdlogreg("train", "--solver", "sgd", "--max-iter", 2, "--quiet")
    assert result.returncode == 0, result.stderr
    assert result.stderr == (
        "gdlogreg: warning: MiniBatchLogisticRegression did not converge in "
        "--max-iter 2 epochs: the training objective still fell by more than "
        "--tol 0.0001 within the last --n-iter-no-change 10 epochs. Scale the "
        "features (--scaler standard, or --scaler pixel for pixel values), or "
        "raise --max-iter.\n"
    )
    # 1/L = 0.249393 from the data, by the default decay: / (1 + 7 / 1000).
    assert (
        "learning rate  0.24766 (the last epoch's, by --schedule decay)"
        in result.stdout
    )
    diverged = gdlogreg("train", "--solver", "sgd", "--learning-rate", "1e6")
    assert diverged.returncode == 2
    assert diverged.stderr.startswith(
        "gdlogreg: error: Mini-batch descent diverged with --learning-rate 1e+06"
    )
    assert diverged.stderr.count("\n") == 1 and "learning_rate" not in diverged.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--batch-size", "64"], "gdlogreg: error: --batch-size is for mini-batch "
         "descent (--solver sgd, rmsprop or adam), not --solver auto"),
        (["--solver", "bb", "--early-stopping"], "--early-stopping is for "
         "mini-batch descent (--solver sgd, rmsprop or adam), not --solver bb"),
        (["--random-state", "1"], "--random-state is for mini-batch descent"),
        (["--solver", "adam", "--momentum", "0.5"],
         "--momentum is for --solver sgd, not --solver adam"),
        (["--solver", "rmsprop", "--no-nesterov"],
         "--no-nesterov is for --solver sgd, not --solver rmsprop"),
        (["--solver", "rmsprop", "--beta-1", "0.5"],
         "--beta-1 is for --solver adam, not --solver rmsprop"),
        (["--solver", "sgd", "--epsilon", "1e-3"],
         "--epsilon is for --solver rmsprop or adam, not --solver sgd"),
        (["--solver", "adam", "--schedule", "constant", "--decay-rate", "2"],
         "--decay-rate is for --schedule decay"),
        (["--solver", "adam", "--schedule", "decay", "--power-t", "2"],
         "--power-t is for --schedule invscaling"),
        (["--solver", "adam", "--validation-fraction", "0.2"],
         "--validation-fraction is for --early-stopping"),
        (["--solver", "adam", "--line-search"],
         "--line-search is for --solver gd or nesterov, not --solver adam"),
        (["--solver", "sgd", "--max-iter", "0"], "--max-iter 0 (the starting "
         "model) is for the full-batch solvers: --solver sgd runs at least one"),
        (["--solver", "adam", "--batch-size", "0"],
         "argument --batch-size: 0 is not a whole number >= 1, nor 'auto'"),
        (["--solver", "sgd", "--momentum", "1"],
         "argument --momentum: 1 is not in [0, 1)"),
        (["--solver", "adam", "--beta-2", "-0.1"],
         "argument --beta-2: -0.1 is not in [0, 1)"),
        (["--solver", "adam", "--epsilon", "0"], "argument --epsilon: 0 is not "
         "positive"),
        (["--solver", "adam", "--n-iter-no-change", "0"],
         "argument --n-iter-no-change: 0 is not a whole number >= 1"),
        (["--solver", "adam", "--early-stopping", "--validation-fraction", "1"],
         "argument --validation-fraction: 1 is not between 0 and 1 (excluded)"),
        (["--solver", "adam", "--random-state", "-1"],
         "argument --random-state: -1 is not a whole number in [0, 2**32)"),
        (["--solver", "adam", "--schedule", "cosine"],
         "argument --schedule: invalid choice: 'cosine'"),
    ],
)  # fmt: skip
def test_mini_batch_options_are_checked_in_the_command_s_words(args, message, capsys):
    for command in ("train", "compare"):
        status, err = run_in_process([command, *args], capsys)
        assert status == 2 and message in err and err.count("\n") == 1, err
        assert "Traceback" not in err and "_" not in err.split(": ", 1)[1]


def test_compare_with_a_mini_batch_solver():
    result = gdlogreg(
        "compare", "--solver", "sgd", "--scaler", "standard", "--max-iter", 30,
        "--tol", 0,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = {
        line[:26].strip(): line[26:].split() for line in result.stdout.splitlines()
    }
    assert "mini-batch sgd" in result.stdout.splitlines()[1]
    assert lines["iterations (ours: epochs)"][0] == "30"
    objective = [float(v) for v in lines["objective J (train)"]]
    # lbfgs reaches the optimum; 30 epochs of plain steps get below log 2.
    assert objective[1] <= objective[0] < np.log(2)
