"""RAW pre-training with sRGB distillation: unprocessing, camera calibration, the distillation trainer, export."""
