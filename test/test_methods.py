"""Disentangling methods: partial sharing, task-routed experts, PCGrad/CAGrad, orthogonal subspaces."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
import torch

from l2dual_helpers import parse_args, random_batch, tiny_config

from espnet_l2dual.inference.speech2dualtext import Speech2DualText
from espnet_l2dual.models.ortho import cross_covariance_penalty, linear_cka, valid_frames
from espnet_l2dual.models.task_encoder import TaskRoutedFeedForward
from espnet_l2dual.tasks.l2dual import L2DualTask
from espnet_l2dual.train import grad_surgery as gs
from espnet_l2dual.methods.cagrad import CAGrad, cagrad
from espnet_l2dual.methods.pcgrad import PCGrad, pcgrad
from espnet_l2dual.tasks import l2dual
from espnet_l2dual.tasks.l2dual import build_surgery
from espnet_l2dual.train.trainer import GradSurgeryTrainer, L2DualTrainer
from espnet_l2dual.utils.config_file import load_config, write_resolved

MTL = ["surface", "meaning"]
BLOCKS = 3
RECIPES = Path(__file__).resolve().parents[1] / "egs2"


METHOD_CHOICES = ("encoder_sharing", "task_projection", "decoder_coupling")
PARTIAL = {"encoder_sharing": "partial", "encoder_sharing_conf": {"shared_layers": 1}}
EXPERTS = {"encoder_sharing": "experts", "encoder_sharing_conf": {"encoder_blocks": [1, 2]}}
ORTHO = {"task_projection": "ortho", "task_projection_conf": {"output_size": 8, "penalty_weight": 2.0}}
DUAL = {"decoder_coupling": "dual_attention", "decoder_coupling_conf": {"attention_heads": 2}}


def config(tasks=MTL, **options):
    """The tiny config; method choices (``encoder_sharing`` ...) go top level, the rest into model_conf."""
    top = {k: v for k, v in options.items() if k.split("_conf")[0] in METHOD_CHOICES}
    cfg = tiny_config(list(tasks), **{k: v for k, v in options.items() if k not in top})
    cfg["encoder_conf"]["num_blocks"] = BLOCKS
    cfg.update(top)
    return cfg


def build(tmp_path, seed=0, extra=None, **options):
    torch.manual_seed(seed)
    return L2DualTask.build_model(parse_args(tmp_path, config(**options), extra))


def loss_of(model, seed=1):
    torch.manual_seed(seed)
    loss, stats, _ = model(**random_batch())
    return loss, stats


def train_one_step(model, step=None):
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    model.train()
    loss, stats, _ = (step or model)(**random_batch())
    assert torch.isfinite(loss).all()
    opt.zero_grad()
    loss.sum().backward()
    unused = [n for n, p in model.named_parameters() if p.requires_grad and p.grad is None]
    assert unused == []
    opt.step()
    changed = [n for n, p in model.named_parameters() if not torch.equal(p, before[n])]
    assert len(changed) == len(before)
    return stats


# ---------------------------------------------------------------- partial sharing

def test_partial_builds_branches_and_trains(tmp_path):
    model = build(tmp_path, **PARTIAL)
    assert len(model.encoder.encoders) == 1 and model.task_split == 1
    assert list(model.encoder_sharing.branches) == MTL and all(len(b) == 2 for b in model.encoder_sharing.branches.values())
    s, m = (model.encoder_sharing.branches[o].state_dict() for o in MTL)
    assert all(torch.equal(s[k], m[k]) for k in s)  # identical start
    assert len(model.task_encoder_blocks("meaning")) == BLOCKS
    train_one_step(model)
    s, m = (model.encoder_sharing.branches[o].state_dict() for o in MTL)
    assert not all(torch.equal(s[k], m[k]) for k in s if k.endswith("weight"))  # then they diverge


def test_partial_with_all_layers_shared_is_refused(tmp_path):
    with pytest.raises(ValueError, match="use no encoder_sharing"):
        build(tmp_path, encoder_sharing="partial", encoder_sharing_conf={"shared_layers": BLOCKS})


def test_no_method_chosen_is_plain_mtl(tmp_path):
    plain, off = build(tmp_path), build(tmp_path, encoder_sharing=None, task_projection=None,
                                        decoder_coupling=None)
    assert all(getattr(off, c) is None for c in METHOD_CHOICES) and off.task_split is None
    ps, fs = plain.state_dict(), off.state_dict()
    assert list(ps) == list(fs) and all(torch.equal(ps[k], fs[k]) for k in ps)
    plain.train(), off.train()
    assert torch.equal(loss_of(plain)[0], loss_of(off)[0])


def _copy_mtl_weights(mtl, model, rename):
    with torch.no_grad():  # a non-trivial final norm, so that skipping it would show
        mtl.encoder.after_norm.weight.uniform_(0.5, 1.5)
        mtl.encoder.after_norm.bias.normal_()
    src = mtl.state_dict()
    model.load_state_dict({k: src[rename(k)] for k in model.state_dict()})


def test_partial_split_forward_matches_the_encoder_forward(tmp_path):
    """Branches loaded with the MTL weights give the MTL loss: the split forward is exact."""
    mtl, part = build(tmp_path), build(tmp_path, seed=5, **PARTIAL)

    def rename(k):
        if k.startswith("encoder_sharing.branches."):
            _, _, _, i, rest = k.split(".", 4)
            return f"encoder.encoders.{int(i) + 1}.{rest}"
        return k

    _copy_mtl_weights(mtl, part, rename)
    mtl.eval(), part.eval()
    with torch.no_grad():
        a, b = loss_of(mtl)[0], loss_of(part)[0]
    assert torch.allclose(a, b, rtol=1e-5, atol=1e-5)
    batch = random_batch()
    encs = part.encode_all(batch["speech"], batch["speech_lengths"])
    ref = mtl.encode(batch["speech"], batch["speech_lengths"])
    for o in MTL:
        assert torch.allclose(encs[o][0], ref[0], atol=1e-5) and torch.equal(encs[o][1], ref[1])


def test_encode_raises_for_branched_models_and_is_shared_for_plain(tmp_path):
    batch = random_batch()
    with pytest.raises(ValueError, match="encode_all"):
        build(tmp_path, **PARTIAL).encode(batch["speech"], batch["speech_lengths"])
    plain = build(tmp_path).eval()
    encs = plain.encode_all(batch["speech"], batch["speech_lengths"])
    assert encs["surface"][0] is encs["meaning"][0]


@pytest.mark.parametrize("conf,match", [
    ({"encoder_sharing": "partial", "encoder_sharing_conf": {"shared_layers": BLOCKS + 1}}, "shared_layers"),
    ({"encoder_sharing": "experts", "encoder_sharing_conf": {"encoder_blocks": [BLOCKS]}}, "encoder_blocks"),
    ({"encoder_sharing": "experts", "encoder_sharing_conf": {"encoder_blocks": [1], "decoder": True}},
     r"encoder_sharing_conf: unknown key\(s\) \['decoder'\] for encoder_sharing: experts"),
    ({"task_projection": "ortho", "task_projection_conf": {"penalty": "nope"}}, "penalty"),
    ({"task_projection": "ortho", "task_projection_conf": {"penalty_weight": -1}}, "penalty_weight"),
    # the model_conf keys of the methods before they became components say where they went
    ({"shared_layers": 1}, "model_conf.shared_layers is no longer a model option: use encoder_sharing: partial"),
    ({"dual_attention": True}, "use decoder_coupling: dual_attention"),
])
def test_bad_method_options_fail_clearly(tmp_path, conf, match):
    with pytest.raises(ValueError, match=match):
        build(tmp_path, **conf)


def test_init_keeps_task_copies_identical(tmp_path):
    model = build(tmp_path, extra=["--init", "xavier_uniform"], **PARTIAL)
    s, m = (model.encoder_sharing.branches[o].state_dict() for o in MTL)
    assert all(torch.equal(s[k], m[k]) for k in s)


# ---------------------------------------------------------------- task-routed experts

def test_moe_builds_one_expert_per_task_and_trains(tmp_path):
    model = build(tmp_path, **EXPERTS)
    assert model.task_split == 1 and model.encoder_sharing.expert_blocks == [1, 2]
    for i in (1, 2):
        layer = model.encoder.encoders[i]
        assert isinstance(layer.feed_forward, TaskRoutedFeedForward)
        assert list(layer.feed_forward.experts) == MTL
    assert not isinstance(model.encoder.encoders[0].feed_forward, TaskRoutedFeedForward)
    train_one_step(model)
    assert all(r.task is None for r in model.encoder_sharing._routers)  # routing reset after the pass


def test_moe_with_mtl_weights_in_every_expert_gives_the_mtl_loss(tmp_path):
    mtl, moe = build(tmp_path), build(tmp_path, seed=7, **EXPERTS)
    _copy_mtl_weights(mtl, moe, lambda k: k.replace(".experts.surface", "").replace(".experts.meaning", ""))
    mtl.eval(), moe.eval()
    with torch.no_grad():
        assert torch.allclose(loss_of(mtl)[0], loss_of(moe)[0], rtol=1e-5, atol=1e-5)


# ---------------------------------------------------------------- orthogonal subspaces

def test_ortho_projects_per_task_penalises_and_trains(tmp_path):
    model = build(tmp_path, **ORTHO)
    assert model.ctcs["surface"].ctc_lo.in_features == 8
    model.eval()
    with torch.no_grad():
        loss, stats = loss_of(model)
    parts = sum(stats[f"loss_{o}"] for o in MTL) + 2.0 * stats["ortho_penalty"]
    assert 0.0 < stats["ortho_penalty"].item() <= 1.0
    assert loss.item() == pytest.approx(parts.item(), rel=1e-5)
    stats = train_one_step(model)
    assert "ortho_penalty" in stats


def test_ortho_without_penalty_only_projects(tmp_path):
    model = build(tmp_path, task_projection="ortho", task_projection_conf={"output_size": 8})
    model.eval()
    with torch.no_grad():
        loss, stats = loss_of(model)
    assert "ortho_penalty" not in stats
    assert loss.item() == pytest.approx(sum(stats[f"loss_{o}"] for o in MTL).item(), rel=1e-5)


def test_subspace_penalties_on_known_representations():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(500, 6, generator=g)
    assert linear_cka(x, 3.0 * x).item() == pytest.approx(1.0, abs=1e-5)
    # disjoint coordinates of independent noise: nearly unrelated
    assert linear_cka(x[:, :3], x[:, 3:]).item() < 0.05
    a = torch.tensor([[1.0, 0.0], [-1.0, 0.0], [0.0, 0.0]])
    b = torch.tensor([[0.0, 0.0], [0.0, 0.0], [0.0, 2.0]])
    assert cross_covariance_penalty(a, b).item() == pytest.approx(0.0)
    # cov([1,-1,0],[1,-1,0]) = 1 -> penalty 1
    assert cross_covariance_penalty(a[:, :1], a[:, :1]).item() == pytest.approx(1.0)
    frames = valid_frames(torch.arange(12.0).view(2, 3, 2), torch.tensor([3, 1]))
    assert frames.tolist() == [[0, 1], [2, 3], [4, 5], [6, 7]]


# ---------------------------------------------------------------- gradient surgery: the rules

def v(*xs):
    return torch.tensor(xs, dtype=torch.float64)


def test_pcgrad_projects_conflicting_pairs_onto_each_others_normal_plane():
    # g1' = g1 - (g1.g2/|g2|^2) g2 = (1,0) + 1/2 (-1,1) = (.5,.5); g2' = g2 + (1,0) = (0,1)
    assert torch.allclose(pcgrad([v(1, 0), v(-1, 1)]), v(0.5, 1.5))
    assert torch.allclose(pcgrad([v(1, 0), v(1, 1)]), v(2, 1))  # no conflict: plain sum


def test_cagrad_matches_the_published_rule_on_toy_problems():
    # g0 = (0, .5), sqrt(phi) = .5*.5 = .25; F(x) = .5(1-x) + .25 sqrt(5x^2-6x+2) is minimal at x = 1
    # -> g_w = g1, d = g0 + .25 g1 = (.25, .5)
    assert torch.allclose(cagrad([v(1, 0), v(-1, 1)], c=0.5), v(0.25, 0.5), atol=1e-6)
    # orthogonal unit vectors: w = (.5,.5), g_w = g0, d = (1 + c) g0
    assert torch.allclose(cagrad([v(1, 0), v(0, 1)], c=0.5), v(0.75, 0.75), atol=1e-6)
    assert torch.allclose(cagrad([v(1, 0), v(-1, 1)], c=0.0), v(0, 0.5))  # c = 0: the average
    # on the scale of the summed MTL gradient
    assert torch.allclose(CAGrad(0.5).direction([v(1, 0), v(-1, 1)]), v(0.5, 1.0), atol=1e-6)


def test_layer_selection_picks_the_most_conflicting_layers():
    cos = {"block0": 0.5, "block1": -0.9, "block2": -0.1, "block3": -0.5}
    assert gs.select_conflicting(cos, 2) == ["block1", "block3"]
    assert gs.select_conflicting(cos, 10) == ["block1", "block3", "block2"]  # never a layer that agrees
    g1 = {"block0": v(1, 0), "block1": v(1, 0), "block2": v(1, 0)}
    g2 = {"block0": v(1, 1), "block1": v(-1, 1), "block2": v(-1, 3)}  # cos: +, -0.707, -0.316
    combined, cosines, used = gs.combine_task_gradients([g1, g2], PCGrad(layers_topk=1))
    assert used == ["block1"] and cosines["block1"] == pytest.approx(-2 ** -0.5)
    assert torch.allclose(combined["block1"], v(0.5, 1.5))
    assert torch.allclose(combined["block2"], v(0, 3)) and torch.allclose(combined["block0"], v(2, 1))
    assert gs.select_conflicting({"block0": None, "block1": -0.2}, 2) == ["block1"]  # undefined: never picked


# ---------------------------------------------------------------- gradient surgery: the training step

def _grads(model):
    return {n: p.grad.detach().clone() for n, p in model.named_parameters() if p.grad is not None}


@pytest.mark.parametrize("method", ["pcgrad", "cagrad"])
def test_surgery_step_trains_and_changes_only_shared_gradients(tmp_path, method):
    model = build(tmp_path)
    model.train()
    torch.manual_seed(1)
    plain_loss, _, _ = model(**random_batch())
    plain_loss.sum().backward()
    plain = _grads(model)
    model.zero_grad()
    step = gs.GradSurgeryStep(model, build_surgery(method, {})).train()
    torch.manual_seed(1)
    loss, stats, _ = step(**random_batch())
    assert loss.item() == pytest.approx(plain_loss.item(), rel=1e-6)  # same value
    loss.sum().backward()
    surg = _grads(model)
    for name, g in plain.items():
        if not model.is_shared_parameter(name):
            assert torch.allclose(surg[name], g, atol=1e-6), name
    assert any(not torch.allclose(surg[n], plain[n]) for n in plain if model.is_shared_parameter(n))
    assert {"gcos_all", "gcos_embed", "gcos_block0", "gcos_block2"} <= set(stats)
    assert -1.0 <= stats["gcos_block0"].item() <= 1.0
    model.zero_grad()
    train_one_step(model, step)


def test_cagrad_with_c_zero_is_plain_mtl(tmp_path):
    model = build(tmp_path).train()
    torch.manual_seed(1)
    model(**random_batch())[0].sum().backward()
    plain = _grads(model)
    model.zero_grad()
    torch.manual_seed(1)
    gs.GradSurgeryStep(model, CAGrad(cagrad_c=0.0)).train()(**random_batch())[0].sum().backward()
    for name, g in _grads(model).items():
        assert torch.allclose(g, plain[name], atol=1e-5, rtol=1e-4), name


def test_grad_surgery_is_a_trainer_option_and_logs_cosines(tmp_path):
    from espnet2.train.distributed_utils import DistributedOption
    from espnet2.train.reporter import Reporter

    args = parse_args(tmp_path, config(), ["--grad_surgery", "pcgrad", "--grad_surgery_conf", "layers_topk=2",
                                           "--output_dir", str(tmp_path / "exp")])
    assert L2DualTask.trainer is L2DualTrainer
    options = L2DualTask.trainer.build_options(args)
    assert options.grad_surgery == "pcgrad" and options.grad_surgery_conf["layers_topk"] == 2
    assert L2DualTask.trainer.build_options(parse_args(tmp_path, config())).grad_surgery is None
    model = L2DualTask.build_model(args)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    reporter = Reporter()
    reporter.set_epoch(1)
    batch = random_batch()
    with reporter.observe("train") as sub:
        GradSurgeryTrainer.train_one_epoch(
            model=model, iterator=[(["a", "b", "c"], batch)], optimizers=[opt], schedulers=[None],
            scaler=None, reporter=sub, summary_writer=None, options=options,
            distributed_option=DistributedOption(),
        )
    keys = reporter.get_keys2("train")
    assert "gcos_block0" in keys and "gsurgery_layers" in keys
    assert reporter.get_value("train", "gsurgery_layers") <= 2


def test_method_choices_are_registered_by_the_task_and_surgery_sits_among_training_options():
    assert L2DualTrainer.grad_surgery_choices is l2dual.grad_surgery_choices
    assert set(l2dual.grad_surgery_choices.classes) == {"pcgrad", "cagrad"}
    keys = list(L2DualTask.get_default_config())
    assert keys.index("grad_surgery") < keys.index("surface_token_list")  # the trainer's options, then the task's


def test_bad_surgery_conf_fails_clearly():
    with pytest.raises(ValueError, match=r"grad_surgery_conf: unknown key\(s\) \['topk'\] for grad_surgery: pcgrad"):
        build_surgery("pcgrad", {"topk": 1})
    with pytest.raises(ValueError, match="layers_topk"):
        build_surgery("cagrad", {"layers_topk": 0})
    with pytest.raises(ValueError, match="cagrad_c"):
        build_surgery("cagrad", {"cagrad_c": -1})


# ---------------------------------------------------------------- dual attention between decoders


def uneven_batch():
    """Meaning targets shorter than surface ones, so the <eos> padding is exercised."""
    batch = random_batch()
    batch["text_meaning"][0, 2:] = -1
    batch["text_meaning_lengths"] = torch.tensor([2, 3, 2])
    return batch


def test_dual_attention_builds_trains_and_links_the_decoders(tmp_path):
    model = build(tmp_path, **DUAL)
    assert set(model.decoder_coupling.attn) == set(MTL) and len(model.decoder_coupling.attn["surface"]) == 1
    train_one_step(model)
    model.train()
    loss, stats, _ = model(**uneven_batch())
    assert torch.isfinite(loss) and 0.0 <= stats["acc_meaning"] <= 1.0


def test_dual_attention_is_causal_across_decoders(tmp_path):
    """Surface position t reads meaning positions 0..t only (both advance one token a step)."""
    model = build(tmp_path, **DUAL).eval()
    speech = random_batch()["speech"][:1]
    with torch.no_grad():
        encs = model.encode_all(speech, torch.tensor([speech.size(1)]))
        ys = {"surface": torch.tensor([[7, 3, 4, 5]]), "meaning": torch.tensor([[7, 2, 3, 4]])}
        ys = {o: torch.full_like(y, model.sos[o]).index_copy(1, torch.arange(1, 4), y[:, 1:])
              for o, y in ys.items()}
        a = model.decoder_coupling(model.decoders, encs, ys)["surface"]
        changed = dict(ys, meaning=ys["meaning"].clone())
        changed["meaning"][0, 2] = 5
        b = model.decoder_coupling(model.decoders, encs, changed)["surface"]
    assert torch.equal(a[:, :2], b[:, :2])
    assert not torch.allclose(a[:, 2:], b[:, 2:])


def test_dual_attention_with_silenced_cross_attention_is_two_plain_decoders(tmp_path):
    """Zero cross-attention output: the joint model's losses are plain MTL's losses."""
    plain = build(tmp_path)
    dual = build(tmp_path, **DUAL)
    dual.load_state_dict(plain.state_dict(), strict=False)
    with torch.no_grad():
        for attn in dual.decoder_coupling.attn.values():
            for mha in attn:
                mha.linear_out.weight.zero_(), mha.linear_out.bias.zero_()
    plain.eval(), dual.eval()
    batch = uneven_batch()
    with torch.no_grad():
        _, s_plain, _ = plain(**batch)
        _, s_dual, _ = dual(**batch)
    for o in MTL:
        assert s_dual[f"loss_att_{o}"].item() == pytest.approx(s_plain[f"loss_att_{o}"].item(), rel=1e-5)


def _greedy(model, o, enc):
    ys = [model.sos[o]]
    for _ in range(enc.size(0)):
        logits, _ = model.decoders[o](enc[None], torch.tensor([enc.size(0)]), torch.tensor([ys]),
                                      torch.tensor([len(ys)]))
        ys.append(int(logits[0, -1].argmax()))
        if ys[-1] == model.eos[o]:
            break
    return [i for i in ys[1:] if i not in (model.sos[o], model.eos[o], model.blank_id[o])]


def test_joint_beam_search_decodes_both_outputs(tmp_path):
    model = build(tmp_path, **DUAL)
    args = parse_args(tmp_path, config(**DUAL))
    speech = random_batch()["speech"][0]
    s2t = Speech2DualText.from_model(model, args, beam_size=3, ctc_weight=0.3, nbest=2)
    out = s2t(speech)
    assert set(out) == set(MTL) and all(len(out[o]) == 2 for o in MTL)
    assert out["surface"][0][2] >= out["surface"][1][2]  # joint score, best first
    assert s2t(speech) == out
    with pytest.raises(ValueError, match="overrides"):
        Speech2DualText.from_model(model, args, output_overrides={"surface": {"beam_size": 2}})
    # with the cross-attention silenced, beam 1 without CTC is each decoder's own greedy path
    with torch.no_grad():
        for attn in model.decoder_coupling.attn.values():
            for mha in attn:
                mha.linear_out.weight.zero_(), mha.linear_out.bias.zero_()
    greedy = Speech2DualText.from_model(model, args, beam_size=1, ctc_weight=0.0)(speech)
    with torch.no_grad():
        encs = model.encode_all(speech[None], torch.tensor([speech.numel()]))
    for o in MTL:
        enc, lens = encs[o]
        expected = s2t.converters[o].ids2tokens(_greedy(model, o, enc[0, : int(lens[0])]))
        assert greedy[o][0][1] == expected


def test_dual_attention_step_with_its_cache_equals_the_full_forward(tmp_path):
    """The joint search's incremental step gives forward()'s last position at every length,
    also after the beam reorders its rows (the cache is gathered by parent row)."""
    model = build(tmp_path, **DUAL).eval()
    speech = random_batch()["speech"][:2]
    with torch.no_grad():
        encs = model.encode_all(speech, torch.tensor([speech.size(1)] * 2))
        mem = {o: (encs[o][0][:1].expand(3, -1, -1), encs[o][1][:1].expand(3)) for o in MTL}
        g = torch.Generator().manual_seed(0)
        ys = {o: torch.randint(1, 5, (3, 6), generator=g) for o in MTL}
        for o in MTL:
            ys[o][:, 0] = model.sos[o]
        cache, order = None, torch.tensor([0, 1, 2])
        for t in range(1, 7):
            if cache is not None:  # a beam step that keeps rows 2, 0, 0 of the previous step
                order = order[torch.tensor([2, 0, 0])]
                cache = {o: [(h[torch.tensor([2, 0, 0])], x[torch.tensor([2, 0, 0])]) for h, x in layers]
                         for o, layers in cache.items()}
            prefix = {o: ys[o][order, :t] for o in MTL}
            step, cache = model.decoder_coupling.step(model.decoders, mem, prefix, cache)
            full = model.decoder_coupling(model.decoders, mem, prefix)
            for o in MTL:
                assert torch.allclose(step[o], torch.log_softmax(full[o][:, -1], dim=-1), atol=1e-5), (t, o)


def test_dual_attention_needs_both_decoders(tmp_path):
    with pytest.raises(ValueError, match="dual_attention needs both outputs"):
        torch.manual_seed(0)
        L2DualTask.build_model(parse_args(tmp_path, config(["surface"], decoder_coupling="dual_attention")))


# ---------------------------------------------------------------- stage-10 hidden states per task path


def _states(model, n_utts=2):
    from espnet_l2dual.analysis.layer_states import collect
    from espnet_l2dual.analysis.utterances import Utterance

    g = torch.Generator().manual_seed(0)
    utts = [Utterance(f"u{i}", torch.randn(4000 + 800 * i, generator=g).numpy(), {"surface": "", "meaning": ""})
            for i in range(n_utts)]
    ids = {"surface": np.array([3, 4, 5]), "meaning": np.array([2, 3])}
    preprocess = lambda _uid, data: {**data, **{f"text_{o}": v for o, v in ids.items()}}  # noqa: E731
    return collect(model, preprocess, utts, max_frames=40, seed=0)


@pytest.mark.parametrize("conf", [PARTIAL, {"encoder_sharing": "experts", "encoder_sharing_conf": {"encoder_blocks": [2]}}])
def test_hidden_states_follow_each_outputs_encoder_path(tmp_path, conf):
    model = build(tmp_path, **conf)
    with torch.no_grad():  # make the task-specific parts differ, as training would
        for name, p in model.named_parameters():
            if "branches.meaning" in name or "experts.meaning" in name:
                p.add_(torch.randn_like(p))
    states = _states(model)
    split = model.task_split
    assert sorted(k for k in states if k.startswith("enc.surface.")) == [f"enc.surface.{i}" for i in range(BLOCKS)]
    for i in range(BLOCKS):
        same = np.array_equal(states[f"enc.surface.{i}"], states[f"enc.meaning.{i}"])
        assert same == (i < split), i
    assert np.array_equal(states["enc.0"], states["enc.surface.0"])


def test_hidden_states_of_a_dual_attention_model_run_both_decoders_together(tmp_path, monkeypatch):
    model = build(tmp_path, **DUAL)
    calls = []
    real = model.decoder_coupling.forward
    monkeypatch.setattr(model.decoder_coupling, "forward", lambda *a: calls.append(1) or real(*a))
    states = _states(model, n_utts=2)
    assert len(calls) == 2  # once per utterance, both decoders
    assert "enc.surface.0" not in states  # one shared encoder path
    assert states["dec.surface.0"].shape[0] > 0 and states["ctxmean.meaning.0"].shape[0] == 2
    # the row index CKA aligns and resamples by: rows kept per utterance, of each sequence's length
    for kind, layer in (("enc", "enc.0"), ("dec.surface", "dec.surface.0"), ("dec.meaning", "dec.meaning.0")):
        rows = states[f"index.rows.{kind}"]
        assert rows.shape == (1, 2) and rows.sum() == states[layer].shape[0]
    assert states["index.len.dec.surface"].tolist() == [[4.0, 4.0]]  # <sos> + 3 tokens, teacher-forced


# ---------------------------------------------------------------- inference and configs

def test_speech2dualtext_decodes_a_partial_sharing_model(tmp_path, monkeypatch):
    model = build(tmp_path, **PARTIAL)
    args = parse_args(tmp_path, config(**PARTIAL))
    s2t = Speech2DualText.from_model(model, args, beam_size=2, maxlenratio=0.3)
    calls = []
    real = model.encode_all
    monkeypatch.setattr(model, "encode_all", lambda *a: calls.append(1) or real(*a))
    speech = random_batch()["speech"][0]
    out = s2t(speech)
    assert calls == [1] and set(out) == set(MTL)
    # each output reads its own branch: changing the meaning branch leaves surface alone
    with torch.no_grad():
        for p in model.encoder_sharing.branches["meaning"].parameters():
            p.add_(torch.randn_like(p))
    again = s2t(speech)
    assert again["surface"] == out["surface"]
    assert again["meaning"][0][2] != out["meaning"][0][2]


# the choice each method config makes (and nothing else differs from MTL but its *_conf)
METHOD_KEYS = {
    "partial": ("encoder_sharing", "partial"),
    "moe": ("encoder_sharing", "experts"),
    "ortho": ("task_projection", "ortho"),
    "dual_attention": ("decoder_coupling", "dual_attention"),
    "pcgrad": ("grad_surgery", "pcgrad"),
    "cagrad": ("grad_surgery", "cagrad"),
}


@pytest.mark.parametrize("lang", ["l2ko", "l2en"])
@pytest.mark.parametrize("suffix", ["_tiny", ""])
@pytest.mark.parametrize("method", sorted(METHOD_KEYS))
def test_method_configs_differ_from_mtl_only_in_their_keys(tmp_path, lang, suffix, method):
    tuning = RECIPES / lang / "asr1" / "conf" / "tuning"
    mtl = load_config(tuning / f"train_mtl{suffix}.yaml")
    conf = load_config(tuning / f"train_{method}{suffix}.yaml")
    choice, name = METHOD_KEYS[method]
    assert conf.pop(choice) == name
    method_conf = conf.pop(f"{choice}_conf", None)
    if method == "ortho":
        assert method_conf["output_size"] == conf["encoder_conf"]["output_size"]
        assert method_conf["penalty"] == "cka"
    assert conf == mtl
    parser = L2DualTask.get_parser()
    config = write_resolved(tuning / f"train_{method}{suffix}.yaml", tmp_path / "resolved.yaml")
    parser.parse_args(["--config", str(config)])  # every key is known


def test_tiny_method_configs_build(tmp_path):
    tuning = RECIPES / "l2en" / "asr1" / "conf" / "tuning"
    for method in sorted(METHOD_KEYS):
        cfg = load_config(tuning / f"train_{method}_tiny.yaml")
        cfg["normalize"] = "utterance_mvn"
        cfg["encoder_conf"].update(output_size=16, linear_units=16, attention_heads=2)
        if cfg.get("task_projection") == "ortho":
            cfg["task_projection_conf"]["output_size"] = 16
        for o in MTL:
            cfg[f"{o}_decoder_conf"].update(linear_units=16, attention_heads=2, num_blocks=1)
        model = L2DualTask.build_model(parse_args(tmp_path, copy.deepcopy(cfg)))
        assert model.tasks == MTL
        if method == "partial":
            assert model.task_split == 2
        if method == "moe":
            assert model.encoder_sharing.expert_blocks == [2, 3]
        choice, name = METHOD_KEYS[method]
        if choice != "grad_surgery":
            assert type(getattr(model, choice)).__name__ in ("PartialSharing", "TaskExperts", "OrthoProjection",
                                                             "DualAttention")


def test_readme_method_example(tmp_path, monkeypatch):
    """The 'Adding a method' example of docs/configs-and-methods.md: its module, registration and config work."""
    import re
    import types

    import yaml

    from espnet_l2dual.tasks import l2dual

    readme = (RECIPES.parent / "docs" / "configs-and-methods.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Adding a method"):]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    conf = yaml.safe_load(re.search(r"```yaml\n(.*?)```", section, re.S).group(1))
    module = types.ModuleType("gated_projection")
    exec(compile(code, "configs-and-methods.md", "exec"), module.__dict__)
    monkeypatch.setitem(l2dual.task_projection_choices.classes, "gated", module.GatedProjection)
    conf.pop("base")
    model = build(tmp_path, **conf)
    assert set(model.task_projection.gates) == set(MTL)
    stats = train_one_step(model)
    assert torch.isfinite(stats["loss"])
