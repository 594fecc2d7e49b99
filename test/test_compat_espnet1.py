"""The ESPnet1 compatibility module picks espnet2.legacy.nets where it exists, else espnet.nets."""

from __future__ import annotations

import importlib.util
import sys
import types
from pathlib import Path

import pytest

import espnet_l2dual.compat.espnet1 as compat

SUBMODULES = [
    "batch_beam_search", "e2e_asr_common", "ctc_prefix_score", "scorers", "scorers.ctc",
    "scorers.length_bonus", "pytorch_backend", "pytorch_backend.nets_utils",
    "pytorch_backend.transformer", "pytorch_backend.transformer.subsampling",
    "pytorch_backend.transformer.add_sos_eos", "pytorch_backend.transformer.attention",
    "pytorch_backend.transformer.label_smoothing_loss", "pytorch_backend.transformer.layer_norm",
    "pytorch_backend.transformer.mask", "pytorch_backend.transformer.decoder_layer",
]


def _fake_package(monkeypatch: pytest.MonkeyPatch, package: str) -> None:
    """Modules under ``package`` whose every attribute is the string '<module>.<name>'."""
    parts = package.split(".")
    names = [".".join(parts[:i]) for i in range(1, len(parts) + 1)]
    names += [f"{package}.{sub}" for sub in SUBMODULES]
    for name in names:
        module = types.ModuleType(name)
        module.__path__ = []  # a package, so submodules import
        module.__getattr__ = lambda attr, _n=name: f"{_n}.{attr}"  # type: ignore[attr-defined]
        monkeypatch.setitem(sys.modules, name, module)


def _load_fresh() -> types.ModuleType:
    """A second copy of the compat module, executed against the current sys.modules."""
    spec = importlib.util.spec_from_file_location("_compat_under_test", Path(compat.__file__))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_new_espnet_takes_legacy_package(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_package(monkeypatch, "espnet2.legacy.nets")
    monkeypatch.setitem(sys.modules, "espnet.nets", None)  # as on 202611: no espnet.nets
    module = _load_fresh()
    assert module.NETS_PACKAGE == "espnet2.legacy.nets"
    assert module.BatchBeamSearch == "espnet2.legacy.nets.batch_beam_search.BatchBeamSearch"
    assert module.LabelSmoothingLoss == (
        "espnet2.legacy.nets.pytorch_backend.transformer.label_smoothing_loss.LabelSmoothingLoss")


def test_old_espnet_takes_espnet_nets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "espnet2.legacy", None)  # as on 202511: no espnet2.legacy
    monkeypatch.setitem(sys.modules, "espnet2.legacy.nets", None)  # (already imported on 202611)
    _fake_package(monkeypatch, "espnet.nets")
    module = _load_fresh()
    assert module.NETS_PACKAGE == "espnet.nets"
    assert module.CTCPrefixScoreTH == "espnet.nets.ctc_prefix_score.CTCPrefixScoreTH"
    assert module.subsequent_mask == "espnet.nets.pytorch_backend.transformer.mask.subsequent_mask"


def test_broken_legacy_package_is_not_hidden(monkeypatch: pytest.MonkeyPatch) -> None:
    """A legacy package that exists but fails to import is an error, not an older ESPnet."""
    _fake_package(monkeypatch, "espnet.nets")  # were it taken for an older ESPnet, this would load
    real_import = importlib.import_module

    def broken(name: str, *args: object, **kwargs: object) -> types.ModuleType:
        if name.startswith("espnet2.legacy"):
            raise ModuleNotFoundError("No module named 'some_dependency'", name="some_dependency")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(importlib, "import_module", broken)
    with pytest.raises(ModuleNotFoundError, match="some_dependency"):
        _load_fresh()


def test_installed_espnet_names_are_real() -> None:
    """On the installed ESPnet every exported name is a real class or function."""
    for name in compat.__all__:
        value = getattr(compat, name)
        assert not isinstance(value, str) or name == "NETS_PACKAGE", name
    assert compat.BatchBeamSearch.__module__.startswith(compat.NETS_PACKAGE)
