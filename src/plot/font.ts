/** A tiny 5×7 bitmap font for PNG labels: digits, ASCII letters and a few symbols. */

// Each glyph: 7 rows (9 with a descender) as two hex digits; bit 4 is the leftmost of 5 columns.
const GLYPHS: Record<string, string> = {
  "0": "0E1113151911 0E", "1": "040C04040404 0E", "2": "0E1101020408 1F", "3": "1F0204020111 0E",
  "4": "02060A121F02 02", "5": "1F101E010111 0E", "6": "0608101E1111 0E", "7": "1F0102040808 08",
  "8": "0E11110E1111 0E", "9": "0E11110F0102 0C",
  A: "0E11111F1111 11", B: "1E11111E1111 1E", C: "0E1110101011 0E", D: "1C1211111112 1C",
  E: "1F10101E1010 1F", F: "1F10101E1010 10", G: "0E1110171111 0F", H: "1111111F1111 11",
  I: "0E0404040404 0E", J: "070202020212 0C", K: "111214181412 11", L: "101010101010 1F",
  M: "111B15151111 11", N: "111119151311 11", O: "0E1111111111 0E", P: "1E11111E1010 10",
  Q: "0E1111111512 0D", R: "1E11111E1412 11", S: "0F10100E0101 1E", T: "1F0404040404 04",
  U: "111111111111 0E", V: "11111111110A 04", W: "111111151515 0A", X: "11110A040A11 11",
  Y: "11110A040404 04", Z: "1F0102040810 1F",
  a: "00000E010F11 0F", b: "101016191111 1E", c: "00000E101011 0E", d: "01010D131111 0F",
  e: "00000E111F10 0E", f: "0609081C0808 08", g: "00000F1111110F010E", h: "101016191111 11",
  i: "04000C040404 0E", j: "0200060202020212 0C", k: "101012141814 12", l: "0C0404040404 0E",
  m: "00001A151511 11", n: "000016191111 11", o: "00000E111111 0E", p: "00001E1111111E1010",
  q: "00000F1111110F0101", r: "000016191010 10", s: "00000E100E01 1E", t: "08081C080809 06",
  u: "000011111113 0D", v: "00001111110A 04", w: "000011111515 0A", x: "0000110A040A 11",
  y: "000011111111 0F010E", z: "00001F020408 1F",
  " ": "000000000000 00", ".": "000000000C0C 00", ",": "0000000000000C0408", "-": "0000001F0000 00",
  "+": "0004041F0404 00", ":": "000C0C000C0C 00", "=": "00001F001F00 00", "(": "020408080804 02",
  ")": "080402020204 08", "[": "0E0808080808 0E", "]": "0E0202020202 0E", "/": "000102040810 00",
  "%": "181902040813 03", "×": "00110A040A11 00", _: "000000000000 1F", "'": "040408000000 00",
  "#": "0A0A1F0A1F0A 0A", "?": "0E1101020400 04", "!": "040404040400 04", "<": "020408100804 02",
  ">": "080402010204 08", "±": "04041F040400 1F", "|": "040404040404 04", "μ": "0000111111131D1010",
};

const ROWS: Record<string, number[]> = {};
for (const [ch, hexRows] of Object.entries(GLYPHS)) {
  const h = hexRows.replace(/ /g, "");
  ROWS[ch] = Array.from({ length: h.length / 2 }, (_, i) => parseInt(h.slice(2 * i, 2 * i + 2), 16));
}

export const GLYPH_W = 5;
/** Line height: 7 rows above the baseline and 2 for descenders. */
export const GLYPH_H = 9;
/** Horizontal advance per character (glyph plus one column of space), in font pixels. */
export const ADVANCE = 6;

/** The row bitmaps (7, or 9 with a descender) of a character; unknown characters draw as "?". */
export function glyph(ch: string): number[] {
  return ROWS[ch] ?? ROWS["?"];
}

export function textWidth(s: string, scale: number): number {
  return Math.max(0, [...s].length * ADVANCE - 1) * scale;
}
