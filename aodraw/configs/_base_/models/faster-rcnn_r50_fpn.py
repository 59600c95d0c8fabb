# Faster R-CNN R50-FPN (MMDetection's model) for the 61 AODRaw classes.
_base_ = 'mmdet::_base_/models/faster-rcnn_r50_fpn.py'
model = dict(roi_head=dict(bbox_head=dict(num_classes=61)))
