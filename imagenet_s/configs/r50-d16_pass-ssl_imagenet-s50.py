# ResNet-50 D16, PASS 100 ep (SSL): semi-supervised fine-tuning on ImageNet-S-50 train-semi.
# Published: none (the protocol publishes 919 numbers only).
_base_ = ['./r50-d16_pass-ssl_imagenet-s919.py']
subset = 50
model = dict(decode_head=dict(num_classes=51))
train_dataloader = dict(dataset=dict(subset=50))
val_dataloader = dict(dataset=dict(subset=50))
test_dataloader = val_dataloader
