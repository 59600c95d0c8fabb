# ViT-B/16, MAE 1600 ep + supervised fine-tuning (SSL+Sup): semi-supervised fine-tuning on ImageNet-S-300 train-semi.
# Published: none (the protocol publishes 919 numbers only).
_base_ = ['./vit-b16_mae-ssl-sup_imagenet-s919.py']
subset = 300
model = dict(decode_head=dict(num_classes=301))
train_dataloader = dict(dataset=dict(subset=300))
val_dataloader = dict(dataset=dict(subset=300))
test_dataloader = val_dataloader
