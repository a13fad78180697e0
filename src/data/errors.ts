/** Errors of the data readers: every one names the file and what is wrong with it. */

/** A defect in a data file: `message` is "<file> <defect>", the defect phrased as a predicate ("is …", "has …"). */
export class DataError extends Error {
  /** The file (path or name) at fault. */
  readonly file: string;
  /** What is wrong, e.g. "is 6,150 bytes, not a multiple of 3,073". */
  readonly defect: string;
  constructor(file: string, defect: string) {
    super(`${file} ${defect}`);
    this.name = "DataError";
    this.file = file;
    this.defect = defect;
  }
}

/** An integer with thousands separators: 6150 → "6,150". */
export function count(n: number): string {
  return n.toLocaleString("en-US");
}
