# A toy PASS run on a CPU (the tests' generated tree): a one-block-per-stage ResNet, tiny crops, a few steps.
_base_ = ["pass_r18_luss50.py"]
num_classes = 3
workers = 0
model = dict(arch="resnet18", feat_dim=16, hidden=32, prototypes=8, shallow=2)
crops = dict(global_size=64, global_scale=(0.5, 1.0), n_local=2, local_size=32, local_scale=(0.2, 0.5))
pretrain = dict(epochs=2, batch_size=4, base_lr=0.3, warmup_iters=0, freeze_prototypes_iters=1, queue_length=24,
                epoch_queue_starts=0)
attention = dict(epochs=1, batch_size=4, base_lr=0.3)
cluster = dict(k=3, iterations=5, restarts=2, resize=64, crop=64)
pseudo = dict(resize=64, threshold=0.3)
finetune = dict(config="finetune_tiny.py")
distance = dict(k=3, temperature=0.07, upsample=4, resize=64)
