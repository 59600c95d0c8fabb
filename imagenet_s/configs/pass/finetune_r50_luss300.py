# PASS step 6 on ImageNet-S-300 (scripts/luss300_pass.sh): ResNet-50, 301 classes; the rest as
# finetune_r18_luss50.py (20 epochs, LARS/SGD lr 0.6 -> 0.0006, weight decay 1e-6, total batch 256).
_base_ = ['./finetune_r18_luss50.py']
subset = 300
model = dict(backbone=dict(depth=50), decode_head=dict(in_channels=2048, num_classes=subset + 1))
train_dataloader = dict(dataset=dict(subset=subset))
test_dataloader = dict(dataset=dict(subset=subset))
