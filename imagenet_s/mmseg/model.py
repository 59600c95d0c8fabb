"""The model side of the semi-supervised protocol (the group's ``ImageNetSegModel``) on MMSegmentation 1.x.

``LUSSHead``: the 1x1-conv head (optionally LayerNorm first, and sub-pixel output for ConvNeXt: a 1x1 conv to
(N + 1) * p^2 channels rearranged into p x p sub-pixels); its loss follows the protocol's geometry: logits upsampled
x2 (bilinear), labels resized (nearest) to the logits' size, cross-entropy with ignore 1000.

``ImageNetSSegmentor``: MMSegmentation's ``EncoderDecoder`` with (1) the backbone checkpoint loaded strictly from
any of the public layouts (``imagenet_s.mmseg.checkpoints``) when weights are initialised, (2) the protocol's
evaluation output: logits bilinearly upsampled to the original image size and argmaxed, except that an image of more
than ``test_cfg.max_pixels`` (1000^2) pixels is first brought to a longer side of 1000, argmaxed, then upsampled
with nearest; no full-size logits are kept, and (3) ``get_layer_depth`` for layer-wise lr decay (MMPretrain's
``LearningRateDecayOptimWrapperConstructor``).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from mmengine.structures import PixelData
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.models.losses import accuracy
from mmseg.models.segmentors import EncoderDecoder
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from torch import nn

from plumbing.errors import BadInputError

DEFAULT_MAX_PIXELS = 1000 * 1000
DEFAULT_LONGER_SIDE = 1000


@MODELS.register_module()
class LUSSHead(BaseDecodeHead):
    """A 1x1 convolution over the backbone's last feature map (the group's segmentation head).

    Args:
        layer_norm: apply a LayerNorm over channels first (ConvNeXt heads).
        sub_pixel: p; the conv predicts ``num_classes * p * p`` channels rearranged (``pixel_shuffle``) into p x p
            sub-pixels, so logits come at the feature stride / p (ConvNeXt: p = 4).
        loss_upsample: factor of the bilinear upsampling of the logits before the loss (protocol: 2).
        Other arguments: MMSegmentation's ``BaseDecodeHead`` (``in_channels``, ``channels`` = ``in_channels``,
        ``num_classes`` = N + 1, ``dropout_ratio``, ``ignore_index`` = 1000, ``loss_decode``).
    """

    def __init__(self, layer_norm: bool = False, sub_pixel: int = 1, loss_upsample: int = 2, **kwargs):
        kwargs.setdefault("channels", kwargs.get("in_channels"))
        super().__init__(**kwargs)
        self.sub_pixel, self.loss_upsample = int(sub_pixel), int(loss_upsample)
        self.norm = nn.LayerNorm(self.channels) if layer_norm else None
        self.conv_seg = nn.Conv2d(self.channels, self.out_channels * self.sub_pixel ** 2, kernel_size=1)

    def forward(self, inputs):
        """Logits (B, N + 1, h * p, w * p) of the selected feature map (B, C, h, w)."""
        x = self._transform_inputs(inputs)
        if self.norm is not None:
            x = self.norm(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
        x = self.cls_seg(x)
        return F.pixel_shuffle(x, self.sub_pixel) if self.sub_pixel > 1 else x

    def loss_by_feat(self, seg_logits, batch_data_samples) -> dict:
        """Cross-entropy (ignore 1000) of the logits upsampled x ``loss_upsample`` against the labels resized
        (nearest) to that size; and the pixel accuracy ``acc_seg``."""
        labels = self._stack_batch_gt(batch_data_samples)
        if self.loss_upsample != 1:
            seg_logits = F.interpolate(seg_logits, scale_factor=self.loss_upsample, mode="bilinear",
                                       align_corners=False)
        labels = F.interpolate(labels.float(), size=seg_logits.shape[2:], mode="nearest").long().squeeze(1)
        losses = {}
        decoders = self.loss_decode if isinstance(self.loss_decode, nn.ModuleList) else [self.loss_decode]
        for decoder in decoders:
            value = decoder(seg_logits, labels, ignore_index=self.ignore_index)
            losses[decoder.loss_name] = losses.get(decoder.loss_name, 0) + value
        losses["acc_seg"] = accuracy(seg_logits, labels, ignore_index=self.ignore_index)
        return losses

    def predict_by_feat(self, seg_logits, batch_img_metas):
        """The logits at their own resolution (the segmentor brings them to the original size)."""
        return seg_logits


def protocol_prediction(logits: torch.Tensor, size: tuple[int, int], max_pixels: int | None = DEFAULT_MAX_PIXELS,
                        longer_side: int = DEFAULT_LONGER_SIDE) -> torch.Tensor:
    """Class ids (H, W) int64 at ``size`` = (H, W) from one image's logits (C, h, w): bilinear upsampling to
    ``size`` and argmax; for H * W > ``max_pixels``: bilinear to a longer side of ``longer_side``, argmax, then
    nearest to ``size`` (the group's memory rule).

    The upsampling runs channels-last, so that the argmax over classes reads contiguous memory (2-3x faster on a
    CPU with 920 classes); its values may differ from the channels-first kernel's in the last bit (argmax ties
    aside, the same prediction)."""
    height, width = size
    # a fresh channels-last copy (small): a view's odd batch stride sends the kernel down a slow generic path
    logits = logits[None].float().clone(memory_format=torch.channels_last)
    if max_pixels is not None and height * width > max_pixels:
        scale = longer_side / max(height, width)
        small = (max(1, round(height * scale)), max(1, round(width * scale)))
        ids = F.interpolate(logits, size=small, mode="bilinear", align_corners=False)[0].argmax(0)
        return F.interpolate(ids[None, None].float(), size=size, mode="nearest")[0, 0].long()
    return F.interpolate(logits, size=size, mode="bilinear", align_corners=False)[0].argmax(0)


@MODELS.register_module()
class ImageNetSSegmentor(EncoderDecoder):
    """MMSegmentation's ``EncoderDecoder`` with the protocol's output and strict backbone loading.

    Args:
        backbone_checkpoint: a backbone checkpoint loaded (converted, strictly) by ``init_weights``; None: none.
        checkpoint_layout: ``auto`` or a layout of ``imagenet_s.mmseg.checkpoints.LAYOUTS``.
        checkpoint_key: for checkpoints holding several networks (DINO/iBOT/SERE): ``teacher`` or ``student``.
        Other arguments: ``EncoderDecoder``'s; ``test_cfg`` may set ``max_pixels`` (default 1000^2, None: off) and
        ``longer_side`` (1000) of the memory rule.
    """

    def __init__(self, backbone_checkpoint: str | None = None, checkpoint_layout: str = "auto",
                 checkpoint_key: str = "teacher", **kwargs):
        super().__init__(**kwargs)
        self.backbone_checkpoint, self.checkpoint_layout = backbone_checkpoint, checkpoint_layout
        self.checkpoint_key = checkpoint_key

    def init_weights(self):
        """Initialise as MMEngine does, then load ``backbone_checkpoint`` into the backbone strictly (BadInputError
        naming the keys that do not load)."""
        super().init_weights()
        if self.backbone_checkpoint:
            from imagenet_s.mmseg.checkpoints import load_backbone

            load_backbone(self.backbone, self.backbone_checkpoint, self.checkpoint_layout, self.checkpoint_key)

    def inference(self, inputs, batch_img_metas):
        """Whole-image logits (B, N + 1, h, w) at the head's resolution (no sliding window, no resizing)."""
        if self.test_cfg.get("mode", "whole") != "whole":
            raise BadInputError("ImageNetSSegmentor: only test_cfg.mode='whole' is supported (the protocol)")
        return self.encode_decode(inputs, batch_img_metas)

    def postprocess_result(self, seg_logits, data_samples=None):
        """Per image: padding removed, logits brought to ``ori_shape`` by ``protocol_prediction``; sets
        ``pred_sem_seg`` (1, H, W) int64 (and ``seg_logits`` only with ``test_cfg.keep_logits``)."""
        batch, _, h, w = seg_logits.shape
        max_pixels = self.test_cfg.get("max_pixels", DEFAULT_MAX_PIXELS)
        longer = self.test_cfg.get("longer_side", DEFAULT_LONGER_SIDE)
        samples = data_samples if data_samples is not None else [SegDataSample() for _ in range(batch)]
        for i, sample in enumerate(samples):
            logits = seg_logits[i]
            meta = sample.metainfo
            pad = meta.get("img_padding_size", meta.get("padding_size"))
            if pad is not None and any(pad):
                left, right, top, bottom = pad
                ph, pw = meta.get("pad_shape", meta["img_shape"])
                keep = (math.floor(top * h / ph), h - math.floor(bottom * h / ph),
                        math.floor(left * w / pw), w - math.floor(right * w / pw))
                logits = logits[:, keep[0]:keep[1], keep[2]:keep[3]]
            if meta.get("flip"):
                logits = logits.flip(dims=(2,) if meta.get("flip_direction") == "horizontal" else (1,))
            size = tuple(meta.get("ori_shape", logits.shape[1:]))
            ids = protocol_prediction(logits, size, max_pixels, longer)
            sample.set_data({"pred_sem_seg": PixelData(data=ids[None])})
            if self.test_cfg.get("keep_logits"):
                sample.set_data({"seg_logits": PixelData(data=logits)})
        return samples

    def get_layer_depth(self, param_name: str, prefix: str = "") -> tuple[int, int]:
        """(depth, number of depths) of a parameter for layer-wise lr decay: the backbone's own rule (MMPretrain
        ``get_layer_depth``), else stem 0, ``layerK``/``stages.K`` K + 1, head last."""
        try:
            return self.backbone.get_layer_depth(param_name, "backbone.")
        except (AttributeError, NotImplementedError):
            stages = len(getattr(self.backbone, "res_layers", None) or getattr(self.backbone, "stages", []) or [])
            last = stages + 1
            if not param_name.startswith("backbone."):
                return last, last + 1
            part = param_name.split(".")[1]
            if part.startswith("layer") and part[5:].isdigit():
                return int(part[5:]), last + 1
            return 0, last + 1
