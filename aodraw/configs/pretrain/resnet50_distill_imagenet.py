_base_ = ['./_base_distill.py']
# Keys of the backbone = MMDetection's ResNet-50 in the detection recipes (frozen_stages/norm_eval only differ).
model = dict(
    backbone=dict(type='ResNet', depth=50, num_stages=4, out_indices=(0, 1, 2, 3), frozen_stages=-1,
                  norm_cfg=dict(type='BN', requires_grad=True), norm_eval=False, style='pytorch'),
    num_classes=1000,
    # torchvision's resnet50 ImageNet weights or MMPretrain's resnet50_8xb32_in1k checkpoint
    teacher_checkpoint='checkpoints/resnet50_8xb32_in1k.pth')
optimizer = dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=1e-4)
work_dir = 'work_dirs/pretrain_resnet50_distill'
