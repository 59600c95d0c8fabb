# ResNet-50 "D16": the last stage dilated (stride 1, dilation 2), logits at stride 16.
_base_ = ['./r50-d32.py']
model = dict(backbone=dict(strides=(1, 2, 2, 1), dilations=(1, 1, 1, 2)))
