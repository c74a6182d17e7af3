/**
 * Live samples on a canvas: 2-D points over a faint cloud of the training data, a
 * histogram for 1-D data, or an image grid for 784-dim (28x28) samples.
 */
import { useEffect, useMemo, useRef } from 'react';
import { Rng } from '../../src-main/data/rng';
import { isToyName, sampleToy, TOY_DIMS } from '../../src-main/data/toy';
import type { SampleSet } from '../model/training';
import { cssVar, useLookKey } from './look';

const cloudCache = new Map<string, Float32Array>();
function dataCloud(name: string | undefined): Float32Array | null {
  if (!name || !isToyName(name) || TOY_DIMS[name] !== 2) return null;
  let c = cloudCache.get(name);
  if (!c) {
    c = sampleToy(name, 3000, new Rng(12345));
    cloudCache.set(name, c);
  }
  return c;
}

function extent(pts: ArrayLike<number>, dim: number): [number, number, number, number] {
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (let i = 0; i + dim - 1 < pts.length; i += dim) {
    const x = pts[i]!, y = pts[i + 1]!;
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    if (x < x0) x0 = x;
    if (x > x1) x1 = x;
    if (y < y0) y0 = y;
    if (y > y1) y1 = y;
  }
  return [x0, x1, y0, y1];
}

function drawScatter(ctx: CanvasRenderingContext2D, w: number, h: number, s: SampleSet, dataset?: string) {
  const cloud = dataCloud(dataset);
  const dim = s.shape.slice(1).reduce((a, b) => a * b, 1);
  let [x0, x1, y0, y1] = cloud ? extent(cloud, 2) : extent(s.data, dim);
  if (!Number.isFinite(x0)) [x0, x1, y0, y1] = [-1, 1, -1, 1];
  if (cloud) {
    // let samples widen the view a little, never explode it
    const [sx0, sx1, sy0, sy1] = extent(s.data, dim);
    const wx = x1 - x0, wy = y1 - y0;
    x0 = Math.max(Math.min(x0, sx0), x0 - wx * 0.5);
    x1 = Math.min(Math.max(x1, sx1), x1 + wx * 0.5);
    y0 = Math.max(Math.min(y0, sy0), y0 - wy * 0.5);
    y1 = Math.min(Math.max(y1, sy1), y1 + wy * 0.5);
  }
  const span = Math.max(x1 - x0, y1 - y0) * 1.1 || 1;
  const cx = (x0 + x1) / 2, cy = (y0 + y1) / 2;
  const scale = Math.min(w, h) / span;
  const px = (x: number) => w / 2 + (x - cx) * scale;
  const py = (y: number) => h / 2 - (y - cy) * scale;
  // axes through the origin
  ctx.strokeStyle = cssVar('--samples-axis', '#273042');
  ctx.lineWidth = 1;
  ctx.beginPath();
  ctx.moveTo(px(0), 0);
  ctx.lineTo(px(0), h);
  ctx.moveTo(0, py(0));
  ctx.lineTo(w, py(0));
  ctx.stroke();
  if (cloud) {
    ctx.fillStyle = cssVar('--samples-cloud', 'rgba(160, 175, 200, 0.16)');
    for (let i = 0; i < cloud.length; i += 2) ctx.fillRect(px(cloud[i]!) - 1, py(cloud[i + 1]!) - 1, 2, 2);
  }
  ctx.fillStyle = cssVar('--samples-dot', 'rgba(255, 170, 60, 0.85)');
  for (let i = 0; i + 1 < s.data.length; i += dim) {
    const x = s.data[i]!, y = s.data[i + 1]!;
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    ctx.beginPath();
    ctx.arc(px(x), py(y), 1.7, 0, Math.PI * 2);
    ctx.fill();
  }
}

function drawHistogram(ctx: CanvasRenderingContext2D, w: number, h: number, s: SampleSet) {
  const xs = s.data.filter(Number.isFinite);
  if (!xs.length) return;
  let lo = Math.min(...xs), hi = Math.max(...xs);
  if (lo === hi) (lo -= 1), (hi += 1);
  const bins = new Array(40).fill(0);
  for (const x of xs) bins[Math.min(39, Math.floor(((x - lo) / (hi - lo)) * 40))]++;
  const m = Math.max(...bins);
  ctx.fillStyle = cssVar('--samples-dot', 'rgba(255, 170, 60, 0.8)');
  const bw = w / 40;
  bins.forEach((b, i) => ctx.fillRect(i * bw + 1, h - (b / m) * (h - 10), bw - 2, (b / m) * (h - 10)));
}

function drawImages(ctx: CanvasRenderingContext2D, w: number, h: number, s: SampleSet, side: number) {
  const per = side * side;
  const n = Math.floor(s.data.length / per);
  // the grid that shows every sample at the largest size (ties: fewer columns)
  const count = Math.min(n, 256);
  let cols = 1;
  let cell = 0;
  for (let c = 1; c <= count; c++) {
    const size = Math.floor(Math.min(w / c, h / Math.ceil(count / c)));
    if (size > cell) {
      cell = size;
      cols = c;
    }
  }
  const img = ctx.createImageData(side, side);
  const tmp = document.createElement('canvas');
  tmp.width = side;
  tmp.height = side;
  const tctx = tmp.getContext('2d')!;
  ctx.imageSmoothingEnabled = false;
  for (let k = 0; k < count; k++) {
    for (let p = 0; p < per; p++) {
      const v = Math.max(0, Math.min(1, s.data[k * per + p]!));
      const c = Math.round(v * 255);
      img.data[p * 4] = c;
      img.data[p * 4 + 1] = c;
      img.data[p * 4 + 2] = c;
      img.data[p * 4 + 3] = 255;
    }
    tctx.putImageData(img, 0, 0);
    ctx.drawImage(tmp, (k % cols) * cell + 1, Math.floor(k / cols) * cell + 1, cell - 2, cell - 2);
  }
}

export function SamplesView({ samples, dataset }: { samples: SampleSet | undefined; dataset?: string }) {
  const ref = useRef<HTMLCanvasElement>(null);
  const look = useLookKey();
  const kind = useMemo(() => {
    if (!samples) return 'none';
    const dim = samples.shape.slice(1).reduce((a, b) => a * b, 1);
    if (dim === 784) return 'image';
    if (dim === 1) return 'hist';
    return 'scatter';
  }, [samples]);
  useEffect(() => {
    const c = ref.current;
    if (!c) return;
    const draw = () => {
      const dpr = window.devicePixelRatio || 1;
      const w = c.clientWidth, h = c.clientHeight;
      if (!w || !h) return;
      c.width = Math.round(w * dpr);
      c.height = Math.round(h * dpr);
      const ctx = c.getContext('2d')!;
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.fillStyle = cssVar('--samples-bg', '#0f131b');
      ctx.fillRect(0, 0, w, h);
      if (!samples) {
        const cloud = dataCloud(dataset);
        if (cloud) drawScatter(ctx, w, h, { step: 0, sampler: '', shape: [0, 2], data: [] }, dataset);
        return;
      }
      if (kind === 'image') drawImages(ctx, w, h, samples, 28);
      else if (kind === 'hist') drawHistogram(ctx, w, h, samples);
      else drawScatter(ctx, w, h, samples, dataset);
    };
    draw();
    const ro = new ResizeObserver(draw);
    ro.observe(c);
    return () => ro.disconnect();
  }, [samples, dataset, kind, look]);
  return (
    <div className="samples">
      <canvas ref={ref} className="samples-canvas" data-testid="samples-canvas" data-step={samples?.step ?? ''} data-count={samples ? Math.floor(samples.data.length / Math.max(1, samples.shape.slice(1).reduce((a, b) => a * b, 1))) : 0} />
      {!samples ? <div className="samples-empty">samples appear here while training</div> : null}
    </div>
  );
}
