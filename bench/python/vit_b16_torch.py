"""PyTorch CPU ms per tile for ViT-B/16 (224 px, random weights, timm's vit_base_patch16_224 architecture).

Usage: vit_b16_torch.py THREADS [THREADS...] -- prints one JSON object: torch version and, per thread count,
the median ms per image at batch 1 over the timed runs (one warm-up forward first). Called by bench/vit-browser.ts.
"""
import json
import statistics
import sys
import time

import timm
import torch

RUNS = 5


def main() -> None:
    threads = [int(t) for t in sys.argv[1:]]
    torch.manual_seed(0)
    model = timm.create_model("vit_base_patch16_224", pretrained=False, num_classes=0).eval()
    image = torch.randn(1, 3, 224, 224)
    result = {"torch": torch.__version__, "msPerImage": {}}
    with torch.inference_mode():
        for count in threads:
            torch.set_num_threads(count)
            model(image)
            times = []
            for _ in range(RUNS):
                started = time.perf_counter()
                model(image)
                times.append((time.perf_counter() - started) * 1000)
            result["msPerImage"][str(count)] = statistics.median(times)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
