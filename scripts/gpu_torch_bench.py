"""PyTorch's side of scripts/gpu-check.sh: the same three workloads as
train/cuda's GPU benchmarks, eager mode, PyTorch's default precision (TF32 in
cuDNN convolutions, none in matrix products), printing img/s and peak GPU
memory in the Go benchmark's format so the two logs line up.

The networks mirror vggo's plans: the trainable VGG16 suffix from the freeze
boundary (its input is the frozen prefix's activation), then the gap head
(global average pool, dense 256 + ReLU, dropout 0.2, dense 10), Adam."""
import time

import torch
import torch.nn as nn
import torchvision

WARMUP, STEPS = 3, 20


def model(boundary):
    feats = list(torchvision.models.vgg16().features)
    convs = [i for i, m in enumerate(feats) if isinstance(m, nn.Conv2d)]
    suffix = feats[convs[boundary]:] if boundary < len(convs) else []
    return nn.Sequential(*suffix, nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Linear(512, 256), nn.ReLU(), nn.Dropout(0.2), nn.Linear(256, 10)).cuda()


def input_shape(boundary, size):
    if boundary == 0:
        return (3, size, size)
    pools = [1, 3, 6, 9, 12]  # conv layers followed by a pool
    side = size // 2 ** sum(1 for p in pools if p < boundary)
    return (512 if boundary > 7 else [64, 64, 128, 128, 256, 256, 256, 512][boundary - 1], side, side)


def bench(name, boundary, size, batch, train):
    torch.cuda.reset_peak_memory_stats()
    m = model(boundary)
    x = torch.rand(batch, *input_shape(boundary, size), device="cuda")
    y = torch.randint(0, 10, (batch,), device="cuda")
    opt = torch.optim.Adam(m.parameters(), lr=1e-4, eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()

    def step():
        if train:
            opt.zero_grad(set_to_none=True)
            loss_fn(m(x), y).backward()
            opt.step()
        else:
            with torch.no_grad():
                m.eval()(x)

    for _ in range(WARMUP):
        step()
    torch.cuda.synchronize()
    t = time.perf_counter()
    for _ in range(STEPS):
        step()
    torch.cuda.synchronize()
    dt = time.perf_counter() - t
    print(f"Torch{name}\t{STEPS}\t{dt / STEPS * 1e9:.0f} ns/op\t{batch * STEPS / dt:.1f} img/s\t"
          f"{torch.cuda.max_memory_allocated() / 2**20:.0f} GPU-MiB", flush=True)


if __name__ == "__main__":
    print(f"torch {torch.__version__}, {torch.cuda.get_device_name()}, cudnn {torch.backends.cudnn.version()}, "
          f"tf32 conv {torch.backends.cudnn.allow_tf32} matmul {torch.backends.cuda.matmul.allow_tf32}")
    bench("TrainStepAll32", 0, 32, 256, True)
    bench("FineTune1At224", 12, 224, 64, True)
    bench("Forward224", 0, 224, 64, False)
