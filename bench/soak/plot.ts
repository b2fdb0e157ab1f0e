/**
 * The soak's plot: one PNG of stacked panels (one per series, time on the x axis, red lines at
 * the run's events), written without a plotting library — a raster, a 3×5 pixel font for the
 * labels, and a PNG encoder over node:zlib — so the bench runs anywhere Bun does.
 *   bun run bench/soak/plot.ts SAMPLES.jsonl OUT.png
 * @module
 */
import { Buffer } from "node:buffer";
import { readFileSync, writeFileSync } from "node:fs";
import { deflateSync } from "node:zlib";

/** One panel: a label (A–Z, 0–9, space, /, ., -) and the y value of each sample. */
export interface Series {
  readonly label: string;
  readonly values: readonly number[];
}

/** Events drawn as vertical lines across every panel. */
export interface Marker {
  readonly atS: number;
  readonly label: string;
}

const W = 900;
const PANEL_H = 110;
const PAD = 8;
const SCALE = 2;

// 3×5 glyphs, rows top to bottom separated by "|", "#" = ink.
const GLYPHS: Record<string, string> = {
  "0": "###|#.#|#.#|#.#|###", "1": ".#.|##.|.#.|.#.|###", "2": "###|..#|###|#..|###", "3": "###|..#|###|..#|###", "4": "#.#|#.#|###|..#|..#",
  "5": "###|#..|###|..#|###", "6": "###|#..|###|#.#|###", "7": "###|..#|..#|..#|..#", "8": "###|#.#|###|#.#|###", "9": "###|#.#|###|..#|###",
  "A": ".#.|#.#|###|#.#|#.#", "B": "##.|#.#|##.|#.#|##.", "C": "###|#..|#..|#..|###", "D": "##.|#.#|#.#|#.#|##.", "E": "###|#..|##.|#..|###",
  "F": "###|#..|##.|#..|#..", "G": "###|#..|#.#|#.#|###", "H": "#.#|#.#|###|#.#|#.#", "I": "###|.#.|.#.|.#.|###", "J": "..#|..#|..#|#.#|###", "K": "#.#|#.#|##.|#.#|#.#",
  "L": "#..|#..|#..|#..|###", "M": "#.#|###|###|#.#|#.#", "N": "##.|#.#|#.#|#.#|#.#", "O": "###|#.#|#.#|#.#|###", "P": "###|#.#|###|#..|#..",
  "R": "##.|#.#|##.|#.#|#.#", "S": "###|#..|###|..#|###", "T": "###|.#.|.#.|.#.|.#.", "U": "#.#|#.#|#.#|#.#|###", "V": "#.#|#.#|#.#|#.#|.#.",
  "W": "#.#|#.#|###|###|#.#", "X": "#.#|#.#|.#.|#.#|#.#", "Y": "#.#|#.#|.#.|.#.|.#.", " ": "...|...|...|...|...", "/": "..#|..#|.#.|#..|#..",
  ".": "...|...|...|...|.#.", "-": "...|...|###|...|...",
};

class Raster {
  readonly pixels: Uint8Array;
  constructor(readonly width: number, readonly height: number) {
    this.pixels = new Uint8Array(width * height * 3).fill(255);
  }

  set(x: number, y: number, rgb: readonly [number, number, number]): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    const i = (Math.round(y) * this.width + Math.round(x)) * 3;
    this.pixels.set(rgb, i);
  }

  line(x0: number, y0: number, x1: number, y1: number, rgb: readonly [number, number, number]): void {
    const steps = Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0), 1);
    for (let s = 0; s <= steps; s++) this.set(x0 + ((x1 - x0) * s) / steps, y0 + ((y1 - y0) * s) / steps, rgb);
  }

  text(x: number, y: number, text: string, rgb: readonly [number, number, number]): void {
    for (const [n, ch] of [...text.toUpperCase()].entries()) {
      const glyph = (GLYPHS[ch] ?? GLYPHS[" "]).replaceAll("|", "");
      for (let i = 0; i < 15; i++) {
        if (glyph[i] !== "#") continue;
        for (let dy = 0; dy < SCALE; dy++) for (let dx = 0; dx < SCALE; dx++) this.set(x + n * 4 * SCALE + (i % 3) * SCALE + dx, y + Math.floor(i / 3) * SCALE + dy, rgb);
      }
    }
  }
}

function crc32(bytes: Uint8Array): number {
  let crc = ~0;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return ~crc >>> 0;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  out.set(new TextEncoder().encode(type), 4);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** An 8-bit RGB PNG of `raster` (filter 0 on every row). */
function encodePng(raster: Raster): Uint8Array {
  const rows = new Uint8Array((raster.width * 3 + 1) * raster.height);
  for (let y = 0; y < raster.height; y++) rows.set(raster.pixels.subarray(y * raster.width * 3, (y + 1) * raster.width * 3), y * (raster.width * 3 + 1) + 1);
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, raster.width);
  view.setUint32(4, raster.height);
  header.set([8, 2, 0, 0, 0], 8);
  const parts = [new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10]), chunk("IHDR", header), chunk("IDAT", deflateSync(rows)), chunk("IEND", new Uint8Array())];
  return Buffer.concat(parts);
}

const fmt = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(1));

/** Draws `series` against `times` (seconds) with `markers`, one panel each, as PNG bytes. */
export function plotPng(times: readonly number[], series: readonly Series[], markers: readonly Marker[]): Uint8Array {
  const raster = new Raster(W, series.length * PANEL_H + 24);
  const t0 = times[0] ?? 0;
  const t1 = Math.max(times.at(-1) ?? 1, t0 + 1);
  const left = 70;
  const right = W - PAD;
  const xOf = (t: number) => left + ((t - t0) / (t1 - t0)) * (right - left);
  series.forEach((s, p) => {
    const top = p * PANEL_H + PAD + 14;
    const bottom = (p + 1) * PANEL_H - 2;
    const finite = s.values.filter(Number.isFinite);
    const min = Math.min(0, ...finite);
    const max = Math.max(...finite, min + 1e-9) * 1.05;
    const yOf = (v: number) => bottom - ((v - min) / (max - min)) * (bottom - top);
    raster.text(left, p * PANEL_H + PAD, `${s.label}  MAX ${fmt(Math.max(...finite))}  LAST ${fmt(finite.at(-1) ?? 0)}`, [0, 0, 0]);
    raster.text(4, top, fmt(max), [90, 90, 90]);
    raster.text(4, bottom - 10, fmt(min), [90, 90, 90]);
    raster.line(left, bottom, right, bottom, [160, 160, 160]);
    raster.line(left, top, left, bottom, [160, 160, 160]);
    for (const m of markers) raster.line(xOf(m.atS), top, xOf(m.atS), bottom, [220, 40, 40]);
    for (let i = 1; i < times.length; i++) {
      if (!Number.isFinite(s.values[i - 1]) || !Number.isFinite(s.values[i])) continue;
      raster.line(xOf(times[i - 1]), yOf(s.values[i - 1]), xOf(times[i]), yOf(s.values[i]), [20, 60, 200]);
    }
  });
  // The time axis: minutes at the start, middle and end.
  const axisY = series.length * PANEL_H + 6;
  for (const t of [t0, (t0 + t1) / 2, t1]) raster.text(Math.min(xOf(t), right - 60), axisY, `${fmt(t / 60)} MIN`, [0, 0, 0]);
  markers.forEach((m, i) => raster.text(xOf(m.atS) + 4, PAD + 14 + i * 12, m.label, [220, 40, 40]));
  return encodePng(raster);
}

/** The panels of a soak file: RSS, heap, lag, fds, Valkey memory and decisions degraded per interval. */
export function soakPlot(lines: readonly Record<string, unknown>[]): Uint8Array {
  const samples = lines.filter((l) => l.event === undefined) as Record<string, number>[];
  const markers = lines.filter((l) => l.event !== undefined).map((l) => ({ atS: Number(l.atS), label: String(l.event) }));
  const pick = (f: (s: Record<string, number>) => number) => samples.map(f);
  const perInterval = (name: string) => samples.map((s, i) => (i === 0 ? 0 : (s[name] ?? 0) - (samples[i - 1][name] ?? 0)));
  const series: Series[] = [
    { label: "AGENT RSS MIB", values: pick((s) => s.rssKiB / 1024) },
    { label: "JS HEAP MIB", values: pick((s) => s.heapBytes / 1_048_576) },
    { label: "EVENT LOOP LAG MS", values: pick((s) => s.lagMs) },
    { label: "OPEN FDS", values: pick((s) => s.fds ?? Number.NaN) },
    { label: "VALKEY USED MIB", values: pick((s) => (s.valkeyUsedBytes ?? Number.NaN) / 1_048_576) },
    { label: "DEGRADED PER SAMPLE", values: perInterval("degraded") },
  ];
  return plotPng(pick((s) => s.atS), series, markers);
}

if (import.meta.main) {
  const [input, output] = process.argv.slice(2);
  if (!input || !output) throw new Error("usage: bun run bench/soak/plot.ts SAMPLES.jsonl OUT.png");
  const lines = readFileSync(input, "utf8").split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l) as Record<string, unknown>);
  writeFileSync(output, soakPlot(lines));
}
