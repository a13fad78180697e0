/** The kernelspec `dropout-lab`: kernel.json plus two logos drawn here and encoded as PNG with node:zlib. */
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { crc32, deflateSync } from "node:zlib";
import { jupyterDataDir } from "./history.js";

export const KERNEL_NAME = "dropout-lab";

export type InstallTarget = { kind: "user" } | { kind: "sys-prefix" } | { kind: "prefix"; dir: string };

/** The kernel.json this install writes: argv runs this very node and this very entry point. */
export function kernelJson(entry = fileURLToPath(new URL("./cli.js", import.meta.url))): Record<string, unknown> {
  const version: string = createRequire(import.meta.url)("dropout-lab/package.json").version;
  return {
    argv: [process.execPath, entry, "kernel", "-f", "{connection_file}"],
    display_name: "TypeScript (dropout-lab)",
    language: "typescript",
    interrupt_mode: "signal",
    metadata: { debugger: false, dropout_lab: { version, node: process.versions.node } },
  };
}

/** Python's sys.prefix for --sys-prefix: the active virtualenv or conda env, else the first python3's. */
function sysPrefix(): string {
  const env = process.env.VIRTUAL_ENV || process.env.CONDA_PREFIX;
  if (env) return env;
  try {
    return execFileSync("python3", ["-c", "import sys; print(sys.prefix)"], { encoding: "utf8" }).trim();
  } catch {
    throw new Error("--sys-prefix: no VIRTUAL_ENV or CONDA_PREFIX, and python3 could not be asked for sys.prefix");
  }
}

export function kernelsDir(target: InstallTarget): string {
  switch (target.kind) {
    case "user":
      return join(jupyterDataDir(), "kernels");
    case "sys-prefix":
      return join(sysPrefix(), "share", "jupyter", "kernels");
    case "prefix":
      return join(resolve(target.dir), "share", "jupyter", "kernels");
  }
}

/** Writes the kernelspec directory and returns its path. */
export function installKernelspec(target: InstallTarget): string {
  const dir = join(kernelsDir(target), KERNEL_NAME);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "kernel.json"), JSON.stringify(kernelJson(), null, 2) + "\n");
  for (const size of [32, 64]) writeFileSync(join(dir, `logo-${size}x${size}.png`), logoPng(size));
  return dir;
}

/**
 * The mark: a rounded indigo tile holding a 3×3 grid of units, three of them dropped (hollow rings).
 * Each pixel is 4×4 supersampled for smooth edges.
 */
export function logoPixels(size: number): Uint8Array {
  const rgba = new Uint8Array(size * size * 4);
  const dropped = new Set([1, 5, 6]);
  const tile = [63, 81, 181];
  const unit = [255, 255, 255];
  const n = 4;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let inTile = 0;
      let inUnit = 0;
      for (let sy = 0; sy < n; sy++) {
        for (let sx = 0; sx < n; sx++) {
          const u = (x + (sx + 0.5) / n) / size;
          const v = (y + (sy + 0.5) / n) / size;
          const r = 0.18;
          const dx = Math.max(r - u, 0, u - (1 - r));
          const dy = Math.max(r - v, 0, v - (1 - r));
          if (dx * dx + dy * dy > r * r) continue;
          inTile++;
          const col = Math.min(2, Math.floor(u * 3));
          const row = Math.min(2, Math.floor(v * 3));
          const d = Math.hypot(u - (col + 0.5) / 3, v - (row + 0.5) / 3);
          const ring = dropped.has(row * 3 + col);
          if (ring ? d < 0.11 && d > 0.075 : d < 0.11) inUnit++;
        }
      }
      const o = (y * size + x) * 4;
      const t = inUnit / inTile || 0;
      for (let c = 0; c < 3; c++) rgba[o + c] = Math.round(tile[c] * (1 - t) + unit[c] * t);
      rgba[o + 3] = Math.round((255 * inTile) / (n * n));
    }
  }
  return rgba;
}

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, "latin1");
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
  return Buffer.concat([head, data, crc]);
}

/** An 8-bit RGBA PNG of the logo. */
export function logoPng(size: number): Buffer {
  const pixels = logoPixels(size);
  const raw = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) {
    raw[y * (size * 4 + 1)] = 0;
    raw.set(pixels.subarray(y * size * 4, (y + 1) * size * 4), y * (size * 4 + 1) + 1);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr.set([8, 6, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", deflateSync(raw)),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}
