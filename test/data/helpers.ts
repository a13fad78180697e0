import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";

/** A fresh temporary directory for fixture files, removed after the test file. */
export function fixtureDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "dropout-lab-data-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
