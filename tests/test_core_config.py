import dataclasses

import pytest

from nuonuo_core import MemoryConfig


def test_defaults_are_valid_and_frozen():
    cfg = MemoryConfig()
    assert (cfg.code_dim, cfg.k, cfg.top_k) == (16384, 20, 20)
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.k = 5  # frozen


@pytest.mark.parametrize("kwargs, message", [
    ({"k": 0}, "k must be an int in [1, 256], got 0"),
    ({"code_dim": 64, "k": 65}, "got 65"),
    ({"beta": 0.0}, "beta must be a finite number in (0, 10000], got 0.0"),
    ({"beta": float("nan")}, "beta must be a finite number in (0, 10000], got nan"),
    ({"device": "tpu"}, "device must be one of"),
    ({"w_format": "csr"}, "'csr'"),
    ({"k": 2.5}, "k must be an int in [1, 256], got 2.5"),
    ({"top_k": 0}, "top_k must be an int in [1, 10000], got 0"),
    ({"lr": -1.0}, "lr must be a finite number in (0, 100], got -1.0"),
])
def test_bad_values_raise_quoting_the_value(kwargs, message):
    with pytest.raises(ValueError) as err:
        MemoryConfig(**kwargs)
    assert message in str(err.value)


def test_dict_round_trip_and_unknown_fields():
    cfg = MemoryConfig(code_dim=512, k=8, seed=3)
    assert MemoryConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ValueError, match="unknown MemoryConfig fields: \\['bogus'\\]"):
        MemoryConfig.from_dict({**cfg.to_dict(), "bogus": 1})
