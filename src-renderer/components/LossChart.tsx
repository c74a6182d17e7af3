/** A live uPlot chart of one objective's loss and its terms. */
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import type { Series } from '../model/training';
import { cssVar, useLookKey } from './look';

/** the dark theme's; the theme in force gives --term-0 .. --term-7 (app.css) */
const TERM_COLORS = ['#e8ecf4', '#4fa3ff', '#ffb347', '#6fdc8c', '#ff6f91', '#c49bff', '#4fd6c8', '#f5e663'];
export function termColor(term: string, i: number): string {
  const k = term === 'loss' ? 0 : 1 + (i % (TERM_COLORS.length - 1));
  return cssVar(`--term-${k}`, TERM_COLORS[k]!);
}

export function LossChart({ title, series, version }: { title: string; series: Series; version: number }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const termsKey = Object.keys(series.terms).join('|');
  const look = useLookKey();

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const terms = Object.keys(series.terms);
    const others = terms.filter((t) => t !== 'loss');
    const ordered = terms.includes('loss') ? ['loss', ...others] : others;
    const axis = cssVar('--chart-axis', '#8c95a8');
    const grid = { stroke: cssVar('--chart-grid', '#232a38'), width: 1 };
    const ticks = { stroke: cssVar('--chart-ticks', '#2c3444') };
    const opts: uPlot.Options = {
      width: Math.max(120, el.clientWidth),
      height: Math.max(60, el.clientHeight - 30),
      pxAlign: 0,
      cursor: { drag: { x: true, y: false } },
      legend: { show: true, live: true },
      scales: { x: { time: false } },
      axes: [
        { stroke: axis, grid, ticks, font: '11px system-ui', size: 28 },
        { stroke: axis, grid, ticks, font: '11px system-ui', size: 52, values: (_u, vals) => vals.map((v) => fmtTick(v)) },
      ],
      series: [
        { label: 'step', value: (u: uPlot, v: number | null, _si: number, idx: number | null) => String(idx === null ? (u.data[0][u.data[0].length - 1] ?? '—') : (v ?? '—')) },
        ...ordered.map((t, i) => ({
          label: t,
          stroke: termColor(t, t === 'loss' ? 0 : i),
          width: t === 'loss' ? 2 : 1.5,
          points: { show: false },
          spanGaps: true,
          // with the cursor off the chart, the legend shows the latest values
          value: (u: uPlot, v: number | null, si: number, idx: number | null) => {
            if (idx === null) {
              const col = u.data[si] as ArrayLike<number | null> | undefined;
              for (let k = (col?.length ?? 0) - 1; k >= 0; k--) {
                const x = col![k];
                if (x !== null && x !== undefined && Number.isFinite(x)) return fmtTick(x);
              }
              return '—';
            }
            return v === null || v === undefined ? '—' : fmtTick(v);
          },
        })),
      ],
    };
    const data = [series.steps, ...ordered.map((t) => series.terms[t]!)] as uPlot.AlignedData;
    const u = new uPlot(opts, data, el);
    plot.current = u;
    (u as unknown as { _order: string[] })._order = ordered;
    // the legend wraps onto as many lines as the terms need: the plot gets what is left
    const fit = () => {
      const legend = el.querySelector<HTMLElement>('.u-legend');
      const lh = legend ? legend.offsetHeight : 30;
      const width = Math.max(120, el.clientWidth);
      const height = Math.max(60, el.clientHeight - lh - 2);
      if (width !== u.width || height !== u.height) u.setSize({ width, height });
    };
    fit();
    const ro = new ResizeObserver(fit);
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
      plot.current = null;
    };
    // the chart is rebuilt only when the set of terms or the theme's colours change
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [termsKey, look]);

  useEffect(() => {
    const u = plot.current;
    if (!u) return;
    const order = (u as unknown as { _order: string[] })._order;
    u.setData([series.steps.slice(), ...order.map((t) => (series.terms[t] ?? []).slice())] as uPlot.AlignedData);
  }, [version, series]);

  return (
    <div className="chart">
      <div className="chart-title">{title}</div>
      <div className="chart-box" ref={box} />
    </div>
  );
}

function fmtTick(v: number): string {
  const a = Math.abs(v);
  if (a === 0) return '0';
  if (a >= 1e4 || a < 1e-3) return v.toExponential(1);
  return String(+v.toPrecision(3));
}
