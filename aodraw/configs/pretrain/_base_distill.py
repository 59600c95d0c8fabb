# Shared settings of the RAW pre-training recipes (aodraw pretrain train CONFIG). Student = the detection recipe's
# backbone fed synthetic RAW of ImageNet crops; teacher = the same architecture with its sRGB ImageNet weights.
seed = 0
amp = True
log_interval = 50
save_interval = 1000
student_init = 'teacher'  # start the student from the sRGB weights ('None': from scratch)
data = dict(
    root='data/imagenet/train',  # class subfolders of JPEGs (ImageNet-1k train)
    camera=None,  # CAMERA.json from 'aodraw pretrain calibrate' on AODRaw ARWs; None: the Sony defaults
    crop_size=224,
    scale=(0.08, 1.0),
    batch_size=64,  # per GPU; 8 GPUs -> 512
    num_workers=8)
loss = dict(ce=1.0, kl=1.0, temperature=2.0, feature=1.0, feature_type='mse', feature_stages=(-1, ))
schedule = dict(max_steps=50000, warmup_steps=1000, accum_steps=1)
