# MTE on iBOT ViT-S/16, 100 epochs: the iBOT recipe (ibot_vit-small-*: SERE's / iBOT's published ViT-S settings,
# 2 global + 10 local views, block masks) plus 3 auxiliary [CLS] tokens and 2 adaptively pooled tokens, each trained
# with iBOT's [CLS] term against the teacher's global token, distilled into the global token (lambda 1). Meant to
# show: MTE's gain over the iBOT base at a small training cost and no inference cost (the export is a plain
# ViT-S/16). The control run is the iBOT recipe itself, or this one with
# --cfg-options model.mte.num_aux_cls=0 model.mte.num_pooled=0 (which computes exactly iBOT; tested).
_base_ = ['./ibot_vit-small-p16_8xb128-coslr-100e_in1k.py']
custom_imports = dict(imports=['imagenet_s.selfsup.ibot', 'imagenet_s.selfsup.mte'], allow_failed_imports=False)

model = dict(type='MTEIBOT', mte=dict(num_aux_cls=3, num_pooled=2, aux_weight=1.0, distill_weight=1.0))
published = dict(_delete_=True, source='none: MTE published no code or recipe; this is our design (docs/selfsup.md)',
                 imagenet_finetune_top1=None)
