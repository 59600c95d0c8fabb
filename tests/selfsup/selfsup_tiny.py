"""Tiny model configs shared by the iBOT/SERE/HSSL tests (a 2-layer ViT of width 32 on 32 px views, patch 8)."""
TINY_VIT = dict(type="VisionTransformer", arch=dict(embed_dims=32, num_layers=2, num_heads=2,
                                                    feedforward_channels=64), img_size=32, patch_size=8)
TINY_HEAD = dict(type="DINOProjectionHead", in_channels=32, out_channels=64, hidden_channels=64,
                 bottleneck_channels=16)
