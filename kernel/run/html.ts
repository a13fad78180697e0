/** `dropout-lab run --html`: an executed notebook to one self-contained HTML page, by Jupyter's nbconvert. */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { packageRoot } from "../root.js";

/** nbconvert on PATH, else Debian's (a version manager's python3 first on PATH may not see Debian's packages). */
function nbconvert(): string {
  for (const dir of (process.env.PATH ?? "").split(":").concat("/usr/bin")) {
    const candidate = join(dir, "jupyter-nbconvert");
    if (dir && existsSync(candidate)) return candidate;
  }
  throw new Error("--html needs Jupyter's nbconvert (`jupyter-nbconvert`; on Debian: apt-get install jupyter-nbconvert)");
}

/** Writes `<notebook without .ipynb>.html` beside the notebook; resolves with its path. */
export function notebookToHtml(notebook: string): string {
  const name = basename(notebook).replace(/\.ipynb$/, "");
  const template = join(packageRoot(), "kernel/run/notebook.html.j2");
  const r = spawnSync(nbconvert(), ["--to", "html", "--template-file", template, "--output", name, "--output-dir", dirname(notebook), notebook], { encoding: "utf8" });
  if (r.error) throw new Error(`nbconvert: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`nbconvert failed on ${notebook}: ${r.stderr.trim().split("\n").at(-1) ?? `exit ${r.status}`}`);
  return join(dirname(notebook), `${name}.html`);
}
