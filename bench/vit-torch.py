"""PyTorch side of `npm run bench -- vit`: timm VisionTransformer with random weights, float32, batch 1.

  /work/venv-ref/bin/python bench/vit-torch.py --architecture vit_base_patch16_224 --threads 1 --repeats 3

Prints JSON: ms per image (median wall), CPU ms per image, peak RSS of this process.
"""
import argparse
import json
import resource
import time

import numpy as np
import timm
import torch


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--architecture', required=True)
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--repeats', type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model = timm.create_model(args.architecture, pretrained=False, num_classes=0).eval()
    pixels = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    wall, cpu = [], []
    with torch.inference_mode():
        model(pixels)
        for _ in range(args.repeats):
            started, cpu_started = time.perf_counter(), time.process_time()
            model(pixels)
            wall.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - cpu_started) * 1000)
    print(json.dumps({'torch': torch.__version__, 'timm': timm.__version__, 'threads': torch.get_num_threads(),
                      'msPerImage': float(np.median(wall)), 'cpuMsPerImage': float(np.median(cpu)),
                      'peakRssBytes': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))


if __name__ == '__main__':
    main()
