/** Diagnostics are data with stable codes; the studio shows them on the node and port they name. */
export const DIAGNOSTIC_CODES = {
  'unknown-type': 'error',
  'bad-params': 'error',
  'dangling-edge': 'error',
  'unknown-port': 'error',
  'wrong-direction': 'error',
  'missing-input': 'error',
  'multiple-drivers': 'error',
  'port-type-mismatch': 'error',
  'shape-mismatch': 'error',
  'invalid-input': 'error',
  cycle: 'error',
  'objective-trains-nothing': 'error',
  'unknown-network': 'error',
  'sampler-cannot-run': 'error',
  'compile-error': 'error',
  /** a dataset (a CSV file) that cannot be read or does not fit the graph */
  'bad-dataset': 'error',
  /** the other graph a node refers to (a trained teacher network) cannot be read or does not offer that node */
  'bad-external': 'error',
  'network-untrained': 'warning',
  /** a key in a node's params that its type does not have (ignored; the default is used) */
  'unknown-param': 'warning',
  /** a dataset too small for the held-out split the metrics use */
  'small-dataset': 'warning',
  'no-objective': 'warning',
  'no-sampler': 'warning',
} as const;
export type DiagnosticCode = keyof typeof DIAGNOSTIC_CODES;
export type Severity = 'error' | 'warning';

export interface Diagnostic {
  code: DiagnosticCode;
  severity: Severity;
  nodeId?: string;
  port?: string;
  message: string;
}

export function diag(code: DiagnosticCode, message: string, nodeId?: string, port?: string): Diagnostic {
  return { code, severity: DIAGNOSTIC_CODES[code], message, ...(nodeId !== undefined && { nodeId }), ...(port !== undefined && { port }) };
}

export function formatDiagnostic(d: Diagnostic): string {
  const where = d.nodeId ? `${d.nodeId}${d.port ? `.${d.port}` : ''}: ` : '';
  return `${d.severity} [${d.code}] ${where}${d.message}`;
}

/** diagnostics printed at most by the command line; the rest are counted */
export const MAX_PRINTED_DIAGNOSTICS = 50;

/** one formatted line per diagnostic (`prefix` before each), at most `max`, then `... and N more` */
export function formatDiagnostics(ds: readonly Diagnostic[], prefix = '', max = MAX_PRINTED_DIAGNOSTICS): string[] {
  const lines = ds.slice(0, max).map((d) => `${prefix}${formatDiagnostic(d)}`);
  const more = ds.length - max;
  if (more > 0) lines.push(`${prefix}... and ${more} more diagnostic${more === 1 ? '' : 's'}`);
  return lines;
}
