/**
 * Debian's jupyter_kernel_test suite against the built kernel: installs the kernelspec into a temporary
 * prefix, runs test/kernel/conformance/test_conformance.py with /usr/bin/python3, and requires every test
 * of the suite to pass with none skipped.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { CLI, ROOT } from "../../kernel/client.js";

/** The suite's tests (jupyter_kernel_test 0.4.x): each must be reported "ok". */
const SUITE = [
  "test_clear_output",
  "test_completion",
  "test_display_data",
  "test_error",
  "test_execute_result",
  "test_execute_stderr",
  "test_execute_stdout",
  "test_history",
  "test_inspect",
  "test_is_complete",
  "test_kernel_info",
  "test_pager",
];

it("passes the official kernel conformance suite with every test enabled", { timeout: 240_000 }, async () => {
  const prefix = mkdtempSync(join(tmpdir(), "dl-conformance-"));
  const install = spawnSync(process.execPath, [CLI, "install", "--prefix", prefix], { encoding: "utf8" });
  expect(install.status, install.stderr).toBe(0);

  const child = spawn("/usr/bin/python3", ["-m", "unittest", "-v", "test_conformance"], {
    cwd: join(ROOT, "test", "kernel", "conformance"),
    env: {
      ...process.env,
      JUPYTER_PATH: join(prefix, "share", "jupyter"),
      JUPYTER_DATA_DIR: join(prefix, "data"),
      JUPYTER_RUNTIME_DIR: join(prefix, "runtime"),
      PYTHONDONTWRITEBYTECODE: "1",
    },
  });
  let output = "";
  child.stdout.on("data", (d) => (output += d));
  child.stderr.on("data", (d) => (output += d));
  const status = await new Promise<number | null>((r) => child.once("exit", (code) => r(code)));

  const results = new Map<string, string>();
  for (const m of output.matchAll(/^(test_\w+) \([\w.]+\) \.\.\. (.*)$/gm)) results.set(m[1], m[2].trim());
  expect([...results.keys()].sort(), output).toEqual(SUITE);
  for (const name of SUITE) expect(`${name}: ${results.get(name)}`, output).toBe(`${name}: ok`);
  expect(output).not.toMatch(/skipped/i);
  expect(output).toMatch(/^Ran 12 tests in /m);
  expect(output).toMatch(/^OK$/m);
  expect(status, output).toBe(0);
});
