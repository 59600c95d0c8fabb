# MTE on MoCo v3 ViT-S/16: the published MoCo v3 recipe plus 3 auxiliary [CLS] tokens and 2 adaptively pooled
# tokens, each trained with MoCo v3's loss, distilled into the global token (lambda 1). Meant to show: MTE's gain
# over mocov3_vit-small-* at a small training cost and no inference cost (the export is a plain ViT-S/16).
_base_ = ['./mocov3_vit-small-p16_16xb256-amp-coslr-300e_in1k.py']
custom_imports = dict(imports=['imagenet_s.selfsup.mte'], allow_failed_imports=False)

model = dict(type='MTEMoCoV3', mte=dict(num_aux_cls=3, num_pooled=2, aux_weight=1.0, distill_weight=1.0))
published = dict(source='none: MTE published no code or recipe; this is our design (docs/selfsup.md)',
                 imagenet_finetune_top1=None)
