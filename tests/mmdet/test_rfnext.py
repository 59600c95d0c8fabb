"""RF-Next in one process: search with the branch weights trained, then the searched structure reloaded in fixed
single-branch mode (which mmcv's hook alone cannot do without DDP)."""
import json

import pytest
from mmdet_data import tiny_config
from train_extra import require_train_extra

from aodraw.mmdet.rfnext import normalise_structure

SEARCH = "cascade-rcnn_r50-rfnext-search_fpn_1x_aodraw-srgb"
FIXED = "cascade-rcnn_r50-rfnext-fixed_fpn_1x_aodraw-srgb"


def test_normalise_structure_accepts_both_spellings():
    assert normalise_structure({"backbone.layer1.0.conv2": [1, 2], "module.neck.fpn_convs.0.conv": 3}) == {
        "module.backbone.layer1.0.conv2": [1, 2], "module.neck.fpn_convs.0.conv": 3}


def _hook(structure=None, mode="search"):
    search = dict(step=0, max_step=3, search_interval=1, exp_rate=0.5, init_alphas=0.01, mmin=1, mmax=4,
                  num_branches=2, skip_layer=["roi_head", "rpn_head", "neck"])
    return [dict(type="RFSearchHook", mode=mode, rfstructure_file=structure, by_epoch=False, verbose=False,
                 config=dict(search=search))]


def _runner(config, work):
    from mmengine.config import Config

    from aodraw.mmdet.launch import build_runner

    cfg = Config.fromfile(config)
    cfg.work_dir = str(work)
    return build_runner(cfg)


def test_search_then_fixed_reload_in_one_process(tiny_data, tmp_path):
    require_train_extra()
    from mmcv.cnn import RFSearchHook
    from mmcv.cnn.rfsearch import BaseConvRFSearchOp

    search = _runner(tiny_config(tmp_path, SEARCH, tiny_data, custom_hooks=_hook(),
                                 **{"train_cfg.max_epochs": 1, "train_cfg.val_interval": 5}), tmp_path / "search")
    wrapped = [name for name, m in search.model.named_modules() if isinstance(m, BaseConvRFSearchOp)]
    assert wrapped and all(name.startswith("backbone.") for name in wrapped)
    search.train()
    # the branch weights were in the optimizer: the model was wrapped before it was built
    optimised = {id(p) for group in search.optim_wrapper.optimizer.param_groups for p in group["params"]}
    branch = [p for n, p in search.model.named_parameters() if "branch_weights" in n]
    assert branch and all(id(p) in optimised for p in branch)
    saved = sorted((tmp_path / "search").glob("local_search_config_step*.json"))
    assert [p.name for p in saved] == ["local_search_config_step1.json", "local_search_config_step2.json"]
    structure = json.loads(saved[-1].read_text())["structure"]
    assert structure and not any(k.startswith("module.") for k in structure)  # saved without DDP

    fixed_cfg = tiny_config(tmp_path, FIXED, tiny_data, custom_hooks=_hook(str(saved[-1]), "fixed_single_branch"))
    fixed = _runner(fixed_cfg, tmp_path / "fixed")
    modules = dict(fixed.model.named_modules())
    for name, rates in structure.items():
        rates = [rates, rates] if isinstance(rates, int) else rates
        assert list(modules[name].dilation) == rates
        assert not isinstance(modules[name], BaseConvRFSearchOp)

    # mmcv's hook alone looks the names up with a "module." prefix and fails on this file
    plain = RFSearchHook(mode="fixed_single_branch", rfstructure_file=str(saved[-1]), verbose=False,
                         config=dict(search=_hook()[0]["config"]["search"]))
    with pytest.raises(KeyError):
        plain.init_model(fixed.model)
