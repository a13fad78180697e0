// Builds the AssemblyScript kernels in src/backend/assembly/ into build/simd.wasm and build/relaxed.wasm
// (the same sources; the second uses relaxed-SIMD fused multiply-add). Run by `npm run build` / `prepare`.
import { mkdirSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const entry = join(root, "src/backend/assembly/index.ts");
const asc = join(root, "node_modules/assemblyscript/bin/asc.js");
mkdirSync(join(root, "build"), { recursive: true });
// Imported shared memory up to 4 GiB (wasm32's limit; reserved, not committed); static data from 4 KiB so
// the first page's head can hold the worker pool's control block.
const common = [
  entry, "-O3", "--noAssert", "--runtime", "stub", "--importMemory", "--sharedMemory",
  "--initialMemory", "2", "--maximumMemory", "65536", "--memoryBase", "4096",
];
for (const [name, features] of [["simd", "simd,threads"], ["relaxed", "simd,threads,relaxed-simd"]]) {
  execFileSync(process.execPath, [asc, ...common, "--enable", features, "--outFile", join(root, `build/${name}.wasm`)], {
    stdio: "inherit",
  });
}
