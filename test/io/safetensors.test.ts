/** Checkpoints: round trip, an independent Python reader, atomic writes, and rejection of bad files. */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Sequential, Linear, BatchNorm1d, Dropout, Tensor, key, save, load, loadInto, saveTensors, loadTensors } from "../../src/index.js";

const dir = mkdtempSync(join(tmpdir(), "dropout-lab-io-"));
const model = () => new Sequential(new Linear(3, 4, { key: key(1) }), new BatchNorm1d(4), new Dropout(0.5, { key: key(2) }), new Linear(4, 2, { key: key(3) }));

describe("safetensors", () => {
  it("round-trips a model's parameters and buffers with its architecture in __metadata__", () => {
    const a = model();
    (a.layers[1] as BatchNorm1d).runningMean.data.set([1, 2, 3, 4]);
    const path = join(dir, "a.safetensors");
    save(a, path, { note: "test" });
    const ck = load(path);
    expect(ck.metadata).toEqual({ format: "dropout-lab", architecture: a.toString(), note: "test" });
    expect(Object.keys(ck.tensors).sort()).toEqual(Object.keys(a.stateDict()).sort());
    const b = model();
    b.parameters().forEach((p) => p.data.fill(0));
    loadInto(b, path);
    for (const [n, t] of Object.entries(a.stateDict())) expect(b.stateDict()[n]!.data).toEqual(t.data);
    expect(readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  it("is read by an independent reader (Python struct/json/numpy)", () => {
    const path = join(dir, "py.safetensors");
    const w = new Tensor(Float32Array.from([1.5, -2.25, 3e-8, 4e8, 0, -0]), [2, 3]);
    saveTensors(path, { "layer.weight": w, b: new Tensor(Float32Array.from([7]), [1]) }, { arch: "x" });
    const py = `
import json, struct, sys
import numpy as np
raw = open(sys.argv[1], "rb").read()
(n,) = struct.unpack("<Q", raw[:8])
header = json.loads(raw[8:8 + n])
data = raw[8 + n:]
out = {"meta": header.pop("__metadata__")}
for name, e in header.items():
    b, end = e["data_offsets"]
    arr = np.frombuffer(data[b:end], dtype="<f4").reshape(e["shape"])
    out[name] = {"dtype": e["dtype"], "shape": list(arr.shape), "values": [float(v) for v in arr.flatten()]}
print(json.dumps(out))
`;
    const out = JSON.parse(execFileSync("/usr/bin/python3", ["-c", py, path], { encoding: "utf8" }));
    expect(out.meta).toEqual({ arch: "x" });
    expect(out["layer.weight"]).toEqual({ dtype: "F32", shape: [2, 3], values: Array.from(w.data) });
    expect(out.b.values).toEqual([7]);
  });

  it("reads a file written by Python (numpy bytes, hand-made header)", () => {
    const path = join(dir, "from-py.safetensors");
    const py = `
import json, struct, sys
import numpy as np
a = np.arange(6, dtype="<f4").reshape(2, 3) / 4
h = json.dumps({"w": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}}).encode()
open(sys.argv[1], "wb").write(struct.pack("<Q", len(h)) + h + a.tobytes())
`;
    execFileSync("/usr/bin/python3", ["-c", py, path]);
    const ck = loadTensors(path);
    expect(ck.tensors.w!.shape).toEqual([2, 3]);
    expect(Array.from(ck.tensors.w!.data)).toEqual([0, 0.25, 0.5, 0.75, 1, 1.25]);
  });

  it("rejects truncated and corrupt files, naming file and defect, and loads nothing", () => {
    const good = join(dir, "good.safetensors");
    const a = model();
    save(a, good);
    const bytes = readFileSync(good);
    const bad = (name: string, data: Uint8Array) => {
      const p = join(dir, name);
      writeFileSync(p, data);
      return p;
    };
    const cases: [string, Uint8Array, RegExp][] = [
      ["short.safetensors", bytes.subarray(0, 5), /short\.safetensors: truncated: 5 bytes/],
      ["cut.safetensors", bytes.subarray(0, bytes.length - 4), /cut\.safetensors: (truncated|corrupt)/],
      ["header.safetensors", bytes.subarray(0, 40), /header\.safetensors: truncated: header length/],
      ["json.safetensors", (() => { const c = Buffer.from(bytes); c[9] = 0x7b; c[10] = 0x7b; return c; })(), /json\.safetensors: corrupt header/],
      ["extra.safetensors", Buffer.concat([bytes, Buffer.alloc(4)]), /extra\.safetensors: corrupt: 4 bytes after the last tensor/],
    ];
    for (const [name, data, re] of cases) {
      const b = model();
      b.parameters().forEach((p) => p.data.fill(9));
      expect(() => loadInto(b, bad(name, data))).toThrow(re);
      expect(b.parameters().every((p) => p.data.every((v) => v === 9))).toBe(true);
    }
    const f16 = Buffer.from(JSON.stringify({ w: { dtype: "F16", shape: [1], data_offsets: [0, 2] } }));
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(f16.length));
    expect(() => loadTensors(bad("f16.safetensors", Buffer.concat([len, f16, Buffer.alloc(2)])))).toThrow(/f16\.safetensors: tensor "w": dtype "F16" is not supported/);
  });

  it("refuses a checkpoint of another architecture without changing the model", () => {
    const path = join(dir, "arch.safetensors");
    save(model(), path);
    const other = new Sequential(new Linear(3, 4, { key: key(1) }));
    const before = other.parameters()[0]!.data.slice();
    expect(() => loadInto(other, path)).toThrow(/arch\.safetensors: architecture differs/);
    expect(other.parameters()[0]!.data).toEqual(before);
  });

  it("a failed write leaves no file and no temporary behind", () => {
    const path = join(dir, "missing-dir", "x.safetensors");
    expect(() => save(model(), path)).toThrow();
    expect(existsSync(path)).toBe(false);
  });
});
