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
  'network-untrained': 'warning',
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
