/**
 * PNG pictures of samples, encoded with pngjs: a 2-D scatter (samples over a faint cloud of
 * reference data) and an image grid (e.g. 28x28 digits).
 */
import { PNG } from 'pngjs';

export interface ScatterOptions {
  size?: number;
  /** reference points drawn first, in grey */
  reference?: Float32Array;
  /** half-width of the square view; default: fitted to the points */
  extent?: number;
}

function blend(png: PNG, x: number, y: number, rgb: [number, number, number], alpha: number): void {
  if (x < 0 || y < 0 || x >= png.width || y >= png.height) return;
  const i = (y * png.width + x) * 4;
  const d = png.data;
  d[i] = Math.round(d[i]! * (1 - alpha) + rgb[0] * alpha);
  d[i + 1] = Math.round(d[i + 1]! * (1 - alpha) + rgb[1] * alpha);
  d[i + 2] = Math.round(d[i + 2]! * (1 - alpha) + rgb[2] * alpha);
}

function dot(png: PNG, cx: number, cy: number, r: number, rgb: [number, number, number], alpha: number): void {
  for (let dy = -r; dy <= r; dy++) for (let dx = -r; dx <= r; dx++) if (dx * dx + dy * dy <= r * r) blend(png, cx + dx, cy + dy, rgb, alpha);
}

/** a 2-D scatter of n x 2 row-major points (1-D data is drawn as a histogram strip) */
export function scatterPng(points: Float32Array, dim: number, opts: ScatterOptions = {}): Buffer {
  const size = opts.size ?? 512;
  const png = new PNG({ width: size, height: size });
  png.data.fill(255);
  const col = (a: Float32Array, i: number, k: number) => (dim === 1 ? (k === 0 ? a[i]! : 0) : a[i * dim + k]!);
  const all = opts.reference ? [points, opts.reference] : [points];
  let ext = opts.extent ?? 0;
  if (!ext) {
    for (const a of all) for (let i = 0; i < a.length / dim; i++) for (let k = 0; k < Math.min(dim, 2); k++) if (Number.isFinite(col(a, i, k))) ext = Math.max(ext, Math.abs(col(a, i, k)));
    ext = ext * 1.08 || 1;
  }
  const px = (v: number) => Math.round(((v + ext) / (2 * ext)) * (size - 1));
  // axes
  for (let i = 0; i < size; i++) {
    blend(png, px(0), i, [200, 200, 210], 1);
    blend(png, i, px(0), [200, 200, 210], 1);
  }
  if (opts.reference) {
    const r = opts.reference;
    for (let i = 0; i < r.length / dim; i++) dot(png, px(col(r, i, 0)), size - 1 - px(col(r, i, 1)), 2, [150, 150, 160], 0.25);
  }
  for (let i = 0; i < points.length / dim; i++) dot(png, px(col(points, i, 0)), size - 1 - px(col(points, i, 1)), 2, [37, 99, 235], 0.7);
  return PNG.sync.write(png);
}

/** a grid of grey images, each `h x w` with values in [0, 1] */
export function imageGridPng(images: Float32Array, h: number, w: number, opts: { cols?: number; scale?: number } = {}): Buffer {
  const n = Math.floor(images.length / (h * w));
  const cols = opts.cols ?? Math.ceil(Math.sqrt(n));
  const rows = Math.ceil(n / cols);
  const s = opts.scale ?? 2;
  const pad = 2;
  const png = new PNG({ width: cols * (w * s + pad) + pad, height: rows * (h * s + pad) + pad });
  png.data.fill(40);
  for (let k = 0; k < n; k++) {
    const ox = pad + (k % cols) * (w * s + pad);
    const oy = pad + Math.floor(k / cols) * (h * s + pad);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const v = Math.round(255 * Math.min(1, Math.max(0, images[k * h * w + y * w + x]!)));
        for (let sy = 0; sy < s; sy++) {
          for (let sx = 0; sx < s; sx++) {
            const i = ((oy + y * s + sy) * png.width + ox + x * s + sx) * 4;
            png.data[i] = png.data[i + 1] = png.data[i + 2] = v;
            png.data[i + 3] = 255;
          }
        }
      }
    }
  }
  return PNG.sync.write(png);
}

/** samples as CSV with a header x0, x1, ... */
export function samplesCsv(data: Float32Array, dim: number): string {
  const lines = [Array.from({ length: dim }, (_, i) => `x${i}`).join(',')];
  for (let i = 0; i < data.length / dim; i++) lines.push(Array.from(data.subarray(i * dim, (i + 1) * dim), (v) => String(Number(v.toPrecision(7)))).join(','));
  return lines.join('\n') + '\n';
}
