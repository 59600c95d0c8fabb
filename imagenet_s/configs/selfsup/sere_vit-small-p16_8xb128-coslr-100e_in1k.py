# SERE ViT-S/16, 100 epochs, 8 x 128 images (SERE's published ViT-S settings; see the base file): iBOT plus the
# spatial (teacher temperature 0.5) and channel (0.1) self-relation losses, alpha 0.2, beta 0.5, iBOT terms weighted
# (4 - alpha - beta) / 2; alignment grids 13 x 13 (global-global) and 6 x 6 (local-global).
_base_ = ['./_base_/ibot_vit-small-p16_multicrop_in1k.py']
model = dict(type='SERE', alpha=0.2, beta=0.5, spatial_temperature=0.5, channel_temperature=0.1,
             spatial_grid=(13, 6))
published = dict(source='SERE (TPAMI 2023): ImageNet-1k fine-tuning after 100 epochs of pre-training; ImageNet-S '
                        '919 semi-supervised fine-tuning of the released backbone (val / test mIoU, the segmentation '
                        'recipe vit-s16_sere-ssl_imagenet-s919)',
                 imagenet_finetune_top1=81.5, imagenet_s919_semi_miou_val_test=(41.0, 40.2))
