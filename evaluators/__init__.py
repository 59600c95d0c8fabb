"""Framework-free scorers: COCO/AODRaw detection and ImageNet-S LUSS segmentation.

Nothing here imports torch, mmdet or the dataset packages; adapters call in, never the reverse.
"""
