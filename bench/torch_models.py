#!/usr/bin/python3
"""PyTorch definitions of ridgeline's models (docs/models.md): the state_dict keys and shapes here
are the contract that ridgeline's safetensors files follow, so a checkpoint moves between
the two without renaming. Used by test/models_torch.test.ts and bench/model_epoch.ts.

  count   --model NAME --input C,H,W --classes K
          JSON {name, params, state: [[key, shape], ...], buffers: [key, ...]}
          (params = trainable count; state in state_dict order, BN buffers included)
  forward --model NAME --input C,H,W --classes K --weights F.safetensors --x F.f32 --n N [--out F]
          eval-mode logits [N, K] as raw little-endian f32 (to --out, or stdout)
  epoch   --model NAME --input C,H,W --classes K --batch B --steps S --threads T [--data DIR]
          JSON {seconds_per_step, ...}: SGD(lr 0.01, momentum 0.9) + cross-entropy on seeded
          random data, or with --data on Fashion-MNIST's training split read from DIR's IDX
          files, standardized, each step's batch gathered from a shuffled order inside the
          timed loop (as ridgeline's trainer gathers its batches)
  train   --model NAME --input C,H,W --classes K --weights F --x F.f32 --y F.f32 --n N --steps S
          --optimizer sgd|adam|adamw [--lr --momentum --dampening --nesterov --weight-decay
          --beta1 --beta2 --eps --warmup W --schedule constant|step|cosine --milestones A,B
          --total T --clip C] --out F
          S full-batch steps from the weights with torch.optim and torch's LR schedulers;
          final state_dict as raw f32 (in order) to --out, JSON {lrs, losses} on stdout;
          with --state-out F the optimizer state after the first step (raw f32, per
          parameter: momentum_buffer, or exp_avg then exp_avg_sq)

Runs under /usr/bin/python3 (Debian's python3-torch); only torch and the standard library.
"""
import argparse
import gzip
import json
import math
import struct
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


# ---------------------------------------------------------------------------------- models

def lenet5(c, h, w, k):
    # Spatial size after conv(5, pad 2) → pool 2 → conv(5) → pool 2: 28 → 28 → 14 → 10 → 5.
    h2, w2 = ((h + 4 - 4) // 2 - 4) // 2, ((w + 4 - 4) // 2 - 4) // 2
    return nn.Sequential(
        nn.Conv2d(c, 6, 5, padding=2), nn.ReLU(), nn.AvgPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.AvgPool2d(2),
        nn.Flatten(), nn.Linear(16 * h2 * w2, 120), nn.ReLU(),
        nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, k))


def cnn(c, h, w, k):
    return nn.Sequential(nn.Conv2d(c, 128, 4, stride=4), nn.ReLU(), nn.Flatten(),
                         nn.Linear(128 * (h // 4) * (w // 4), k))


class LocallyConnected2d(nn.Module):
    """A convolution whose filter is not shared across positions: one [C, k, k] filter per
    output unit (o, y, x). No padding, kernel = stride is what lc-cnn needs, but any stride works.

    weight [O, H', W', C, k, k], bias [O, H', W'];
    out[n,o,y,x] = Σ_{c,i,j} weight[o,y,x,c,i,j] · in[n,c,s·y+i,s·x+j] + bias[o,y,x]."""

    def __init__(self, in_channels, out_channels, in_hw, kernel, stride):
        super().__init__()
        self.kernel, self.stride = kernel, stride
        self.out_hw = ((in_hw[0] - kernel) // stride + 1, (in_hw[1] - kernel) // stride + 1)
        oh, ow = self.out_hw
        self.weight = nn.Parameter(torch.empty(out_channels, oh, ow, in_channels, kernel, kernel))
        self.bias = nn.Parameter(torch.empty(out_channels, oh, ow))
        # No PyTorch default exists; use Conv2d's (U(±1/√fan_in), fan_in = C·k·k) so the
        # layer starts at the same scale as the cnn it is compared with.
        bound = 1 / math.sqrt(in_channels * kernel * kernel)
        nn.init.uniform_(self.weight, -bound, bound)
        nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x):
        n = x.shape[0]
        o, oh, ow = self.bias.shape
        # unfold: [N, C·k·k, L] with rows in (c, i, j) order and L = H'·W' row-major over (y, x):
        # exactly the trailing (c, i, j) layout of `weight`.
        cols = F.unfold(x, self.kernel, stride=self.stride)
        w = self.weight.reshape(o, oh * ow, -1)
        out = torch.einsum('olk,nkl->nol', w, cols) + self.bias.reshape(1, o, oh * ow)
        return out.reshape(n, o, oh, ow)


def lc_cnn(c, h, w, k):
    return nn.Sequential(LocallyConnected2d(c, 128, (h, w), 4, 4), nn.ReLU(), nn.Flatten(),
                         nn.Linear(128 * (h // 4) * (w // 4), k))


def mlp_toeplitz(c, h, w, k):
    # The dense layer that the cnn's conv is a sparse (Toeplitz) case of; hidden units are in
    # the conv output's flatten order (o, y, x).
    hidden = 128 * (h // 4) * (w // 4)
    return nn.Sequential(nn.Linear(c * h * w, hidden), nn.ReLU(), nn.Linear(hidden, k))


class Attention(nn.Module):
    def __init__(self, dim, heads, head_dim):
        super().__init__()
        # The heads' inner width (heads × head_dim) need not equal the embedding width.
        self.heads, self.head_dim = heads, head_dim
        self.qkv = nn.Linear(dim, 3 * heads * head_dim)
        self.proj = nn.Linear(heads * head_dim, dim)

    def forward(self, x):
        b, n, _ = x.shape
        # The qkv features split as [3, heads, head_dim], the timm layout.
        qkv = self.qkv(x).reshape(b, n, 3, self.heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        a = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(self.head_dim), dim=-1)
        return self.proj((a @ v).transpose(1, 2).reshape(b, n, self.heads * self.head_dim))


class VitLite(nn.Module):
    """One attention block, no skip connection, no MLP (Disentangling App. D).

    state_dict order: a module saves its own parameters before its children's, so
    cls_token and pos_embed come first whatever the attribute order; after them the
    children follow in registration order (patch_embed, norm1, attn, norm, head)."""

    def __init__(self, c, h, w, k, dim=648, heads=8, head_dim=48, patch=4):
        super().__init__()
        self.patch_embed = nn.Conv2d(c, dim, patch, stride=patch)
        tokens = (h // patch) * (w // patch)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, 1 + tokens, dim))
        # nn.Parameter has no default init; small normals as timm (trunc_normal std .02) do.
        nn.init.normal_(self.cls_token, std=0.02)
        nn.init.normal_(self.pos_embed, std=0.02)
        self.norm1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, heads, head_dim)
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, k)

    def forward(self, x):
        t = self.patch_embed(x).flatten(2).transpose(1, 2)  # [B, H'W', D], tokens row-major over (y, x)
        t = torch.cat([self.cls_token.expand(t.shape[0], -1, -1), t], dim=1) + self.pos_embed
        return self.head(self.norm(self.attn(self.norm1(t)))[:, 0])


def vit_lite(c, h, w, k):
    return VitLite(c, h, w, k)


def vgg_reduced(c, h, w, k):
    return nn.Sequential(
        nn.Conv2d(c, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(64, 128, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(128 * (h // 4) * (w // 4), 95), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(95, k))


class BasicBlock(nn.Module):
    """He et al.'s CIFAR block with the option-A (parameter-free) shortcut."""

    def __init__(self, in_planes, planes, stride, bn):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)
        if bn:
            self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
        if bn:
            self.bn2 = nn.BatchNorm2d(planes)
        self.bn = bn
        self.pad = planes // 4 if (stride != 1 or in_planes != planes) else None

    def forward(self, x):
        out = self.conv1(x)
        out = F.relu(self.bn1(out) if self.bn else out)
        out = self.conv2(out)
        if self.bn:
            out = self.bn2(out)
        # Option A: subsample by 2 and zero-pad the new channels, planes//4 on each side.
        short = x if self.pad is None else F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, self.pad, self.pad))
        return F.relu(out + short)


class ResNetCifar(nn.Module):
    def __init__(self, c, k, blocks=3, bn=True):
        super().__init__()
        self.bn = bn
        self.conv1 = nn.Conv2d(c, 16, 3, padding=1, bias=False)
        if bn:
            self.bn1 = nn.BatchNorm2d(16)
        in_planes = 16
        for i, (planes, stride) in enumerate([(16, 1), (32, 2), (64, 2)]):
            layer = []
            for j in range(blocks):
                layer.append(BasicBlock(in_planes, planes, stride if j == 0 else 1, bn))
                in_planes = planes
            setattr(self, 'layer%d' % (i + 1), nn.Sequential(*layer))
        self.linear = nn.Linear(64, k)

    def forward(self, x):
        out = self.conv1(x)
        out = F.relu(self.bn1(out) if self.bn else out)
        out = self.layer3(self.layer2(self.layer1(out)))
        return self.linear(out.mean(dim=(2, 3)))


def resnet20(c, h, w, k):
    return ResNetCifar(c, k, bn=True)


def resnet20_nobn(c, h, w, k):
    return ResNetCifar(c, k, bn=False)


class SineLayer(nn.Module):
    def __init__(self, fan_in, fan_out, first, omega0=30.0):
        super().__init__()
        self.omega0 = omega0
        self.linear = nn.Linear(fan_in, fan_out)
        # SIREN init (Sitzmann et al. §3.2); the bias keeps nn.Linear's default.
        bound = 1 / fan_in if first else math.sqrt(6 / fan_in) / omega0
        with torch.no_grad():
            self.linear.weight.uniform_(-bound, bound)

    def forward(self, x):
        return torch.sin(self.omega0 * self.linear(x))


class Siren(nn.Module):
    def __init__(self, fan_in, out, width=256, sine_layers=4):
        super().__init__()
        layers = [SineLayer(fan_in if i == 0 else width, width, i == 0) for i in range(sine_layers)]
        final = nn.Linear(width, out)
        with torch.no_grad():
            bound = math.sqrt(6 / width) / 30.0
            final.weight.uniform_(-bound, bound)
        self.net = nn.Sequential(*layers, final)

    def forward(self, x):
        return self.net(x)


def siren(c, h, w, k):
    return Siren(c * h * w, k)


class AlexNet(nn.Module):
    def __init__(self, c, k):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(c, 64, 11, stride=4, padding=2), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(3, 2),
            nn.Conv2d(64, 192, 5, padding=2), nn.BatchNorm2d(192), nn.ReLU(), nn.MaxPool2d(3, 2),
            nn.Conv2d(192, 384, 3, padding=1), nn.ReLU(),
            nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(),
            nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2))
        self.avgpool = nn.AdaptiveAvgPool2d(6)
        self.classifier = nn.Sequential(
            nn.Dropout(), nn.Linear(256 * 6 * 6, 4096), nn.ReLU(),
            nn.Dropout(), nn.Linear(4096, 4096), nn.ReLU(), nn.Linear(4096, k))

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


def alexnet(c, h, w, k):
    return AlexNet(c, k)


def mlp(layers, width, slope):
    """ridgeline's mlp-L: L Linear layers with (Leaky)ReLU between (nn.Sequential names 0, 2, …)."""
    def make(c, h, w, k):
        sizes = [c * h * w] + [width] * (layers - 1) + [k]
        mods = []
        for i in range(layers):
            if i > 0:
                mods.append(nn.LeakyReLU(slope) if slope > 0 else nn.ReLU())
            mods.append(nn.Linear(sizes[i], sizes[i + 1]))
        return nn.Sequential(*mods)
    return make


MODELS = {
    'lenet5': lenet5, 'cnn': cnn, 'lc-cnn': lc_cnn, 'mlp-toeplitz': mlp_toeplitz,
    'vit-lite': vit_lite, 'vgg-reduced': vgg_reduced, 'resnet20': resnet20,
    'resnet20-nobn': resnet20_nobn, 'siren': siren, 'alexnet': alexnet,
}
# Models whose first layer is Linear take the flat feature vector, the others [N, C, H, W].
FLAT_INPUT = {'mlp-toeplitz', 'siren'}


def build(name, shape, classes, width=512, slope=0.0):
    if name.startswith('mlp-') and name[4:].isdigit():
        c, h, w = (list(shape) + [1, 1])[:3]
        return mlp(int(name[4:]), width, slope)(c, h, w, classes)
    if name not in MODELS:
        raise SystemExit('unknown model %r; valid: %s' % (name, ', '.join(MODELS)))
    c, h, w = (list(shape) + [1, 1])[:3]  # siren's input [1] is read as 1×1×1
    return MODELS[name](c, h, w, classes)


def as_input(name, x, shape):
    flat = name in FLAT_INPUT or name.startswith('mlp-')
    return x.reshape(x.shape[0], -1) if flat else x.reshape(x.shape[0], *shape)


# ---------------------------------------------------------------------------------- safetensors

# Hand-written reader (struct + json): Debian has no `safetensors` package.
ST_DTYPES = {'F32': torch.float32, 'F64': torch.float64, 'I64': torch.int64, 'I32': torch.int32,
             'F16': torch.float16, 'BF16': torch.bfloat16}


def read_safetensors(path):
    with open(path, 'rb') as f:
        data = f.read()
    (n,) = struct.unpack('<Q', data[:8])
    header = json.loads(data[8:8 + n].decode('utf-8'))
    body = bytearray(data[8 + n:])
    out = {}
    for name, info in header.items():
        if name == '__metadata__':
            continue
        start, end = info['data_offsets']
        dtype = ST_DTYPES[info['dtype']]
        t = torch.frombuffer(body[start:end], dtype=dtype) if end > start else torch.empty(0, dtype=dtype)
        out[name] = t.reshape(info['shape']).clone()
    return out


# ---------------------------------------------------------------------------------- commands

def cmd_count(a, model):
    sd = model.state_dict()
    buffers = {name for name, _ in model.named_buffers()}
    print(json.dumps({
        'name': a.model,
        'params': sum(p.numel() for p in model.parameters() if p.requires_grad),
        'state': [[key, list(t.shape)] for key, t in sd.items()],
        'buffers': [key for key in sd if key in buffers],
    }))


def cmd_forward(a, model):
    weights = read_safetensors(a.weights)
    # ridgeline does not store num_batches_tracked (it only matters for momentum=None BN).
    missing, unexpected = model.load_state_dict(weights, strict=False)
    missing = [m for m in missing if not m.endswith('num_batches_tracked')]
    if missing or unexpected:
        raise SystemExit('%s: missing %s, unexpected %s' % (a.weights, missing, unexpected))
    with open(a.x, 'rb') as f:
        raw = bytearray(f.read())
    per = math.prod(a.input)
    if len(raw) != 4 * per * a.n:
        raise SystemExit('%s: %d bytes, expected %d (N=%d × %d f32)' % (a.x, len(raw), 4 * per * a.n, a.n, per))
    x = torch.frombuffer(raw, dtype=torch.float32).reshape(a.n, per)
    model.eval()
    with torch.no_grad():
        y = model(as_input(a.model, x, a.input)).contiguous()
    # Raw f32 bytes: little-endian on every machine we run (x86-64, arm64).
    blob = y.numpy().astype('<f4').tobytes()
    if a.out:
        with open(a.out, 'wb') as f:
            f.write(blob)
    else:
        sys.stdout.buffer.write(blob)


def read_idx(path, dims):
    """An IDX file of unsigned bytes (gzip-compressed or not) as a uint8 tensor of `dims` dimensions."""
    with open(path, 'rb') as f:
        raw = f.read()
    if raw[:2] == b'\x1f\x8b':
        raw = gzip.decompress(raw)
    magic = struct.unpack('>I', raw[:4])[0]
    if magic != 0x800 + dims:
        raise SystemExit('%s: not an IDX file of %d-dimensional unsigned bytes (magic %#x)' % (path, dims, magic))
    shape = struct.unpack('>%dI' % dims, raw[4:4 + 4 * dims])
    return torch.frombuffer(bytearray(raw[4 + 4 * dims:]), dtype=torch.uint8).reshape(shape)


def fashion_mnist_train(directory):
    """Fashion-MNIST's training split: inputs scaled to [0, 1] and standardized over the whole split
    (one channel, population std), as ridgeline's loader does (core/data/normalize.ts); labels int64."""
    def find(stem):
        for name in (stem + '.gz', stem):
            path = directory.rstrip('/') + '/' + name
            try:
                open(path, 'rb').close()
                return path
            except OSError:
                pass
        raise SystemExit('%s: no %s(.gz); install Debian\'s dataset-fashion-mnist' % (directory, stem))
    x = read_idx(find('train-images-idx3-ubyte'), 3).reshape(-1, 28 * 28).to(torch.float32) / 255
    y = read_idx(find('train-labels-idx1-ubyte'), 1).to(torch.int64)
    x64 = x.to(torch.float64)
    mean = x64.mean()
    std = ((x64 - mean) ** 2).mean().sqrt()
    return ((x64 - mean) / std).to(torch.float32), y


def cmd_epoch(a, model):
    torch.set_num_threads(a.threads)
    g = torch.Generator().manual_seed(0)
    if a.data:
        # A real epoch: every step gathers its batch from a shuffled order (drop_last), inside
        # the timed loop, where ridgeline's trainer gathers its own.
        data_x, data_y = fashion_mnist_train(a.data)
        per_epoch = data_x.shape[0] // a.batch
        orders = {}

        def batch_at(i):
            epoch, at = divmod(i, per_epoch)
            if epoch not in orders:
                orders.clear()
                orders[epoch] = torch.randperm(data_x.shape[0], generator=g)
            idx = orders[epoch][at * a.batch:(at + 1) * a.batch]
            return as_input(a.model, data_x[idx], a.input), data_y[idx]
    else:
        # A few fixed batches, drawn before timing: the step is what we measure, not the RNG.
        # Uniform [-1, 1) inputs, as bench/model_epoch.ts draws for ours (its own RNG).
        # Targets: class labels, or (siren) regression targets uniform in [-1, 1) like ours.
        target = ((lambda: torch.rand(a.batch, generator=g) * 2 - 1) if a.model == 'siren'
                  else (lambda: torch.randint(0, a.classes, (a.batch,), generator=g)))
        batches = [(as_input(a.model, torch.rand(a.batch, math.prod(a.input), generator=g) * 2 - 1, a.input), target())
                   for _ in range(8)]

        def batch_at(i):
            return batches[i % len(batches)]
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.MSELoss() if a.model == 'siren' else nn.CrossEntropyLoss()
    model.train()

    def step(i):
        x, y = batch_at(i)
        opt.zero_grad(set_to_none=True)
        out = model(x)
        loss = loss_fn(out, y.float().unsqueeze(1)) if a.model == 'siren' else loss_fn(out, y)
        loss.backward()
        opt.step()
        return loss

    for i in range(3):  # warm-up: allocator, OpenMP pool, first-call dispatch
        first_loss = step(i)
    t0 = time.perf_counter()
    for i in range(a.steps):
        loss = step(3 + i)
    seconds = time.perf_counter() - t0
    print(json.dumps({'model': a.model, 'batch': a.batch, 'steps': a.steps, 'threads': torch.get_num_threads(),
                      'seconds_per_step': seconds / a.steps, 'first_loss': float(first_loss),
                      'final_loss': float(loss), 'data': 'fashion-mnist' if a.data else 'random',
                      'torch': torch.__version__}))


def scheduler_of(opt, a):
    """ridgeline's schedules as torch builds them (core/train/schedule.ts): LinearLR warm-up
    over W steps; step decay chained with it; cosine after it (SequentialLR)."""
    sched = torch.optim.lr_scheduler
    w = a.warmup
    warm = sched.LinearLR(opt, start_factor=1.0 / w, end_factor=1.0, total_iters=w) if w > 0 else None
    if a.schedule == 'step':
        main = sched.MultiStepLR(opt, milestones=a.milestones, gamma=0.1)
        return sched.ChainedScheduler([warm, main]) if warm else main
    if a.schedule == 'cosine':
        if warm:
            cos = sched.CosineAnnealingLR(opt, T_max=max(1, a.total - w))
            return sched.SequentialLR(opt, [warm, cos], milestones=[w])
        return sched.CosineAnnealingLR(opt, T_max=max(1, a.total))
    return warm


def read_f32(path, count):
    with open(path, 'rb') as f:
        raw = bytearray(f.read())
    if len(raw) != 4 * count:
        raise SystemExit('%s: %d bytes, expected %d f32' % (path, len(raw), count))
    return torch.frombuffer(raw, dtype=torch.float32)


def cmd_train(a, model):
    torch.set_num_threads(a.threads)
    weights = read_safetensors(a.weights)
    model.load_state_dict(weights)
    x = as_input(a.model, read_f32(a.x, a.n * math.prod(a.input)).reshape(a.n, -1), a.input)
    y = read_f32(a.y, a.n).long()
    params = list(model.parameters())
    if a.optimizer == 'sgd':
        opt = torch.optim.SGD(params, lr=a.lr, momentum=a.momentum, dampening=a.dampening,
                              nesterov=a.nesterov, weight_decay=a.weight_decay)
    else:
        cls = torch.optim.Adam if a.optimizer == 'adam' else torch.optim.AdamW
        opt = cls(params, lr=a.lr, betas=(a.beta1, a.beta2), eps=a.eps, weight_decay=a.weight_decay)
    sched = scheduler_of(opt, a)
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    lrs, losses = [], []
    for _ in range(a.steps):
        lrs.append(opt.param_groups[0]['lr'])
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        if a.clip is not None:
            torch.nn.utils.clip_grad_norm_(params, a.clip)
        opt.step()
        if sched is not None:
            sched.step()
        losses.append(float(loss))
        if len(losses) == 1 and a.state_out:
            # The optimizer state after the first step, per parameter in order: the moments
            # (or momentum buffer) before any trajectory difference has had time to grow.
            with open(a.state_out, 'wb') as f:
                for q in params:
                    for key in ('momentum_buffer', 'exp_avg', 'exp_avg_sq'):
                        t = opt.state[q].get(key)
                        if t is not None:
                            f.write(t.detach().contiguous().numpy().astype('<f4').tobytes())
    with open(a.out, 'wb') as f:
        for t in model.state_dict().values():
            f.write(t.detach().contiguous().numpy().astype('<f4').tobytes())
    print(json.dumps({'lrs': lrs, 'losses': losses, 'torch': torch.__version__}))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('command', choices=['count', 'forward', 'epoch', 'train'])
    p.add_argument('--model', required=True, help=', '.join(MODELS))
    p.add_argument('--input', required=True, help='C,H,W (or a single feature count, e.g. 1 for siren)')
    p.add_argument('--classes', type=int, required=True)
    p.add_argument('--weights')
    p.add_argument('--x')
    p.add_argument('--n', type=int)
    p.add_argument('--out')
    p.add_argument('--batch', type=int, default=64)
    p.add_argument('--steps', type=int, default=50)
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--data', help='epoch: Fashion-MNIST IDX directory (real batches instead of random ones)')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--width', type=int, default=512, help='hidden width of mlp-L')
    p.add_argument('--slope', type=float, default=0.0, help='LeakyReLU slope of mlp-L (0 = ReLU)')
    p.add_argument('--y')
    p.add_argument('--optimizer', choices=['sgd', 'adam', 'adamw'], default='sgd')
    p.add_argument('--lr', type=float, default=0.01)
    p.add_argument('--momentum', type=float, default=0.0)
    p.add_argument('--dampening', type=float, default=0.0)
    p.add_argument('--nesterov', action='store_true')
    p.add_argument('--weight-decay', type=float, default=0.0)
    p.add_argument('--beta1', type=float, default=0.9)
    p.add_argument('--beta2', type=float, default=0.999)
    p.add_argument('--eps', type=float, default=1e-8)
    p.add_argument('--warmup', type=int, default=0, help='LinearLR warm-up steps')
    p.add_argument('--schedule', choices=['constant', 'step', 'cosine'], default='constant')
    p.add_argument('--milestones', default='', help='global steps of ×0.1 (step schedule)')
    p.add_argument('--total', type=int, default=0, help='cosine: total steps including warm-up')
    p.add_argument('--clip', type=float, default=None)
    p.add_argument('--state-out', help='train: the optimizer state after step 1, raw f32')
    a = p.parse_args()
    a.milestones = [int(v) for v in a.milestones.split(',') if v]
    a.input = [int(s) for s in a.input.split(',')]
    if a.command == 'forward' and not (a.weights and a.x and a.n):
        p.error('forward needs --weights, --x and --n')
    if a.command == 'train' and not (a.weights and a.x and a.y and a.n and a.out):
        p.error('train needs --weights, --x, --y, --n and --out')
    torch.manual_seed(a.seed)
    model = build(a.model, a.input, a.classes, a.width, a.slope)
    {'count': cmd_count, 'forward': cmd_forward, 'epoch': cmd_epoch, 'train': cmd_train}[a.command](a, model)


if __name__ == '__main__':
    main()
