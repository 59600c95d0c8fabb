# MTE on iBOT ViT-B/16, 100 epochs: the data, schedule and optimiser of the ViT-B self-distillation recipe
# (sere_vit-base-*: iBOT's published ViT-B settings as SERE uses them: lr 7.5e-4 per 256 images, 10 warm-up epochs,
# teacher temperature 0.04 -> 0.07 over 50 epochs, global views 0.32..1, local 0.05..0.32, block masks, fp16, last
# layer frozen for 3 epochs) with the iBOT model (no relation losses) plus MTE's 3 auxiliary [CLS] and 2 pooled
# tokens. Meant to show: MTE's gain at base size; the iBOT ViT-B control is this recipe with
# --cfg-options model.mte.num_aux_cls=0 model.mte.num_pooled=0 (exactly iBOT; tested).
_base_ = ['./sere_vit-base-p16_8xb128-amp-coslr-100e_in1k.py']
custom_imports = dict(imports=['imagenet_s.selfsup.ibot', 'imagenet_s.selfsup.mte'], allow_failed_imports=False)

model = dict(
    _delete_=True,
    type='MTEIBOT',
    mte=dict(num_aux_cls=3, num_pooled=2, aux_weight=1.0, distill_weight=1.0),
    data_preprocessor={{_base_.data_preprocessor}},
    backbone=dict(type='VisionTransformer', arch='base', img_size=224, patch_size=16, drop_path_rate=0.1,
                  out_type='cls_token'),
    head=dict(type='DINOProjectionHead', in_channels=768, out_channels=8192, hidden_channels=2048,
              bottleneck_channels=256, norm_last_layer=True),
    num_global_views=2, student_temperature=0.1, teacher_temperature=0.07, warmup_teacher_temperature=0.04,
    warmup_teacher_temperature_epochs=50, center_momentum=0.9, teacher_momentum=0.996,
    loss_weights=dict(cls=1.0, patch=1.0), freeze_last_layer_epochs=3)
published = dict(_delete_=True, source='none: MTE published no code or recipe; this is our design (docs/selfsup.md)',
                 imagenet_finetune_top1=None)
