/** A parity report from the host, whatever its exact layout: the figures worth showing. */
/** finds the figures a parity report is made of, whatever its exact layout */
export function summarizeParity(p: unknown): { maxAbs?: number; tol?: number; pass?: boolean; rows: [string, string][] } {
  const rows: [string, string][] = [];
  let maxAbs: number | undefined;
  let tol: number | undefined;
  let pass: boolean | undefined;
  const walk = (v: unknown, path: string, depth: number) => {
    if (depth > 3 || v === null || v === undefined) return;
    if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'string') {
      const k = path.toLowerCase();
      const leaf = k.split('.').pop() ?? k;
      if (typeof v === 'number' && (leaf === 'maxabserror' || leaf === 'maxabserr') && !path.includes('[')) maxAbs = v;
      else if (typeof v === 'number' && maxAbs === undefined && /max.*abs/.test(leaf)) maxAbs = v;
      else if (typeof v === 'number' && tol === undefined && /tol|threshold|atol/.test(k)) tol = v;
      if (typeof v === 'boolean' && pass === undefined && /pass|ok|match|within/.test(k)) pass = v;
      if (rows.length < 14) rows.push([path, typeof v === 'number' ? (Math.abs(v) < 1e-3 && v !== 0 ? v.toExponential(2) : String(+v.toPrecision(5))) : String(v)]);
      return;
    }
    if (Array.isArray(v)) {
      if (v.length <= 6 && v.every((x) => typeof x === 'number')) rows.push([path, `[${v.join(', ')}]`]);
      else v.slice(0, 4).forEach((x, i) => walk(x, `${path}[${i}]`, depth + 1));
      return;
    }
    if (typeof v === 'object') for (const [k, x] of Object.entries(v as object)) walk(x, path ? `${path}.${k}` : k, depth + 1);
  };
  walk(p, '', 0);
  if (maxAbs === undefined) {
    const any = rows.find(([k]) => /max.*(err|diff)/i.test(k));
    if (any) maxAbs = Number(any[1]);
  }
  if (pass === undefined && maxAbs !== undefined && tol !== undefined) pass = maxAbs <= tol;
  return { maxAbs, tol, pass, rows };
}
