# Partial reconstruction: MAE ViT-B/16 whose decoder reconstructs a random half of the masked tokens and throws the
# rest (they leave the loss). Meant to show: the cost saving and the quality loss PR-MIM starts from (same settings
# as the MAE baseline; only the decoder differs).
_base_ = ['./mae_vit-base-p16_8xb512-amp-coslr-400e_in1k.py']

model = dict(
    type='PRMIM',
    neck=dict(type='PRMIMDecoder', throw_ratio=0.5, sampling='random', progressive=None))
