/** Small SVG/XML builder: every text and attribute value goes through `escapeXml`. */

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" })[c]!)
    // characters XML 1.0 forbids
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, "");
}

/** A coordinate rounded to one decimal, without a trailing ".0". */
export function r1(v: number): string {
  const s = (Math.round(v * 10) / 10).toString();
  return s === "-0" ? "0" : s;
}

export type Attrs = Record<string, string | number | undefined>;

function attrs(a: Attrs): string {
  let s = "";
  for (const [k, v] of Object.entries(a)) {
    if (v === undefined) continue;
    s += ` ${k}="${escapeXml(typeof v === "number" ? r1(v) : v)}"`;
  }
  return s;
}

/** An element; `children` are already-built markup strings. */
export function el(tag: string, a: Attrs = {}, ...children: string[]): string {
  return children.length ? `<${tag}${attrs(a)}>${children.join("")}</${tag}>` : `<${tag}${attrs(a)}/>`;
}

/** A text element with escaped content. */
export function text(x: number, y: number, content: string, a: Attrs = {}): string {
  return `<text${attrs({ x, y, ...a })}>${escapeXml(content)}</text>`;
}

/** Path data through points, coordinates rounded to 0.1 px; a non-finite point breaks the line.
 * After "M", further coordinate pairs are implicit line-tos, which keeps the path short. */
export function pathData(xs: ArrayLike<number>, ys: ArrayLike<number>): string {
  let d = "";
  let pen = false;
  for (let i = 0; i < xs.length; i++) {
    if (!Number.isFinite(xs[i]) || !Number.isFinite(ys[i])) { pen = false; continue; }
    d += `${pen ? " " : "M"}${r1(xs[i])} ${r1(ys[i])}`;
    pen = true;
  }
  return d;
}

/** Like `pathData` but with relative moves ("l"), computed from rounded absolute positions so no error
 * accumulates: shorter for long, dense curves. */
export function pathDataRel(xs: ArrayLike<number>, ys: ArrayLike<number>): string {
  const num = (tenths: number) => {
    const s = (tenths / 10).toString();
    return s.startsWith("0.") ? s.slice(1) : s.startsWith("-0.") ? "-" + s.slice(2) : s;
  };
  let d = "";
  let px = 0, py = 0, pen = false;
  for (let i = 0; i < xs.length; i++) {
    if (!Number.isFinite(xs[i]) || !Number.isFinite(ys[i])) { pen = false; continue; }
    const X = Math.round(xs[i] * 10), Y = Math.round(ys[i] * 10);
    if (!pen) d += `M${num(X)} ${num(Y)}l`;
    else {
      const a = num(X - px), b = num(Y - py);
      d += (d.endsWith("l") || a.startsWith("-") ? "" : " ") + a + (b.startsWith("-") ? "" : " ") + b;
    }
    px = X; py = Y; pen = true;
  }
  return d.replace(/l(?=M|$)/g, "");
}

export const FONT = "DejaVu Sans, Helvetica, Arial, sans-serif";

/** The root element: an explicit background so the plot reads the same in light and dark themes. */
export function svgDoc(width: number, height: number, body: string[], title?: string): string {
  return el(
    "svg",
    {
      xmlns: "http://www.w3.org/2000/svg",
      width: Math.round(width),
      height: Math.round(height),
      viewBox: `0 0 ${Math.round(width)} ${Math.round(height)}`,
      "font-family": FONT,
      "font-size": 12,
      fill: "#222",
    },
    title ? el("title", {}, escapeXml(title)) : "",
    el("rect", { width: "100%", height: "100%", fill: "#fff" }),
    ...body,
  );
}
