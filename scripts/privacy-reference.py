#!/usr/bin/python3
"""Reference values for cipherpath's privacy metrics (src/privacy), computed with scikit-image.

Run with Debian's /usr/bin/python3 (it has scikit-image and scipy; the pyenv python3 on PATH does not):
    /usr/bin/python3 scripts/privacy-reference.py
It (re)generates a small, deterministic set of RGB PNG pairs in src/privacy/fixtures/ and writes their PSNR, SSIM and
NMI, as scikit-image computes them, to src/privacy/fixtures/expected.json. The vitest test compares the TypeScript
metrics with that committed JSON, so CI needs no Python. PSNR of identical images is +inf, which JSON cannot hold:
it is written as the string "Infinity" (Number("Infinity") and float("Infinity") both read it back).

It also writes src/privacy/fixtures/lpips-tiny.json: random weights for an AlexNet-LPIPS network with AlexNet's
kernels, strides, paddings and pools but a few channels per layer (real weights are 10 MB and may not be shipped),
and the LPIPS distances a float64 PyTorch forward pass gives for some pairs. That checks the tfjs port's layouts,
padding, pooling, normalisation and heads; it cannot check real LPIPS numbers, which need the real weights.
"""
import json
import pathlib

import numpy as np
import scipy.ndimage
import torch
import torch.nn.functional as F
from PIL import Image
from skimage.metrics import normalized_mutual_information, peak_signal_noise_ratio, structural_similarity

FIXTURES = pathlib.Path(__file__).resolve().parent.parent / "src" / "privacy" / "fixtures"


def tissue_like(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """A smooth colour field plus blobs and fine noise: structure at several scales, uint8 RGB."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float64)
    base = np.stack([
        150 + 60 * np.sin(xx / 7.0) * np.cos(yy / 5.0),
        110 + 50 * np.cos((xx + yy) / 9.0),
        170 + 40 * np.sin(yy / 4.0),
    ], axis=-1)
    blobs = scipy.ndimage.gaussian_filter(rng.normal(0, 1, (height, width, 3)), sigma=(2.5, 2.5, 0)) * 120
    return np.clip(base + blobs + rng.normal(0, 6, (height, width, 3)), 0, 255).round().astype(np.uint8)


def noisy(image: np.ndarray, rng: np.random.Generator, std: float) -> np.ndarray:
    return np.clip(image + rng.normal(0, std, image.shape), 0, 255).round().astype(np.uint8)


def make_pairs() -> dict:
    rng = np.random.default_rng(20261121)
    pairs = {}
    a = tissue_like(rng, 48, 48)
    pairs["noise-low"] = (a, noisy(a, rng, 5.0))
    a = tissue_like(rng, 40, 64)
    pairs["noise-high"] = (a, noisy(a, rng, 40.0))
    a = tissue_like(rng, 64, 64)
    blurred = scipy.ndimage.gaussian_filter(a.astype(np.float64), sigma=(1.5, 1.5, 0))
    pairs["blur"] = (a, blurred.round().astype(np.uint8))
    a = tissue_like(rng, 56, 40)
    pairs["shift"] = (a, np.roll(a, shift=(3, -2), axis=(0, 1)))
    a = tissue_like(rng, 32, 32)
    pairs["constant"] = (np.full((32, 32, 3), 128, dtype=np.uint8), a)
    a = tissue_like(rng, 36, 44)
    pairs["identical"] = (a, a.copy())
    # A narrow value range: NMI bins then fall between integer values, the case where binning details matter.
    a = (100 + rng.integers(0, 7, (33, 45, 3))).astype(np.uint8)
    pairs["narrow-range"] = (a, np.clip(a.astype(np.int16) + rng.integers(-1, 2, a.shape), 0, 255).astype(np.uint8))
    return pairs


def metrics(a: np.ndarray, b: np.ndarray) -> dict:
    with np.errstate(divide="ignore"):  # identical images: MSE 0, PSNR +inf
        psnr = float(peak_signal_noise_ratio(a, b, data_range=255))
    ssim = float(structural_similarity(a, b, channel_axis=-1, gaussian_weights=True, sigma=1.5,
                                       use_sample_covariance=False, data_range=255))
    y = float(normalized_mutual_information(a, b, bins=100))
    return {"psnr": "Infinity" if np.isinf(psnr) else psnr, "ssim": ssim, "nmi": 2 * (1 - 1 / y)}


# (torchvision name, out channels (tiny), kernel, stride, padding, max-pool before): AlexNet's features, LPIPS slices.
TINY_ALEXNET = [("features.0", 4, 11, 4, 2, False), ("features.3", 6, 5, 1, 2, True), ("features.6", 8, 3, 1, 1, True),
                ("features.8", 6, 3, 1, 1, False), ("features.10", 6, 3, 1, 1, False)]


def tiny_lpips_weights() -> dict:
    gen = torch.Generator().manual_seed(8)
    weights, channels_in = {}, 3
    for index, (name, out, kernel, _, _, _) in enumerate(TINY_ALEXNET):
        fan_in = channels_in * kernel * kernel
        weights[f"{name}.weight"] = torch.randn(out, channels_in, kernel, kernel, generator=gen) * (2 / fan_in) ** 0.5
        weights[f"{name}.bias"] = torch.randn(out, generator=gen) * 0.1
        weights[f"lin{index}.model.1.weight"] = torch.rand(1, out, 1, 1, generator=gen)  # LPIPS heads are non-negative
        channels_in = out
    return {k: v.to(torch.float32) for k, v in weights.items()}


def lpips_distance(a: np.ndarray, b: np.ndarray, weights: dict) -> float:
    """LPIPS v0.1 forward pass, float64: scale to [-1, 1], ScalingLayer, AlexNet ReLU outputs, unit-normalise over
    channels, squared difference, non-negative 1x1 head, spatial mean, sum over layers."""
    shift = torch.tensor([-0.030, -0.088, -0.188], dtype=torch.float64).view(1, 3, 1, 1)
    scale = torch.tensor([0.458, 0.448, 0.450], dtype=torch.float64).view(1, 3, 1, 1)

    def features(image: np.ndarray) -> list:
        x = (torch.from_numpy(image.astype(np.float64)).permute(2, 0, 1)[None] / 255 * 2 - 1 - shift) / scale
        out = []
        for name, _, _, stride, padding, pool in TINY_ALEXNET:
            if pool:
                x = F.max_pool2d(x, kernel_size=3, stride=2)
            x = F.relu(F.conv2d(x, weights[f"{name}.weight"].double(), weights[f"{name}.bias"].double(),
                                stride=stride, padding=padding))
            out.append(x)
        return out

    def unit(f: torch.Tensor) -> torch.Tensor:
        return f / (torch.sqrt((f ** 2).sum(dim=1, keepdim=True)) + 1e-10)

    total = 0.0
    for index, (fa, fb) in enumerate(zip(features(a), features(b))):
        head = weights[f"lin{index}.model.1.weight"].double()
        total += float(((unit(fa) - unit(fb)) ** 2 * head).sum(dim=1).mean())
    return total


def main() -> None:
    FIXTURES.mkdir(parents=True, exist_ok=True)
    expected = {}
    for name, (a, b) in make_pairs().items():
        Image.fromarray(a, mode="RGB").save(FIXTURES / f"{name}-a.png", optimize=True)
        Image.fromarray(b, mode="RGB").save(FIXTURES / f"{name}-b.png", optimize=True)
        # Recompute from the written files, so the reference sees exactly the bytes the test reads.
        a_read = np.asarray(Image.open(FIXTURES / f"{name}-a.png").convert("RGB"))
        b_read = np.asarray(Image.open(FIXTURES / f"{name}-b.png").convert("RGB"))
        expected[name] = {"a": f"{name}-a.png", "b": f"{name}-b.png", **metrics(a_read, b_read)}
    (FIXTURES / "expected.json").write_text(json.dumps(expected, indent=2) + "\n")
    print(json.dumps(expected, indent=2))

    weights = tiny_lpips_weights()
    distances = {}
    for name in ["noise-low", "noise-high", "blur", "shift", "identical"]:
        a = np.asarray(Image.open(FIXTURES / f"{name}-a.png").convert("RGB"))
        b = np.asarray(Image.open(FIXTURES / f"{name}-b.png").convert("RGB"))
        distances[name] = lpips_distance(a, b, weights)
    tiny = {"weights": {k: {"shape": list(v.shape), "data": v.flatten().tolist()} for k, v in weights.items()},
            "distances": distances}
    (FIXTURES / "lpips-tiny.json").write_text(json.dumps(tiny) + "\n")
    print(json.dumps(distances, indent=2))


if __name__ == "__main__":
    main()
