"""The default space fitted to the data: widths from the inputs, outputs and examples,
batch sizes that fit m; written bounds kept; the reason printed and stored."""
import pytest

from search.config import ConfigError
from search.config.compose import compose_checked
from search.config.space_fit import fit_dims, fitted_lines
from search.study.definition import study_definition

LAYERS = {"type": "layers", "depth_low": 1, "depth_high": 3, "units_low": None,
          "units_high": None}
BATCH = {"type": "categorical", "choices": None}


@pytest.mark.parametrize("shape, units, sizes", [
    ((2, 1, 320), (2, 32), [None, 32]),       # planar: the floor of 32 units
    ((64, 10, 1437), (10, 128), [32, 64, 128]),  # digits: 2 x 64 -> 128, at least n_y
    ((30, 1, 364), (2, 64), [None, 32]),      # breast_cancer, a fold of 5
    ((12288, 1, 167), (2, 41), [None]),       # cat: the ceiling of 256, then m / 4
    ((2, 1, 512), (2, 32), [None, 32, 64]),   # full batch up to 512 examples
    ((2, 1, 513), (2, 32), [32, 64]),
    ((784, 10, 48000), (10, 256), [32, 64, 128, 256]),
])
def test_widths_and_batch_sizes_follow_the_shape(shape, units, sizes):
    dims = {"model.hidden_units": LAYERS, "train.batch_size": BATCH}
    fitted = fit_dims(dims, *shape)
    layers = fitted["model.hidden_units"]
    assert (layers["units_low"], layers["units_high"]) == units
    assert fitted["train.batch_size"]["choices"] == sizes
    assert all(b * 8 <= shape[2] for b in sizes if b)
    assert dims["model.hidden_units"]["units_high"] is None  # the input is left alone
    assert len(fitted_lines(fitted)) == 2


def test_a_written_bound_or_list_is_kept():
    dims = {"model.hidden_units": {**LAYERS, "units_high": 16},
            "train.batch_size": {"type": "categorical", "choices": [None, 8]}}
    fitted = fit_dims(dims, 64, 10, 1437)
    assert fitted["model.hidden_units"]["units_high"] == 16
    assert fitted["model.hidden_units"]["units_low"] == 10
    assert "units 10..16" in fitted["model.hidden_units"]["fitted"]
    assert fitted["train.batch_size"] == dims["train.batch_size"]
    # a written bound on the other side of the fitted one: the fitted one gives way
    narrow = fit_dims({"model.hidden_units": {**LAYERS, "units_high": 8}}, 64, 10, 1437)
    assert (narrow["model.hidden_units"]["units_low"], 8) == (8, 8)
    wide = fit_dims({"model.hidden_units": {**LAYERS, "units_low": 300}}, 64, 10, 1437)
    assert wide["model.hidden_units"]["units_high"] == 300


def test_the_default_sweep_fits_its_data_and_stores_why():
    from search.study.study import check_sweep_config

    cfg = compose_checked("sweep", ["data=digits", "search.cv.folds=5"])
    dims = check_sweep_config(cfg)
    assert (dims["model.hidden_units"]["units_low"], dims["model.hidden_units"]["units_high"]) \
        == (10, 128)
    assert dims["train.batch_size"]["choices"] == [32, 64, 128]
    assert "train.num_iterations" not in dims  # a ceiling now: trials stop early
    definition = study_definition(cfg, dims, "digest")
    assert "n_x=64 inputs" in definition["search.space.model.hidden_units.fitted"]
    override = compose_checked("sweep", ["data=digits",
                                         "search.space.model.hidden_units.units_high=48"])
    assert check_sweep_config(override)["model.hidden_units"]["units_high"] == 48


def test_null_choices_other_than_the_batch_size_are_refused():
    from search.study.study import check_sweep_config

    cfg = compose_checked("sweep", ["search.space.model.activation.choices=null"])
    with pytest.raises(ConfigError, match="search.space.model.activation.choices: null"):
        check_sweep_config(cfg)
