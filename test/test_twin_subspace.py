"""Interventional subspace post-training: its loss parts on constructed inputs, one training step, the
pair-aware batches, the registration from YAML, and the mini corpus's train twins option."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import torch

from l2dual_helpers import parse_args, random_batch, tiny_config
from espnet_l2dual.data.twin_batches import (GROUP_KEY, TwinCollateFn, group_ids, keep_twins_together,
                                             read_twin_groups)
from espnet_l2dual.errors import DataError
from espnet_l2dual.methods.twin_subspace import (TwinSubspaceProjection, edit_distances, group_contrastive,
                                                 pooled, surface_proportional)
from espnet_l2dual.tasks.l2dual import L2DualTask
from espnet_l2dual.utils.config_file import load_config, write_resolved

MTL = ["surface", "meaning"]
RECIPES = Path(__file__).resolve().parents[1] / "egs2"
TWIN = {"task_projection": "twin_subspace",
        "task_projection_conf": {"meaning_weight": 1.0, "surface_weight": 1.0, "independence_weight": 0.5}}


# ---------------------------------------------------------------- loss parts

def test_pooling_ignores_padding():
    x = torch.tensor([[[1.0], [3.0], [100.0]], [[2.0], [2.0], [2.0]]])
    assert pooled(x, torch.tensor([2, 3])).flatten().tolist() == [2.0, 2.0]


def test_meaning_contrast_prefers_twins_together():
    a, b = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])
    group = torch.tensor([0, 0, 1, 1])
    together = group_contrastive(torch.stack([a, a, b, b]), group, 0.1)
    apart = group_contrastive(torch.stack([a, b, a, b]), group, 0.1)  # each twin next to the other group
    assert together < 0.01 < 1.0 < apart
    assert group_contrastive(torch.stack([a, b]), torch.tensor([0, -1]), 0.1) is None  # no pair


def test_surface_distance_follows_edit_distance():
    ys = torch.tensor([[1, 2, 3, 4], [1, 2, 3, 5], [6, 7, 8, 9]])
    edit = edit_distances(ys, torch.tensor([4, 4, 4]))
    assert edit[0, 1] == pytest.approx(0.25) and edit[0, 2] == 1.0 and edit[1, 0] == edit[0, 1]
    near = torch.tensor([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])  # twins identical: too close
    graded = torch.tensor([[1.0, 0.0, 0.0], [0.75, (1 - 0.75 ** 2) ** 0.5, 0.0], [0.0, 0.0, 1.0]])  # 1 - cos = .25
    assert surface_proportional(graded, edit, 1.0) < 0.01 < surface_proportional(near, edit, 1.0)


def test_loss_parts_signs_and_independence():
    proj = TwinSubspaceProjection(4, MTL, temperature=0.1)
    t = torch.randn(2, 5, 4)
    lens = torch.tensor([5, 4])
    ys = (torch.tensor([[1, 2], [1, 3]]), torch.tensor([2, 2]))
    same = proj.loss_parts({"surface": (t, lens), "meaning": (t, lens)}, ys, torch.tensor([0, 0]))
    other = proj.loss_parts({"surface": (t, lens), "meaning": (torch.randn(2, 5, 4), lens)}, ys, torch.tensor([0, 0]))
    assert set(same) == {"meaning", "surface", "independence"}
    assert same["independence"] == pytest.approx(1.0, abs=1e-4)  # identical subspaces: CKA 1
    assert other["independence"] < same["independence"]
    assert all(v >= 0 for v in same.values())


def test_bad_options_are_named():
    with pytest.raises(ValueError, match="surface, meaning"):
        TwinSubspaceProjection(4, ["surface"])
    with pytest.raises(ValueError, match="independence"):
        TwinSubspaceProjection(4, MTL, independence="nope")
    with pytest.raises(ValueError, match="meaning_weight"):
        TwinSubspaceProjection(4, MTL, meaning_weight=-1)


# ---------------------------------------------------------------- the model

def _build(tmp_path, conf=TWIN):
    cfg = tiny_config(MTL)
    cfg.update(copy.deepcopy(conf))
    torch.manual_seed(0)
    return L2DualTask.build_model(parse_args(tmp_path, cfg))


def test_identity_start_keeps_the_mtl_model(tmp_path):
    model = _build(tmp_path)
    assert type(model.task_projection).__name__ == "TwinSubspaceProjection"
    for p in model.task_projection.projections.values():
        assert torch.equal(p.weight, torch.eye(p.weight.shape[0])) and not p.bias.any()


def test_one_step_moves_the_projections(tmp_path):
    model = _build(tmp_path)
    batch = random_batch()
    batch[GROUP_KEY] = torch.tensor([0, 0, -1])
    before = {o: p.weight.detach().clone() for o, p in model.task_projection.projections.items()}
    model.train()
    loss, stats, _ = model(**batch)
    assert torch.isfinite(loss) and "twin_subspace_penalty" in stats
    opt = torch.optim.SGD(model.task_projection.parameters(), lr=0.1)
    opt.zero_grad()
    loss.backward()
    opt.step()
    for o, p in model.task_projection.projections.items():
        assert not torch.equal(p.weight, before[o])
    model.eval()
    with torch.no_grad():
        loss, stats, _ = model(**random_batch())  # no twin_group: surface + independence only
    assert torch.isfinite(loss)


@pytest.mark.parametrize("lang", ["l2ko", "l2en"])
@pytest.mark.parametrize("suffix", ["_tiny", ""])
def test_yaml_resolves_to_the_registered_method(tmp_path, lang, suffix):
    tuning = RECIPES / lang / "asr1" / "conf" / "tuning"
    conf = load_config(tuning / f"train_twin_subspace{suffix}.yaml")
    mtl = load_config(tuning / f"train_mtl{suffix}.yaml")
    assert conf["task_projection"] == "twin_subspace"
    assert conf["task_projection_conf"]["output_size"] == mtl["encoder_conf"]["output_size"]  # identity start
    assert "encoder" in conf["freeze_param"]
    config = write_resolved(tuning / f"train_twin_subspace{suffix}.yaml", tmp_path / "resolved.yaml")
    args = L2DualTask.get_parser().parse_args(["--config", str(config)])
    assert args.twin_map.endswith("train_twins/utt2twin")
    cfg = tiny_config(MTL)
    cfg.update(task_projection=conf["task_projection"], task_projection_conf={
        **conf["task_projection_conf"], "output_size": cfg["encoder_conf"]["output_size"]})
    model = L2DualTask.build_model(parse_args(tmp_path, cfg))
    assert isinstance(model.task_projection, TwinSubspaceProjection)


# ---------------------------------------------------------------- pair-aware batches

def _utt2twin(tmp_path) -> Path:
    p = tmp_path / "utt2twin"
    p.write_text("a a original\na-c a canonical\na-e01 a th_stopping@1:THIS>DIS\nb b original\n"
                 "b-c b canonical\n", encoding="utf-8")
    return p


def test_twins_kept_together_and_grouped(tmp_path):
    group_of = read_twin_groups(_utt2twin(tmp_path))
    batches = keep_twins_together([("a", "b", "x"), ("a-c", "y"), ("b-c", "a-e01")], group_of)
    assert sorted(u for b in batches for u in b) == sorted(["a", "b", "x", "a-c", "y", "b-c", "a-e01"])
    assert batches[0] == ("a", "b", "x", "a-c", "b-c", "a-e01") and batches[1] == ("y",) and len(batches) == 2
    assert group_ids(["a", "x", "a-c", "b"], group_of).tolist() == [0, -1, 0, -1]
    collate = TwinCollateFn(group_of, float_pad_value=0.0, int_pad_value=-1)
    import numpy as np
    ids, batch = collate([("a", {"speech": np.zeros(3, dtype=np.float32)}),
                          ("a-c", {"speech": np.zeros(2, dtype=np.float32)})])
    assert batch[GROUP_KEY].tolist() == [0, 0]


def test_bad_twin_map_line_is_named(tmp_path):
    p = tmp_path / "utt2twin"
    p.write_text("a a original\nb b nope@\n", encoding="utf-8")
    with pytest.raises(DataError, match="utt2twin"):
        read_twin_groups(p)


def test_train_collate_only_with_twin_map(tmp_path):
    cfg = tiny_config(MTL)
    args = parse_args(tmp_path, cfg, ["--twin_map", str(_utt2twin(tmp_path))])
    assert isinstance(L2DualTask.build_collate_fn(args, train=True), TwinCollateFn)
    assert not isinstance(L2DualTask.build_collate_fn(args, train=False), TwinCollateFn)


def test_train_twins_come_from_train(monkeypatch, tmp_path):
    from espnet_l2dual.corpus import mini

    written = []
    monkeypatch.setattr(mini, "write_set", lambda out, lang, split, utts, nj, utt2twin=None:
                        written.append((split, {u.utt_id for u in utts}, utt2twin)))
    mini.make_mini_corpus("en", tmp_path, num_utts={"train": 40, "dev": 2, "test": 2},
                          num_spk={"train": 4, "dev": 1, "test": 1}, nj=1, train_twins=True)
    sets = {s: (ids, m) for s, ids, m in written}
    assert "train_twins" in sets and "eval_twins" not in sets
    originals = {row[1].split()[0] for row in sets["train_twins"][1]}
    assert originals <= sets["train"][0] and not originals & sets["eval"][0]


def test_frozen_encoder_keeps_its_batch_norm_statistics(tmp_path):
    model = _build(tmp_path)
    for name, p in model.named_parameters():
        if name.startswith("encoder."):
            p.requires_grad_(False)
    norms = [m for m in model.encoder.modules() if isinstance(m, torch.nn.BatchNorm1d)]
    assert norms
    model.train()
    assert not any(m.training for m in norms) and model.task_projection.training
    before = [m.running_mean.clone() for m in norms]
    model(**random_batch())
    assert all(torch.equal(a, m.running_mean) for a, m in zip(before, norms))
    for p in model.encoder.parameters():
        p.requires_grad_(True)
    model.train()
    assert all(m.training for m in norms)  # not frozen: trains as before
