"""Train a detector or a segmentor from a config or a shipped recipe (MMDetection's / MMSegmentation's
``tools/train.py`` habits): AODRaw detection recipes and ImageNet-S segmentation recipes alike.

    python tools/train.py cascade-rcnn_convnext-t_fpn_1x_aodraw-raw --cfg-options data_root=...
    python tools/train.py vit-s16_sere-ssl_imagenet-s919 --amp --cfg-options model.backbone_checkpoint=PATH
    bash tools/dist_train.sh CONFIG 8
"""
import argparse

from launch_any import launcher_for

from mmglue.launch import run_arguments
from plumbing.cli import run_script


def parse_args():
    parser = argparse.ArgumentParser(description="Train a detector or a segmentor")
    parser.add_argument("config", help="config file, or the name of a shipped recipe")
    parser.add_argument("--work-dir", help="where logs and checkpoints go (default ./work_dirs/CONFIG_NAME)")
    parser.add_argument("--amp", action="store_true", help="automatic mixed precision")
    parser.add_argument("--auto-scale-lr", action="store_true", help="scale the lr to the actual total batch size")
    parser.add_argument("--resume", nargs="?", type=str, const="auto",
                        help="resume from this checkpoint, or from the latest one in the work dir")
    run_arguments(parser)
    return parser.parse_args()


def main():
    args = parse_args()
    launch = launcher_for(args.config)
    cfg = launch.load_config(args.config, args.work_dir, args.cfg_options, args.launcher, args.amp)
    if args.auto_scale_lr:
        cfg.auto_scale_lr.enable = True
    if args.resume == "auto":
        cfg.resume, cfg.load_from = True, None
    elif args.resume:
        cfg.resume, cfg.load_from = True, args.resume
    launch.build_runner(cfg).train()


if __name__ == "__main__":
    run_script(main)
