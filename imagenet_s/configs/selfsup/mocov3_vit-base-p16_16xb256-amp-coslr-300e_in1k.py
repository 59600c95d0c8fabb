# MoCo v3 ViT-B/16, MMPretrain's published recipe (as the ViT-S/16 one with the base arch and a 768-wide neck input).
# Meant to show: the base of mte_mocov3_vit-base-*.
_base_ = ['./mocov3_vit-small-p16_16xb256-amp-coslr-300e_in1k.py']

model = dict(backbone=dict(arch='base'), neck=dict(in_channels=768))
