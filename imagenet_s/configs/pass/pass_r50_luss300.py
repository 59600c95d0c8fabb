# PASS on ImageNet-S-300 (LUSSeg/PASS scripts/luss300_pass.sh): ResNet-50, 100 epochs, 3,000 prototypes, 2 x 224 crops.
# Read with mmengine.Config; every value can be overridden with --cfg-options key=value.
num_classes = 300
seed = 31
workers = 8
train_split = "train"
model = dict(arch="resnet50", feat_dim=128, hidden=2048, prototypes=3000, shallow=3)
crops = dict(global_size=224, global_scale=(0.14, 1.0), n_local=0, local_size=96, local_scale=(0.05, 0.14))
epsilon = 0.05  # Sinkhorn-Knopp
sinkhorn_iterations = 3
temperature = 0.1
shallow_weight = 1.0  # deep-to-shallow supervision, per shallow stage
# base_lr is for a total batch of 256 (8 GPUs x 32) and scaled linearly; the queue holds pixel embeddings per view;
# SGD (momentum 0.9) under LARS with trust coefficient lars_eta (upstream: apex LARC, 0.001, no clipping)
pretrain = dict(epochs=100, batch_size=32, base_lr=0.6, final_lr=0.0006, warmup_iters=0, weight_decay=1e-6,
                freeze_prototypes_iters=5005, lars_eta=0.001, queue_length=3840, epoch_queue_starts=15)
attention = dict(epochs=20, batch_size=32, base_lr=0.6, final_lr=0.0006, weight_decay=1e-6, lars_eta=0.001)
cluster = dict(k=300, iterations=20, restarts=30, resize=256, crop=224)
pseudo = dict(resize=256, threshold=0.40)  # upstream's chosen threshold for ImageNet-S-300 (a fraction)
# finetune: an MMSegmentation config of the ImageNet-S plug-in (upstream's settings; beside this file) and overrides
# of it (dotted keys, e.g. {'train_cfg.max_epochs': 1}), run by `imagenet-s pass finetune` and `pass infer`
finetune = dict(config="finetune_r50_luss300.py", cfg_options=dict())
distance = dict(k=10, temperature=0.07, upsample=4, resize=256)
