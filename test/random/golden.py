"""Independent recomputation of the golden values in keys.test.ts and samplers.test.ts.

Philox4x32-10 written from Salmon et al. (SC11) with Python integers; the stream layout, key derivation and
sampler definitions follow the doc comments of src/random. Run: /usr/bin/python3 test/random/golden.py
"""
import math
import numpy as np

M0, M1, W0, W1 = 0xD2511F53, 0xCD9E8D57, 0x9E3779B9, 0xBB67AE85
MASK = 0xFFFFFFFF


def philox(key, ctr):
    k0, k1 = key
    x = list(ctr)
    for _ in range(10):
        p0 = M0 * x[0]
        p1 = M1 * x[2]
        x = [((p1 >> 32) ^ x[1] ^ k0) & MASK, p1 & MASK, ((p0 >> 32) ^ x[3] ^ k1) & MASK, p0 & MASK]
        k0 = (k0 + W0) & MASK
        k1 = (k1 + W1) & MASK
    return x


# Known-answer vectors of the Random123 distribution.
assert philox((0, 0), [0, 0, 0, 0]) == [0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8]
assert philox((0xA4093822, 0x299F31D0), [0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344]) == [
    0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1]


def word(key, i, domain=0):
    b = i // 4
    return philox(key, [b & MASK, b >> 32, domain, 0])[i % 4]


def seed_key(seed):
    u = seed % (1 << 64)
    return (u & MASK, u >> 32)


def derive(key, domain, i):
    return (word(key, 2 * i, domain), word(key, 2 * i + 1, domain))


def u(w):
    return (w >> 8) / 2**24


def hexkey(k):
    return "Key(0x%08x, 0x%08x)" % k


k = seed_key(42)
print("key(42)", hexkey(k))
print("key(-1)", hexkey(seed_key(-1)))
print("key(2**40+5)", hexkey(seed_key(2**40 + 5)))
print("split(key(42), 3)", [hexkey(derive(k, 1, i)) for i in range(3)])
print("foldIn(key(42), 7)", hexkey(derive(k, 2, 7)))
print("words", ["0x%08x" % word(k, i) for i in range(6)])
print("uniform", [float(np.float32(u(word(k, i)))) for i in range(6)])
print("uniform[-2,3)", [float(np.float32(-2 + 5 * u(word(k, i)))) for i in range(4)])
normal = []
for i in range(3):
    w1, w2 = word(k, 2 * i), word(k, 2 * i + 1)
    r = math.sqrt(-2 * math.log((w1 + 1) * 2.0**-32))
    t = 2 * math.pi * u(w2)
    normal += [float(np.float32(r * math.cos(t))), float(np.float32(r * math.sin(t)))]
print("normal", normal)
print("bernoulli(0.5)", [1 if u(word(k, i)) < np.float32(0.5) else 0 for i in range(16)])
print("randint[-5,7)", [-5 + (((word(k, 2 * i) << 32) | word(k, 2 * i + 1)) * 12 >> 64) for i in range(8)])
n = 10
perm = list(range(n))
for t in range(n - 1):
    i = n - 1 - t
    x = (word(k, 2 * t) << 32) | word(k, 2 * t + 1)
    j = (x * (i + 1)) >> 64
    perm[i], perm[j] = perm[j], perm[i]
print("permutation(10)", perm)
