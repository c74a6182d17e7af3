/** An equation typeset by KaTeX, in the inspector and (equations on) on the canvas's nodes. */
import katex from 'katex';
import { memo, useLayoutEffect, useMemo, useRef } from 'react';

/** the smallest type a fitted equation shrinks to, as a fraction of its box's font size */
const MIN_SCALE = 0.55;

/**
 * Display-style maths is typeset in KaTeX's inline mode with \displaystyle, so a long
 * equation (the ELBO) breaks after a relation or operator instead of overflowing the box.
 * With `fit`, a part that cannot break (a wide fraction) and is still wider than the box
 * shrinks the type until it fits: nothing overflows the box, nothing is cut off.
 */
export const Katex = memo(function Katex({ latex, display = true, fit = false, className }: { latex: string; display?: boolean; fit?: boolean; className?: string }) {
  const html = useMemo(
    () => katex.renderToString(display ? `\\displaystyle ${latex}` : latex, { throwOnError: false, displayMode: false, output: 'html', strict: 'ignore' }),
    [latex, display],
  );
  const ref = useRef<HTMLDivElement>(null);
  useLayoutEffect(() => {
    const el = ref.current;
    if (!fit || !el) return;
    let live = true;
    const shrink = () => {
      if (!live) return;
      el.style.fontSize = '';
      const base = parseFloat(getComputedStyle(el).fontSize) || 12;
      // layout sizes (offset/scroll), so the canvas's zoom does not enter
      for (let i = 0, size = base; i < 4 && el.scrollWidth > el.clientWidth + 0.5; i++) {
        size = Math.max(base * MIN_SCALE, (size * el.clientWidth) / el.scrollWidth - 0.1);
        el.style.fontSize = `${size}px`;
        if (size <= base * MIN_SCALE) break;
      }
      el.dataset.scale = (parseFloat(el.style.fontSize || String(base)) / base).toFixed(3);
    };
    shrink();
    // KaTeX's fonts may arrive after the first layout, and change the widths
    void document.fonts?.ready.then(shrink);
    return () => {
      live = false;
    };
  }, [html, fit]);
  return <div ref={ref} className={`katex-box${className ? ` ${className}` : ''}`} dangerouslySetInnerHTML={{ __html: html }} />;
});
