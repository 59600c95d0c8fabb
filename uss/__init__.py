"""The ``uss`` command line and data commands for the USS benchmarks (COCO-Stuff-27/171, Cityscapes-27, Potsdam-3).

A thin package on the dataset-package floor: ``uss.cli`` (click) over ``uss.mmseg`` (the MMEngine metric) over
``uss.data`` (download and prepare through ``data_manifests``); the scoring itself is ``evaluators.uss``.
"""
