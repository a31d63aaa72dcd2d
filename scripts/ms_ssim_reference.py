#!/usr/bin/env python3
"""Independent MS-SSIM reference (numpy only) for the value checked in src/metrics.rs tests.

Same definition as pytorch_msssim: 11x11 Gaussian window (sigma 1.5), valid filtering,
K1=0.01, K2=0.03, weights [0.0448, 0.2856, 0.3001, 0.2363, 0.1333], 2x2 average pooling.
Run: python3 -m pip install numpy && python3 scripts/ms_ssim_reference.py
"""
import numpy as np

W, H = 200, 190
y, x = np.mgrid[0:H, 0:W]
a = ((x * 3 + y * 5 + (x * y) % 17) % 256).astype(np.float64)
b = np.clip(a + ((x * 13 + y * 7) % 21) - 10, 0, 255).astype(np.float64)

g = np.exp(-((np.arange(11) - 5) ** 2) / (2 * 1.5 ** 2))
g /= g.sum()
kernel = np.outer(g, g)

def filt(img):
    h, w = img.shape
    out = np.zeros((h - 10, w - 10))
    for i in range(11):
        for j in range(11):
            out += kernel[i, j] * img[i:i + h - 10, j:j + w - 10]
    return out

def ssim_cs(p, q):
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    mp, mq = filt(p), filt(q)
    vp, vq, cov = filt(p * p) - mp ** 2, filt(q * q) - mq ** 2, filt(p * q) - mp * mq
    cs = (2 * cov + c2) / (vp + vq + c2)
    ssim = cs * (2 * mp * mq + c1) / (mp ** 2 + mq ** 2 + c1)
    return ssim.mean(), cs.mean()

def pool(img):
    h, w = img.shape[0] // 2 * 2, img.shape[1] // 2 * 2
    img = img[:h, :w]
    return (img[0::2, 0::2] + img[0::2, 1::2] + img[1::2, 0::2] + img[1::2, 1::2]) / 4

weights = [0.0448, 0.2856, 0.3001, 0.2363, 0.1333]
value, p, q = 1.0, a, b
for s, wgt in enumerate(weights):
    ssim, cs = ssim_cs(p, q)
    value *= max(ssim if s == 4 else cs, 0) ** wgt
    p, q = pool(p), pool(q)
print(f"{value:.10f}")
