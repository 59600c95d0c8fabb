"""OpenMMLab glue both dataset plug-ins share (``aodraw.mmdet`` for MMDetection, ``imagenet_s.mmseg`` for
MMSegmentation), standing only on ``plumbing``: RF-Next applied as the model is built (``mmglue.rfnext``), MMEngine
checkpoints under torch's ``weights_only`` default (``mmglue.checkpoints``) and the config/runner plumbing of
``tools/train.py`` and ``tools/test.py`` (``mmglue.launch``).

Why a package of its own: the two dataset packages are siblings and may not import each other, and ``plumbing`` (the
ground floor) stays free of torch; this code needs torch, mmcv and MMEngine but no task library (it registers into
MMEngine's root registries, which MMDetection's and MMSegmentation's child registries fall back to). Import its
modules only where the train extra is installed."""
