# MTE on MoCo v3 ViT-B/16 (as the ViT-S/16 recipe, on mocov3_vit-base-*). Meant to show: the same gain at base size,
# with the export a plain ViT-B/16.
_base_ = ['./mocov3_vit-base-p16_16xb256-amp-coslr-300e_in1k.py']
custom_imports = dict(imports=['imagenet_s.selfsup.mte'], allow_failed_imports=False)

model = dict(type='MTEMoCoV3', mte=dict(num_aux_cls=3, num_pooled=2, aux_weight=1.0, distill_weight=1.0))
published = dict(source='none: MTE published no code or recipe; this is our design (docs/selfsup.md)',
                 imagenet_finetune_top1=None)
