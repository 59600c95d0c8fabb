"""ImageNet-S: list files, dataset builder, LUSS submissions (scored with ``evaluators.luss``)."""
