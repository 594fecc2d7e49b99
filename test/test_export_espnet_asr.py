"""Exporting one output as a stock ESPnet ASR model: stock Speech2Text must decode exactly
what Speech2DualText decodes for that output (same weights, same beam search)."""

from pathlib import Path

import numpy as np
import pytest
import yaml

from espnet_l2dual.bin.export_espnet_asr import main
from espnet_l2dual.inference.espnet_export import asr_state_dict, export
from tiny_dual_model import make_tiny_model


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> dict:
    return make_tiny_model(tmp_path_factory.mktemp("tiny"))


@pytest.mark.parametrize("output", ["surface", "meaning"])
def test_stock_decoder_matches_dual_decoder(tiny: dict, tmp_path: Path, output: str) -> None:
    from espnet2.bin.asr_inference import Speech2Text

    from espnet_l2dual.inference.speech2dualtext import Speech2DualText

    config = export(tiny["config"], tiny["model"], output, tmp_path / "stock")
    speech = np.random.default_rng(0).normal(0, 0.1, 16000).astype(np.float32)
    stock = Speech2Text(str(config), str(tmp_path / "stock" / "model.pth"), beam_size=3, ctc_weight=0.3,
                        maxlenratio=0.3, nbest=1)
    ours = Speech2DualText(tiny["config"], tiny["model"], beam_size=3, ctc_weight=0.3, maxlenratio=0.3)
    s_text, s_tokens, _, s_hyp = stock(speech)[0]
    o_text, o_tokens, o_score = ours(speech)[output][0]
    assert o_tokens == s_tokens
    assert o_score == pytest.approx(float(s_hyp.score), abs=1e-4)
    if output == "surface":  # bpe: the same detokeniser; jamo text is recomposed by us
        assert o_text == s_text.strip()  # we strip the trailing word boundary
    conf = yaml.safe_load(config.read_text())
    assert conf["model"] == "espnet" and conf["decoder"] == "transformer"


def test_unknown_parameters_are_refused() -> None:
    with pytest.raises(ValueError, match="'branches.surface.0.w' has no ESPnet ASR counterpart"):
        asr_state_dict({"branches.surface.0.w": 0}, "surface")


def test_output_not_in_tasks_fails(tmp_path: Path, capsys) -> None:
    tiny = make_tiny_model(tmp_path / "stl", tasks=("surface",))
    assert main(["--train_config", str(tiny["config"]), "--model_file", str(tiny["model"]),
                 "--output", "meaning", "--out_dir", str(tmp_path / "x")]) == 1
    assert "output 'meaning' is not among model_conf.tasks" in capsys.readouterr().err


def test_a_model_with_a_method_is_not_exported_as_stock_asr():
    from espnet_l2dual.inference.espnet_export import asr_config

    dual = {"model_conf": {"tasks": ["surface", "meaning"]}, "task_projection": "ortho"}
    with pytest.raises(ValueError, match="task_projection: ortho has no stock ESPnet ASR equivalent"):
        asr_config(dual, "surface")
