#!/usr/bin/python3
"""Independent PyTorch reference for the tfjs ViT in src/vit (written by hand; no transformers).

Run with Debian's /usr/bin/python3 (it has python3-torch and Pillow):

  /usr/bin/python3 scripts/vit-fixtures.py fixtures   # rewrites src/vit/fixtures/
  /usr/bin/python3 scripts/vit-fixtures.py bench --config '<config.json text>' --batch 1 --batch 8 [--threads N]

`fixtures` writes:
  images/{a,b,c}.png            test images (RGB, three sizes: upscaling, downscaling, mixed)
  pil-resized/<img>-<size>.png   Pillow's BILINEAR resize of those images (what HF ViTImageProcessor does)
  small-hf/                      a small random ViTForImageClassification checkpoint in HF layout
                                 ("vit." prefix, classifier head, ImageNet mean/std), torch.manual_seed(0)
  expected-tokens.json           [CLS] tokens computed here in float64 for
                                 - the small checkpoint, and
                                 - the ViT-B/16 shape with weights drawn from mulberry32(seed) in the
                                   canonical tensor order of src/vit/weights.ts (randomVitWeights), so
                                   the 343 MB of weights need not be committed.
`bench` times the same forward in float32 on this machine's CPU and prints JSON.
"""

import argparse
import json
import math
import os
import struct
import sys
import time

import numpy as np
import torch
from PIL import Image

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'src', 'vit', 'fixtures')

VIT_B16 = {
    'hidden_size': 768, 'num_hidden_layers': 12, 'num_attention_heads': 12, 'intermediate_size': 3072,
    'image_size': 224, 'patch_size': 16, 'num_channels': 3, 'layer_norm_eps': 1e-12, 'hidden_act': 'gelu',
    'qkv_bias': True,
}
B16_SEED = 1234

SMALL = {
    'hidden_size': 32, 'num_hidden_layers': 2, 'num_attention_heads': 4, 'intermediate_size': 64,
    'image_size': 48, 'patch_size': 8, 'num_channels': 3, 'layer_norm_eps': 1e-12, 'hidden_act': 'gelu',
    'qkv_bias': True,
}
SMALL_PROCESSOR = {
    'image_processor_type': 'ViTImageProcessor', 'do_resize': True, 'size': {'height': 48, 'width': 48},
    'resample': 2, 'do_rescale': True, 'rescale_factor': 0.00392156862745098, 'do_normalize': True,
    'image_mean': [0.485, 0.456, 0.406], 'image_std': [0.229, 0.224, 0.225],
}
IMAGE_SIZES = {'a': (64, 48), 'b': (150, 120), 'c': (240, 180)}  # width, height
RESIZED_REFERENCES = [('a', 48), ('b', 48), ('c', 48), ('a', 224), ('c', 224)]


# ---- weights ---------------------------------------------------------------------------------

def expected_tensors(cfg):
    """Same names, shapes, order and init ranges as expectedVitTensors in src/vit/weights.ts."""
    d, inner, p, c = cfg['hidden_size'], cfg['intermediate_size'], cfg['patch_size'], cfg['num_channels']
    patches = (cfg['image_size'] // p) ** 2

    def linear(fan_in):
        return (0.0, 2 / math.sqrt(fan_in))

    bias, ln_weight = (0.0, 0.1), (1.0, 0.2)
    out = [
        ('embeddings.cls_token', [1, 1, d], (0.0, 1.0)),
        ('embeddings.position_embeddings', [1, patches + 1, d], (0.0, 1.0)),
        ('embeddings.patch_embeddings.projection.weight', [d, c, p, p], linear(c * p * p)),
        ('embeddings.patch_embeddings.projection.bias', [d], bias),
    ]

    def dense(name, n_out, fan_in, with_bias=True):
        out.append((name + '.weight', [n_out, fan_in], linear(fan_in)))
        if with_bias:
            out.append((name + '.bias', [n_out], bias))

    def layer_norm(name):
        out.append((name + '.weight', [d], ln_weight))
        out.append((name + '.bias', [d], bias))

    for i in range(cfg['num_hidden_layers']):
        layer = f'encoder.layer.{i}'
        for projection in ('query', 'key', 'value'):
            dense(f'{layer}.attention.attention.{projection}', d, d, cfg['qkv_bias'])
        dense(f'{layer}.attention.output.dense', d, d)
        dense(f'{layer}.intermediate.dense', inner, d)
        dense(f'{layer}.output.dense', d, inner)
        layer_norm(f'{layer}.layernorm_before')
        layer_norm(f'{layer}.layernorm_after')
    layer_norm('layernorm')
    return out


def mulberry32(seed, start, count):
    """Outputs start+1 .. start+count of mulberry32(seed), vectorised (its state is a counter)."""
    mask = np.uint64(0xFFFFFFFF)
    k = np.arange(start + 1, start + count + 1, dtype=np.uint64)
    t = (np.uint64(seed) + k * np.uint64(0x6D2B79F5)) & mask
    t = ((t ^ (t >> np.uint64(15))) * (t | np.uint64(1))) & mask
    t = t ^ ((t + (((t ^ (t >> np.uint64(7))) * (t | np.uint64(61))) & mask)) & mask)
    return ((t ^ (t >> np.uint64(14))) & mask).astype(np.float64) / 4294967296.0


def mulberry_weights(cfg, seed):
    weights, drawn = {}, 0
    for name, shape, (center, half_width) in expected_tensors(cfg):
        count = int(np.prod(shape))
        values = center + (2.0 * mulberry32(seed, drawn, count) - 1.0) * half_width
        weights[name] = torch.from_numpy(values.astype(np.float32).reshape(shape))
        drawn += count
    return weights


def torch_random_weights(cfg, seed):
    generator = torch.Generator().manual_seed(seed)
    weights = {}
    for name, shape, (center, _) in expected_tensors(cfg):
        if name.endswith('.weight') and len(shape) >= 2:
            std = 1 / math.sqrt(int(np.prod(shape[1:])))
        elif 'layernorm' in name and name.endswith('.weight'):
            std = 0.1
        elif name.startswith('embeddings.') and 'patch' not in name:
            std = 0.5
        else:
            std = 0.1
        weights[name] = center + std * torch.randn(shape, generator=generator)
    return weights


# ---- the forward pass --------------------------------------------------------------------------

def layer_norm(x, weight, bias, eps):
    mean = x.mean(-1, keepdim=True)
    variance = ((x - mean) ** 2).mean(-1, keepdim=True)
    return (x - mean) / torch.sqrt(variance + eps) * weight + bias


def vit_cls(cfg, w, pixels):
    """HF ViTModel forward, last hidden state at token 0. pixels: N x C x S x S."""
    n, c, s, _ = pixels.shape
    d, heads, p, eps = cfg['hidden_size'], cfg['num_attention_heads'], cfg['patch_size'], cfg['layer_norm_eps']
    g, head_dim = s // p, d // cfg['num_attention_heads']
    # Patch embedding as an explicit patch-flatten + matmul (the tfjs side uses a convolution).
    patches = pixels.reshape(n, c, g, p, g, p).permute(0, 2, 4, 1, 3, 5).reshape(n, g * g, c * p * p)
    proj = w['embeddings.patch_embeddings.projection.weight'].reshape(d, c * p * p)
    x = patches @ proj.T + w['embeddings.patch_embeddings.projection.bias']
    x = torch.cat([w['embeddings.cls_token'].expand(n, 1, d), x], dim=1) + w['embeddings.position_embeddings']
    t = x.shape[1]

    def dense(h, name):
        out = h @ w[name + '.weight'].T
        return out + w[name + '.bias'] if name + '.bias' in w else out

    def split_heads(h):
        return h.reshape(n, t, heads, head_dim).permute(0, 2, 1, 3)

    for i in range(cfg['num_hidden_layers']):
        layer = f'encoder.layer.{i}'
        h = layer_norm(x, w[layer + '.layernorm_before.weight'], w[layer + '.layernorm_before.bias'], eps)
        q, k, v = (split_heads(dense(h, f'{layer}.attention.attention.{name}')) for name in ('query', 'key', 'value'))
        scores = q @ k.transpose(-1, -2) / math.sqrt(head_dim)
        probs = torch.exp(scores - scores.amax(-1, keepdim=True))
        probs = probs / probs.sum(-1, keepdim=True)
        context = (probs @ v).permute(0, 2, 1, 3).reshape(n, t, d)
        x = x + dense(context, f'{layer}.attention.output.dense')
        h = layer_norm(x, w[layer + '.layernorm_after.weight'], w[layer + '.layernorm_after.bias'], eps)
        inner = dense(h, f'{layer}.intermediate.dense')
        x = x + dense(0.5 * inner * (1 + torch.erf(inner / math.sqrt(2))), f'{layer}.output.dense')
    return layer_norm(x, w['layernorm.weight'], w['layernorm.bias'], eps)[:, 0]


# ---- images and preprocessing ------------------------------------------------------------------

def make_image(name, width, height):
    rng = np.random.RandomState(ord(name))
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    channels = [
        128 + 90 * np.sin(x / width * (3 + k) + y / height * (2 + k) + k) + rng.normal(0, 18, (height, width))
        for k in range(3)
    ]
    return Image.fromarray(np.clip(np.stack(channels, -1), 0, 255).astype(np.uint8), 'RGB')


def preprocess(image, processor):
    """HF ViTImageProcessor: PIL bilinear resize, rescale, normalise, CHW (float64 here)."""
    size = processor['size']['height'] if isinstance(processor['size'], dict) else processor['size']
    resized = np.asarray(image.convert('RGB').resize((size, size), Image.BILINEAR), dtype=np.float64)
    scaled = resized * processor['rescale_factor']
    normalised = (scaled - np.array(processor['image_mean'])) / np.array(processor['image_std'])
    return torch.from_numpy(normalised.transpose(2, 0, 1).copy())


# ---- files -------------------------------------------------------------------------------------

def write_safetensors(path, tensors):
    """Minimal safetensors writer (F32), keys sorted as huggingface's safetensors writes them."""
    header, blobs, offset = {'__metadata__': {'format': 'pt'}}, [], 0
    for name in sorted(tensors):
        data = tensors[name].detach().to(torch.float32).contiguous().numpy().astype('<f4').tobytes()
        header[name] = {'dtype': 'F32', 'shape': list(tensors[name].shape), 'data_offsets': [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(',', ':')).encode()
    text += b' ' * (-len(text) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text)) + text + b''.join(blobs))


def write_json(path, value):
    with open(path, 'w') as f:
        json.dump(value, f, indent=2)
        f.write('\n')


def cls_tokens(cfg, weights, processor, images):
    w64 = {name: t.to(torch.float64) for name, t in weights.items()}
    pixels = torch.stack([preprocess(image, processor) for image in images])
    with torch.no_grad():
        return [[float(v) for v in row] for row in vit_cls(cfg, w64, pixels)]


def fixtures():
    for sub in ('images', 'pil-resized', 'small-hf'):
        os.makedirs(os.path.join(FIXTURES, sub), exist_ok=True)
    images = {}
    for name, (width, height) in IMAGE_SIZES.items():
        images[name] = make_image(name, width, height)
        images[name].save(os.path.join(FIXTURES, 'images', name + '.png'), optimize=True)
    for name, size in RESIZED_REFERENCES:
        resized = images[name].resize((size, size), Image.BILINEAR)
        resized.save(os.path.join(FIXTURES, 'pil-resized', f'{name}-{size}.png'), optimize=True)

    # The small checkpoint as HF's ViTForImageClassification saves it: "vit." prefix plus a head.
    small = torch_random_weights(SMALL, 0)
    checkpoint = {'vit.' + name: t for name, t in small.items()}
    generator = torch.Generator().manual_seed(1)
    checkpoint['classifier.weight'] = 0.1 * torch.randn(10, SMALL['hidden_size'], generator=generator)
    checkpoint['classifier.bias'] = torch.zeros(10)
    write_safetensors(os.path.join(FIXTURES, 'small-hf', 'model.safetensors'), checkpoint)
    write_json(os.path.join(FIXTURES, 'small-hf', 'config.json'), {
        'architectures': ['ViTForImageClassification'], 'model_type': 'vit', **SMALL,
        'hidden_dropout_prob': 0.0, 'attention_probs_dropout_prob': 0.0, 'initializer_range': 0.02,
        'encoder_stride': 8, 'torch_dtype': 'float32',
        'id2label': {str(i): f'class {i}' for i in range(10)}, 'label2id': {f'class {i}': i for i in range(10)},
    })
    write_json(os.path.join(FIXTURES, 'small-hf', 'preprocessor_config.json'), SMALL_PROCESSOR)

    order = sorted(images)
    b16_processor = {'size': VIT_B16['image_size'], 'rescale_factor': 1 / 255, 'image_mean': [0.5] * 3, 'image_std': [0.5] * 3}
    write_json(os.path.join(FIXTURES, 'expected-tokens.json'), {
        'generator': f'scripts/vit-fixtures.py, torch {torch.__version__}, float64',
        'images': [f'images/{name}.png' for name in order],
        'small': {
            'checkpoint': 'small-hf',
            'tokens': cls_tokens(SMALL, small, SMALL_PROCESSOR, [images[n] for n in order]),
        },
        'vit_b16': {
            'config': VIT_B16, 'seed': B16_SEED, 'processor': b16_processor,
            'tokens': cls_tokens(VIT_B16, mulberry_weights(VIT_B16, B16_SEED), b16_processor, [images[n] for n in order]),
        },
    })
    print(f'wrote {os.path.normpath(FIXTURES)}')


def bench(config_json, batches, repeats, threads):
    if threads > 0:
        torch.set_num_threads(threads)
    cfg = json.loads(config_json)
    weights = torch_random_weights(cfg, 0)
    s = cfg['image_size']
    rows = []
    with torch.no_grad():
        for batch in batches:
            pixels = torch.randn(batch, 3, s, s, generator=torch.Generator().manual_seed(batch))
            vit_cls(cfg, weights, pixels)  # warm-up
            wall, cpu = [], []
            for _ in range(repeats):
                started, cpu_started = time.perf_counter(), time.process_time()
                vit_cls(cfg, weights, pixels)
                wall.append((time.perf_counter() - started) * 1000 / batch)
                cpu.append((time.process_time() - cpu_started) * 1000 / batch)
            rows.append({'batch': batch, 'msPerImage': float(np.median(wall)), 'cpuMsPerImage': float(np.median(cpu)),
                         'repeats': repeats})
    print(json.dumps({'torch': torch.__version__, 'threads': torch.get_num_threads(), 'rows': rows}))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest='command', required=True)
    commands.add_parser('fixtures')
    bench_parser = commands.add_parser('bench')
    bench_parser.add_argument('--config', required=True, help='ViT config.json text')
    bench_parser.add_argument('--batch', type=int, action='append', required=True)
    bench_parser.add_argument('--repeats', type=int, default=3)
    bench_parser.add_argument('--threads', type=int, default=0, help='torch threads (0: torch default)')
    args = parser.parse_args()
    if args.command == 'fixtures':
        fixtures()
    else:
        bench(args.config, args.batch, args.repeats, args.threads)


if __name__ == '__main__':
    sys.exit(main())
