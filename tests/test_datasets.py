"""HDF5 loaders on files the tests write, and on the course's files when present."""

import warnings

import h5py
import numpy as np
import pytest

from sklearn_gdlogreg.datasets import (
    DATA_HOME_ENV,
    load_catvnoncat,
    load_digits_odd_even,
    load_h5,
    load_image_files,
)


def write_h5(path, **datasets):
    with h5py.File(path, "w") as file:
        for name, value in datasets.items():
            file.create_dataset(name, data=value)
    return path


def course_like(path, n=6, prefix="train"):
    rng = np.random.RandomState(0)
    return write_h5(
        path,
        **{
            f"{prefix}_set_x": rng.randint(0, 256, size=(n, 4, 4, 3)).astype(np.uint8),
            f"{prefix}_set_y": np.arange(n) % 2,
            "list_classes": np.array([b"non-cat", b"cat"]),
        },
    )


def test_finds_the_course_keys_and_decodes_class_names(tmp_path):
    data = load_h5(course_like(tmp_path / "train.h5"))
    assert data.images.shape == (6, 4, 4, 3) and data.images.dtype == np.uint8
    np.testing.assert_array_equal(data.target, [0, 1, 0, 1, 0, 1])
    np.testing.assert_array_equal(data.target_names, ["non-cat", "cat"])
    assert data.filename == str(tmp_path / "train.h5")
    images, target = load_h5(tmp_path / "train.h5", return_X_y=True)
    np.testing.assert_array_equal(images, data.images)


def test_explicit_keys_and_names_from_labels(tmp_path):
    path = write_h5(
        tmp_path / "any.h5",
        pics=np.zeros((3, 2, 2)),
        answers=np.array([2, 5, 2]),
        other=np.ones(3),
    )
    data = load_h5(path, x_key="pics", y_key="answers")
    np.testing.assert_array_equal(data.target_names, ["2", "5"])


def test_row_vector_labels_are_accepted(tmp_path):
    path = write_h5(tmp_path / "row.h5", set_x=np.zeros((3, 2)), set_y=np.ones((1, 3)))
    assert load_h5(path).target.shape == (3,)


@pytest.mark.parametrize(
    ("datasets", "kwargs", "message"),
    [
        (
            {"a_x": np.zeros((2, 2)), "a_y": np.ones(2)},
            {"x_key": "b"},
            r"no dataset 'b'; it has \['a_x', 'a_y'\]",
        ),
        (
            {"pics": np.zeros((2, 2)), "answers": np.ones(2)},
            {},
            "found no datasets that look like images",
        ),
        (
            {"a_x": np.zeros((2, 2)), "b_x": np.zeros((2, 2)), "y": np.ones(2)},
            {},
            "several",
        ),
        ({"set_x": np.zeros((3, 2)), "set_y": np.ones(2)}, {}, "3 images .* 2 labels"),
        (
            {"set_x": np.zeros((3, 2)), "set_y": np.ones((3, 2))},
            {},
            r"shape \(3, 2\); expected a vector",
        ),
    ],
)
def test_bad_files_get_errors_naming_path_and_problem(
    tmp_path, datasets, kwargs, message
):
    path = write_h5(tmp_path / "bad.h5", **datasets)
    with pytest.raises(ValueError, match=message) as error:
        load_h5(path, **kwargs)
    assert str(path) in str(error.value)
    with h5py.File(path, "a"):  # the loader closed it: it opens for writing
        pass


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="No HDF5 file at .*missing.h5"):
        load_h5(tmp_path / "missing.h5")


@pytest.mark.parametrize("content", [b"not an hdf5 file", "truncated"])
def test_unreadable_or_truncated_file(tmp_path, content):
    path = tmp_path / "broken.h5"
    if content == "truncated":
        full = course_like(tmp_path / "full.h5", n=200).read_bytes()
        content = full[: len(full) // 2]
    path.write_bytes(content)
    with pytest.raises(ValueError, match=r"Cannot read .*broken.h5 as HDF5"):
        load_h5(path)


def test_load_catvnoncat_from_folder_or_env(tmp_path, monkeypatch):
    folder = tmp_path / "catvnoncat"
    folder.mkdir()
    course_like(folder / "train_catvnoncat.h5", n=6)
    course_like(folder / "test_catvnoncat.h5", n=4, prefix="test")
    data = load_catvnoncat(tmp_path)  # the parent folder works too
    assert data.X_train.shape == (6, 4, 4, 3) and data.y_test.shape == (4,)
    np.testing.assert_array_equal(data.target_names, ["non-cat", "cat"])
    monkeypatch.setenv(DATA_HOME_ENV, str(folder))
    assert load_catvnoncat().data_home == str(folder)


def test_load_catvnoncat_says_where_the_files_go(tmp_path, monkeypatch):
    monkeypatch.delenv(DATA_HOME_ENV, raising=False)
    with pytest.raises(
        FileNotFoundError, match=f"train_catvnoncat.h5.*{DATA_HOME_ENV}"
    ):
        load_catvnoncat()
    with pytest.raises(FileNotFoundError, match=f"{tmp_path} does not hold"):
        load_catvnoncat(tmp_path)


def test_real_catvnoncat_files(catvnoncat):
    assert catvnoncat.X_train.shape == (209, 64, 64, 3)
    assert catvnoncat.X_test.shape == (50, 64, 64, 3)
    assert catvnoncat.X_train.dtype == np.uint8
    assert catvnoncat.y_train.sum() == 72 and catvnoncat.y_test.sum() == 33
    np.testing.assert_array_equal(catvnoncat.target_names, ["non-cat", "cat"])


def test_digits_odd_even_is_a_stratified_split():
    data = load_digits_odd_even()
    assert data.X_train.shape == (1347, 8, 8) and data.X_test.shape == (450, 8, 8)
    assert data.X_train.max() == 16 and data.max_value == 16
    assert abs(data.y_train.mean() - data.y_test.mean()) < 0.01
    np.testing.assert_array_equal(data.target_names, ["even", "odd"])


@pytest.mark.parametrize(("image_shape", "mode"), [((8, 6), "L"), ((8, 6, 3), "RGB")])
def test_image_files_are_converted_and_resized(tmp_path, image_shape, mode):
    from PIL import Image

    pixels = np.zeros((40, 30, 3), dtype=np.uint8)
    pixels[:, :, 0] = 255  # pure red
    Image.fromarray(pixels).save(tmp_path / "red.png")
    Image.fromarray(pixels).save(tmp_path / "red.jpg")
    with pytest.warns(UserWarning, match="is 30x40 pixels, not 6x8") as caught:
        images = load_image_files(
            [tmp_path / "red.png", tmp_path / "red.jpg"], image_shape
        )
    assert len(caught) == 2
    assert ("is colour, not grey" in str(caught[0].message)) == (mode == "L")
    assert images.shape == (2, *image_shape) and images.dtype == np.uint8
    expected = Image.new("RGB", (1, 1), (255, 0, 0)).convert(mode).getpixel((0, 0))
    np.testing.assert_allclose(
        images[0].reshape(-1, len(np.atleast_1d(expected)))[0], expected, atol=2
    )


@pytest.mark.parametrize(("size", "mode"), [((6, 8), "L"), ((6, 8), "P")])
def test_image_files_of_the_model_s_size_and_kind_give_no_warning(tmp_path, size, mode):
    from PIL import Image

    Image.new(mode, size).save(tmp_path / "image.png")
    image_shape = (8, 6) if mode == "L" else (8, 6, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_image_files([tmp_path / "image.png"], image_shape)


def test_image_files_errors(tmp_path):
    (tmp_path / "text.png").write_text("not an image")
    with pytest.raises(ValueError, match="Cannot read .*text.png as an image"):
        load_image_files([tmp_path / "text.png"], (8, 8))
    with pytest.raises(FileNotFoundError, match="No image file at .*none.png"):
        load_image_files([tmp_path / "none.png"], (8, 8))
    with pytest.raises(ValueError, match="input shape"):
        load_image_files([tmp_path / "text.png"], (8, 8, 2))
