/** "Did you mean ...?": edit distance and closest-name suggestions. */

/**
 * Optimal string alignment distance (Levenshtein plus adjacent transpositions), so that
 * `tpye` is one edit from `type`.
 */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  if (a.length === 0) return b.length;
  if (b.length === 0) return a.length;
  let prev2: number[] = [];
  let prev: number[] = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur: number[] = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, prev2[j - 2]! + 1);
      }
      cur.push(d);
    }
    prev2 = prev;
    prev = cur;
  }
  return prev[b.length]!;
}

/**
 * The candidate closest to `name`, or undefined when none is close enough to be a likely
 * typo. Case is ignored; a namespaced candidate whose last segment equals `name`
 * (`dense` -> `toy.dense`) counts as an exact match. Ties go to the alphabetically first.
 */
export function closestMatch(name: string, candidates: Iterable<string>): string | undefined {
  const needle = name.toLowerCase();
  const limit = Math.max(2, Math.floor(needle.length / 3));
  let best: string | undefined;
  let bestD = Infinity;
  for (const cand of candidates) {
    if (cand === name) continue;
    const lower = cand.toLowerCase();
    const last = lower.slice(lower.lastIndexOf('.') + 1);
    let d = editDistance(needle, lower);
    if (last === needle || lower === needle) d = 0;
    else if (needle.includes('.') === false && lower.includes('.')) d = Math.min(d, editDistance(needle, last) + 0.5);
    if (d < bestD || (d === bestD && best !== undefined && cand < best)) {
      best = cand;
      bestD = d;
    }
  }
  return bestD <= limit ? best : undefined;
}
