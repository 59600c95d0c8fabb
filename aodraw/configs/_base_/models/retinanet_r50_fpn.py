# RetinaNet R50-FPN (MMDetection's model) for the 61 AODRaw classes.
_base_ = 'mmdet::_base_/models/retinanet_r50_fpn.py'
model = dict(bbox_head=dict(num_classes=61))
