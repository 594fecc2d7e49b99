"""One output of a dual model as a stock ESPnet ASR model (``espnet2.bin.asr_*``).

The shared encoder plus one output's CTC and decoder *is* an ordinary ESPnet hybrid
CTC/attention model; exporting it lets any ESPnet tool use it, and gives the benchmark a stock
decoder with identical weights.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict

import yaml

from espnet_l2dual.utils.fileio import atomic_write
from espnet_l2dual.outputs import PAIR

# ESPnet ASR config keys that carry over unchanged (front end, encoder, training bits).


# ESPnet ASR config keys that carry over unchanged (front end, encoder, training bits).
SHARED_KEYS = (
    "frontend", "frontend_conf", "specaug", "specaug_conf", "normalize", "normalize_conf",
    "preencoder", "preencoder_conf", "encoder", "encoder_conf", "postencoder", "postencoder_conf",
    "input_size", "ctc_conf", "use_preprocessor", "cleaner", "non_linguistic_symbols",
)


# the disentangling-method choices of L2DualTask (none of them exists in ESPnetASRModel)
METHOD_CHOICES = ("encoder_sharing", "task_projection", "decoder_coupling")


# model_conf keys of ESPnetL2DualModel that ESPnet's ESPnetASRModel understands too.
MODEL_KEYS = ("ctc_weight", "ignore_id", "lsm_weight", "length_normalized_loss", "report_cer", "report_wer",
              "sym_space", "sym_blank", "extract_feats_in_collect_stats")


def asr_config(dual: Dict[str, Any], output: str) -> Dict[str, Any]:
    """The ESPnet ASRTask config for one output of a dual-model config."""
    tasks = dual.get("model_conf", {}).get("tasks", list(PAIR))
    if output not in tasks:
        raise ValueError(f"output '{output}' is not among model_conf.tasks {tasks}")
    methods = [f"{k}: {dual[k]}" for k in METHOD_CHOICES if dual.get(k) is not None]
    if methods:  # a stock ASR model would skip the method's part of the forward: wrong hypotheses
        raise ValueError(f"a model with {', '.join(methods)} has no stock ESPnet ASR equivalent; "
                         "decode it with espnet_l2dual.bin.l2dual_inference")
    conf = {k: dual[k] for k in SHARED_KEYS if k in dual}
    token_type = dual.get(f"{output}_token_type", "char")
    conf["token_type"] = "phn" if token_type == "jamo" else token_type
    conf["g2p"] = "korean_jaso" if token_type == "jamo" else dual.get(f"{output}_g2p")
    conf["token_list"] = dual[f"{output}_token_list"]
    conf["bpemodel"] = dual.get(f"{output}_bpemodel")
    conf["decoder"] = dual.get(f"{output}_decoder", "transformer")
    conf["decoder_conf"] = dual.get(f"{output}_decoder_conf", {})
    conf["model"] = "espnet"
    conf["model_conf"] = {k: v for k, v in dual.get("model_conf", {}).items() if k in MODEL_KEYS}
    return conf


def asr_state_dict(state: Dict[str, Any], output: str) -> Dict[str, Any]:
    """Rename ``decoders.<o>.*``/``ctcs.<o>.*`` to ESPnet's ``decoder.*``/``ctc.*``; drop the other output."""
    out = {}
    for key, value in state.items():
        head, _, rest = key.partition(".")
        if head in ("decoders", "ctcs"):
            o, _, name = rest.partition(".")
            if o == output:
                out[f"{'decoder' if head == 'decoders' else 'ctc'}.{name}"] = value
        elif head in ("encoder", "frontend", "normalize", "preencoder", "postencoder", "specaug"):
            out[key] = value
        else:
            raise ValueError(f"parameter '{key}' has no ESPnet ASR counterpart (a disentangling method?)")
    return out


def export(train_config: Path, model_file: Path, output: str, out_dir: Path) -> Path:
    """Write ``out_dir/config.yaml`` and ``out_dir/model.pth``; return the config path."""
    import torch

    from espnet2.tasks.asr import ASRTask

    dual = yaml.safe_load(train_config.read_text(encoding="utf-8"))
    # Start from ASRTask's own defaults so the config is complete for build_model_from_file.
    conf = vars(ASRTask.get_parser().parse_args([]))
    conf.update(asr_config(dual, output))
    state = asr_state_dict(torch.load(model_file, map_location="cpu", weights_only=True), output)
    out_dir.mkdir(parents=True, exist_ok=True)
    with atomic_write(out_dir / "model.pth", "wb") as f:
        torch.save(state, f)
    with atomic_write(out_dir / "config.yaml") as f:
        yaml.safe_dump(conf, f, allow_unicode=True, sort_keys=False)
    return out_dir / "config.yaml"
