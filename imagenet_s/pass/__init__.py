"""PASS, the LUSS paper's baseline (``LUSSeg/PASS``), as library stages over PyTorch (imported only here).

Stages (each resumable, each reading the previous stage's files under one work folder):
``pretrain`` (pixel-to-pixel alignment, SwAV prototypes) -> ``pixel_attention`` (foreground attention head) ->
``cluster`` (k-means of image embeddings) -> ``pseudo_label`` (nearest centroid per pixel, attention gate) ->
``imagenet-s sweep`` (evaluator side) -> ``finetune`` / ``infer`` (MMSegmentation configs run by the ImageNet-S
plug-in: ``imagenet-s pass finetune|infer``, configs ``imagenet_s/configs/pass/finetune_*.py``); ``distance_match``
for the distance-matching protocol. ``pass`` is a Python keyword: import the modules with
``importlib.import_module("imagenet_s.pass.X")``.
"""
