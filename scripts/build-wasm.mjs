// Builds the AssemblyScript kernels in src/backend/assembly/ into build/*.wasm (run by `prepare`).
import { existsSync, mkdirSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const entry = join(root, "src/backend/assembly/index.ts");
if (!existsSync(entry)) {
  console.log("build-wasm: no AssemblyScript sources yet");
  process.exit(0);
}
mkdirSync(join(root, "build"), { recursive: true });
const asc = join(root, "node_modules/assemblyscript/bin/asc.js");
execFileSync(process.execPath, [asc, entry, "-O3", "--enable", "simd", "--outFile", join(root, "build/kernels.wasm")], {
  stdio: "inherit",
});
