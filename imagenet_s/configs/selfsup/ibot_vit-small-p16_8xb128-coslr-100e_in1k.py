# iBOT ViT-S/16, 100 epochs: the control run of the SERE ViT-S recipe (same data, schedule and heads; no relation
# losses). Settings: _base_/ibot_vit-small-p16_multicrop_in1k.py.
_base_ = ['./_base_/ibot_vit-small-p16_multicrop_in1k.py']
published = dict(
    source='none for this exact schedule: the iBOT paper reports 800-epoch and longer ViT-S/16 runs; this recipe is '
           'the 100-epoch control SERE improves on (SERE paper, ImageNet-1k fine-tuning)',
    imagenet_finetune_top1=None)
