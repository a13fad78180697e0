// The fused LSTM cell with its masks (recurrent dropout, zoneout, variational): every backend against the
// scalar reference, bit for bit, and the masks' meaning checked against the unmasked cell.
import { afterAll, describe, expect, it } from "vitest";
import * as B from "../../src/backend/index.js";
import * as R from "../../src/backend/reference.js";
import { bitDiff, data } from "./helpers.js";

afterAll(() => B.shutdown());

/** A 0/1 mask with about a third ones, or scaled values 0 / s. */
function mask(n: number, seed: number, s = 1): Float32Array {
  return data(n, seed).map((v) => (v < -1 / 3 ? s : 0));
}

for (const name of B.availableBackends()) {
  describe(`backend ${name}`, () => {
    it("forward and backward with every mask are bit-identical to the reference, on 1 and 2 threads", () => {
      for (const threads of [1, 2]) {
        B.useBackend(name, threads);
        for (const [batch, hidden] of [[1, 4], [3, 3], [17, 8], [130, 128]] as const) {
          const n = batch * hidden;
          const gates = data(4 * n, 1).map((v) => v * 12), cPrev = data(n, 2), hPrev = data(n, 3);
          const m = { g: mask(n, 4, 1 / 0.7), zc: mask(n, 5), zh: mask(n, 6), v: mask(n, 7, 2) };
          const outs = () => ({ c: new Float32Array(n), h: new Float32Array(n), act: new Float32Array(4 * n), cOut: new Float32Array(n), hm: new Float32Array(n) });
          const want = outs(), got = outs();
          R.lstmForward(gates, cPrev, want.c, want.h, want.act, batch, hidden, { ...m, cOut: want.cOut, hPrev, hm: want.hm });
          B.lstmForward(gates, cPrev, got.c, got.h, got.act, batch, hidden, { ...m, cOut: got.cOut, hPrev, hm: got.hm });
          for (const k of ["c", "h", "act", "cOut", "hm"] as const) expect(bitDiff(want[k], got[k]), `${name} ${threads}t ${batch}×${hidden} forward ${k}`).toEqual([]);
          const dh = data(n, 8), dc = data(n, 9), dhm = data(n, 10);
          const grads = () => ({ dGates: new Float32Array(4 * n), dcPrev: new Float32Array(n), dhPrev: new Float32Array(n) });
          const wb = grads(), gb = grads();
          R.lstmBackward(want.act, cPrev, want.c, dh, dc, wb.dGates, wb.dcPrev, batch, hidden, { ...m, dhPrev: wb.dhPrev, dhm });
          B.lstmBackward(got.act, cPrev, got.c, dh, dc, gb.dGates, gb.dcPrev, batch, hidden, { ...m, dhPrev: gb.dhPrev, dhm });
          for (const k of ["dGates", "dcPrev", "dhPrev"] as const) expect(bitDiff(wb[k], gb[k]), `${name} ${threads}t ${batch}×${hidden} backward ${k}`).toEqual([]);
        }
      }
    });

    it("zoneout selects the previous or the new state and splits the gradient the same way", () => {
      B.useBackend(name, 2);
      const [batch, hidden] = [5, 8];
      const n = batch * hidden;
      const gates = data(4 * n, 11), cPrev = data(n, 12), hPrev = data(n, 13);
      const zc = mask(n, 14), zh = mask(n, 15);
      const plain = { c: new Float32Array(n), h: new Float32Array(n), act: new Float32Array(4 * n) };
      B.lstmForward(gates, cPrev, plain.c, plain.h, plain.act, batch, hidden);
      const c = new Float32Array(n), h = new Float32Array(n), act = new Float32Array(4 * n), cOut = new Float32Array(n);
      B.lstmForward(gates, cPrev, c, h, act, batch, hidden, { zc, cOut, zh, hPrev });
      expect(c).toEqual(plain.c);
      for (let k = 0; k < n; k++) {
        expect(cOut[k]).toBe(zc[k] === 1 ? cPrev[k] : plain.c[k]);
        expect(h[k]).toBe(zh[k] === 1 ? hPrev[k] : plain.h[k]);
      }
      // The backward equals the plain backward given the gradients that reach the new h and c.
      const dh = data(n, 16), dc = data(n, 17);
      const dGates = new Float32Array(4 * n), dcPrev = new Float32Array(n), dhPrev = new Float32Array(n);
      B.lstmBackward(act, cPrev, c, dh, dc, dGates, dcPrev, batch, hidden, { zc, zh, dhPrev });
      const dhNew = dh.map((v, k) => (zh[k] === 1 ? 0 : v)), dcNew = dc.map((v, k) => (zc[k] === 1 ? 0 : v));
      const pGates = new Float32Array(4 * n), pcPrev = new Float32Array(n);
      B.lstmBackward(act, cPrev, c, dhNew, dcNew, pGates, pcPrev, batch, hidden);
      expect(dGates).toEqual(pGates);
      for (let k = 0; k < n; k++) {
        expect(dhPrev[k]).toBe(zh[k] === 1 ? dh[k] : 0);
        expect(dcPrev[k]).toBe(Math.fround(pcPrev[k]! + (zc[k] === 1 ? dc[k]! : 0)));
      }
    });

    it("rejects a zoneout mask without its companion array", () => {
      const n = 4;
      const a = () => new Float32Array(n);
      expect(() => B.lstmForward(new Float32Array(4 * n), a(), a(), a(), new Float32Array(4 * n), 1, 4, { zh: a() })).toThrow(/zh needs hPrev/);
      expect(() => B.lstmBackward(new Float32Array(4 * n), a(), a(), a(), a(), new Float32Array(4 * n), a(), 1, 4, { v: a() })).toThrow(/v needs dhm/);
    });
  });
}
