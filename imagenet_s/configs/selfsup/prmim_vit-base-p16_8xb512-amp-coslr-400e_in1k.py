# PR-MIM: MAE ViT-B/16 whose decoder's transformer blocks reconstruct half of the masked tokens, chosen by furthest
# sampling on the patch grid; the thrown half is recovered in 2 stages by one light cross-attention layer over the
# 8 nearest decoded tokens, and every masked token enters the loss. Meant to show: MAE's quality (the seed: lossless
# at throw ratio 0.5 for ViT-B/16) at partial reconstruction's cost (the seed: 28% fewer FLOPs, 36% less memory).
_base_ = ['./mae_vit-base-p16_8xb512-amp-coslr-400e_in1k.py']

model = dict(
    type='PRMIM',
    neck=dict(type='PRMIMDecoder', throw_ratio=0.5, sampling='furthest',
              progressive=dict(num_stages=2, num_neighbours=8, num_heads=16, mlp_ratio=1.0)))
