/**
 * A small PNG line plot, written with node's zlib only (no packages): panels side by side, each with
 * its axes, a title and the largest values of both axes in a 5×7 bitmap font, and one or two series
 * drawn as lines with a dot at each point.
 */
import { crc32 as zlibCrc32, deflateSync } from 'node:zlib';

export interface Series {
  name: string;
  color: [number, number, number];
  points: Array<[number, number]>;
}

export interface Panel {
  title: string;
  series: Series[];
}

// 5×7 glyphs, one row per string (bit 4 = leftmost column)
const FONT: Record<string, number[]> = {
  A: [14, 17, 17, 31, 17, 17, 17], B: [30, 17, 17, 30, 17, 17, 30], C: [14, 17, 16, 16, 16, 17, 14], D: [30, 17, 17, 17, 17, 17, 30],
  E: [31, 16, 16, 30, 16, 16, 31], F: [31, 16, 16, 30, 16, 16, 16], G: [14, 17, 16, 23, 17, 17, 15], H: [17, 17, 17, 31, 17, 17, 17],
  I: [14, 4, 4, 4, 4, 4, 14], J: [7, 2, 2, 2, 2, 18, 12], K: [17, 18, 20, 24, 20, 18, 17], L: [16, 16, 16, 16, 16, 16, 31],
  M: [17, 27, 21, 21, 17, 17, 17], N: [17, 17, 25, 21, 19, 17, 17], O: [14, 17, 17, 17, 17, 17, 14], P: [30, 17, 17, 30, 16, 16, 16],
  Q: [14, 17, 17, 17, 21, 18, 13], R: [30, 17, 17, 30, 20, 18, 17], S: [15, 16, 16, 14, 1, 1, 30], T: [31, 4, 4, 4, 4, 4, 4],
  U: [17, 17, 17, 17, 17, 17, 14], V: [17, 17, 17, 17, 17, 10, 4], W: [17, 17, 17, 21, 21, 21, 10], X: [17, 17, 10, 4, 10, 17, 17],
  Y: [17, 17, 10, 4, 4, 4, 4], Z: [31, 1, 2, 4, 8, 16, 31],
  '0': [14, 17, 19, 21, 25, 17, 14], '1': [4, 12, 4, 4, 4, 4, 14], '2': [14, 17, 1, 2, 4, 8, 31], '3': [31, 2, 4, 2, 1, 17, 14],
  '4': [2, 6, 10, 18, 31, 2, 2], '5': [31, 16, 30, 1, 1, 17, 14], '6': [6, 8, 16, 30, 17, 17, 14], '7': [31, 1, 2, 4, 8, 8, 8],
  '8': [14, 17, 17, 14, 17, 17, 14], '9': [14, 17, 17, 15, 1, 2, 12],
  ' ': [0, 0, 0, 0, 0, 0, 0], '.': [0, 0, 0, 0, 0, 12, 12], '/': [0, 1, 2, 4, 8, 16, 0], '-': [0, 0, 0, 31, 0, 0, 0],
  '(': [2, 4, 8, 8, 8, 4, 2], ')': [8, 4, 2, 2, 2, 4, 8], ',': [0, 0, 0, 0, 12, 4, 8], ':': [0, 12, 12, 0, 12, 12, 0],
};

class Canvas {
  readonly pixels: Buffer;
  constructor(readonly width: number, readonly height: number) {
    this.pixels = Buffer.alloc(width * height * 3, 255);
  }
  set(x: number, y: number, [r, g, b]: [number, number, number]): void {
    x = Math.round(x);
    y = Math.round(y);
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    const i = (y * this.width + x) * 3;
    this.pixels[i] = r;
    this.pixels[i + 1] = g;
    this.pixels[i + 2] = b;
  }
  line(x0: number, y0: number, x1: number, y1: number, c: [number, number, number], thick = 1): void {
    const steps = Math.max(1, Math.ceil(Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0))));
    for (let s = 0; s <= steps; s++) {
      const x = x0 + ((x1 - x0) * s) / steps;
      const y = y0 + ((y1 - y0) * s) / steps;
      for (let dx = 0; dx < thick; dx++) for (let dy = 0; dy < thick; dy++) this.set(x + dx, y + dy, c);
    }
  }
  dot(x: number, y: number, c: [number, number, number]): void {
    for (let dx = -2; dx <= 2; dx++) for (let dy = -2; dy <= 2; dy++) this.set(x + dx, y + dy, c);
  }
  text(x: number, y: number, s: string, c: [number, number, number] = [0, 0, 0]): void {
    for (const ch of s.toUpperCase()) {
      const glyph = FONT[ch] ?? FONT[' ']!;
      glyph.forEach((row, gy) => {
        for (let gx = 0; gx < 5; gx++) if (row & (16 >> gx)) this.set(x + gx, y + gy, c);
      });
      x += 6;
    }
  }
}

const short = (v: number) => (v >= 10_000 ? `${Math.round(v / 1000)}K` : v >= 1000 ? `${(v / 1000).toFixed(1)}K` : v >= 10 ? String(Math.round(v)) : v.toFixed(1));

function crc32(data: Buffer): number {
  if (typeof zlibCrc32 === 'function') return zlibCrc32(data);
  let c = ~0;
  for (const byte of data) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
  return Buffer.concat([head, data, crc]);
}

/** Encodes 8-bit RGB pixels as a PNG (filter 0 on every row, one IDAT). */
export function encodePng(width: number, height: number, rgb: Buffer): Buffer {
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) rgb.copy(raw, y * (width * 3 + 1) + 1, y * width * 3, (y + 1) * width * 3);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type: RGB
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

/** Panels side by side; x and y axes from 0 to the largest value of the panel. */
export function plotPanels(panels: Panel[], xLabel: string): Buffer {
  const pw = 300;
  const ph = 240;
  const canvas = new Canvas(pw * panels.length, ph);
  panels.forEach((panel, p) => {
    const ox = p * pw;
    const left = ox + 44;
    const right = ox + pw - 14;
    const top = 40;
    const bottom = ph - 34;
    canvas.text(ox + 10, 8, panel.title);
    const all = panel.series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    const xMax = Math.max(1, ...all.map(([x]) => x));
    const yMax = Math.max(1e-9, ...all.map(([, y]) => y)) * 1.1;
    canvas.line(left, top, left, bottom, [0, 0, 0]);
    canvas.line(left, bottom, right, bottom, [0, 0, 0]);
    for (let t = 1; t <= 4; t++) {
      const y = bottom - ((bottom - top) * t) / 4;
      canvas.line(left + 1, y, right, y, [225, 225, 225]);
    }
    canvas.text(ox + 4, top - 3, short(yMax));
    canvas.text(ox + 4, bottom - 3, '0');
    canvas.text(right - 6 * short(xMax).length, bottom + 6, short(xMax));
    canvas.text(left, bottom + 18, xLabel);
    panel.series.forEach((s, k) => {
      canvas.text(ox + 10, 20 + k * 9, s.name, s.color);
      const pts = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)).map(([x, y]) => [left + ((right - left) * x) / xMax, bottom - ((bottom - top) * y) / yMax] as const);
      for (let i = 1; i < pts.length; i++) canvas.line(pts[i - 1]![0], pts[i - 1]![1], pts[i]![0], pts[i]![1], s.color, 2);
      for (const [x, y] of pts) canvas.dot(x, y, s.color);
    });
  });
  return encodePng(canvas.width, canvas.height, canvas.pixels);
}
