/** Export dialog: pick a target and noise mode, export ONNX, show the parity report and path. */
import { useEffect, useState } from 'react';
import type { Result } from '../../src-main/api/contract';
import { errorMessage } from '../api';
import { useRun } from '../model/training';
import { studio, toast } from '../studio';
import { Modal } from './Modal';
import { summarizeParity } from '../model/parity';

type Target = Result<'exportTargets'>[number];
type Exported = Result<'exportOnnx'>;

export function ExportDialog() {
  const { api, training, ui } = studio();
  const runId = useRun(training, (s) => s.exportableRunId);
  const [targets, setTargets] = useState<Target[] | null>(null);
  const [target, setTarget] = useState('');
  const [noise, setNoise] = useState<'internal' | 'inputs'>('internal');
  const [path, setPath] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [result, setResult] = useState<Exported | null>(null);

  useEffect(() => {
    if (!runId) return;
    let live = true;
    api
      .call('exportTargets', { runId })
      .then((t) => {
        if (!live) return;
        setTargets(t);
        // the whole sampler is what most people want to run elsewhere
        setTarget((cur) => cur || (t.find((x) => x.kind === 'sampler') ?? t[0])?.id || '');
      })
      .catch((err) => live && setError(errorMessage(err)));
    return () => {
      live = false;
    };
  }, [api, runId]);

  const run = async () => {
    if (!runId || !target) return;
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      const r = await api.call('exportOnnx', { runId, target, noise, ...(path.trim() ? { path: path.trim() } : {}) });
      setResult(r);
      toast('success', `Exported ${r.path}`);
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  const parity = result ? summarizeParity(result.parity) : null;
  return (
    <Modal title="Export to ONNX" onClose={() => ui.set({ modal: null })} width={620}>
      {!runId ? (
        <p>Train the graph first: export needs trained weights.</p>
      ) : (
        <div className="export" data-testid="export-dialog">
          <div className="field">
            <label className="field-label">Target</label>
            {targets === null ? (
              <span className="muted">loading targets…</span>
            ) : targets.length === 0 ? (
              <span className="muted">this run has nothing to export</span>
            ) : (
              <div className="targets">
                {targets.map((t) => (
                  <label key={t.id} className={`export-target${t.id === target ? " active" : ""}`}>
                    <input type="radio" name="target" checked={t.id === target} onChange={() => setTarget(t.id)} />
                    <span>
                      <b>{t.id}</b> <span className="chip chip-dim">{t.kind}</span> <span className="muted">node {t.nodeId}</span>
                      <div className="small muted">{t.description}</div>
                    </span>
                  </label>
                ))}
              </div>
            )}
          </div>
          <div className="field">
            <label className="field-label">Noise</label>
            <div className="radios">
              <label>
                <input type="radio" checked={noise === 'internal'} onChange={() => setNoise('internal')} /> inside the model (RandomNormal ops)
              </label>
              <label>
                <input type="radio" checked={noise === 'inputs'} onChange={() => setNoise('inputs')} /> as model inputs (reproducible)
              </label>
            </div>
          </div>
          <div className="field">
            <label className="field-label">Path</label>
            <input type="text" placeholder="(default: in the run folder)" value={path} onChange={(e) => setPath(e.target.value)} aria-label="export path" />
          </div>
          <div className="modal-actions">
            <button className="primary" disabled={busy || !target} onClick={() => void run()} data-testid="export-run">
              {busy ? 'Exporting and checking parity…' : 'Export'}
            </button>
          </div>
          {error ? <div className="diag-line diag-error">{error}</div> : null}
          {result && parity ? (
            <div className="parity" data-testid="parity-report">
              <div className={`parity-verdict ${parity.pass === false ? 'fail' : parity.pass ? 'pass' : ''}`}>
                {parity.pass === undefined ? 'Parity checked' : parity.pass ? '✔ Parity PASS' : '✘ Parity FAIL'}
                {parity.maxAbs !== undefined ? (
                  <span>
                    {' '}
                    max |ONNX − trained| = <b className="mono">{parity.maxAbs.toExponential(2)}</b>
                    {parity.tol !== undefined ? <> (tolerance {parity.tol.toExponential(1)})</> : null}
                  </span>
                ) : null}
              </div>
              <div className="small">
                Saved <code className="copyable" data-testid="export-path">{result.path}</code> ({(result.bytes / 1024).toFixed(1)} KiB)
              </div>
              <table className="metrics">
                <tbody>
                  {parity.rows.map(([k, v]) => (
                    <tr key={k}>
                      <td>{k}</td>
                      <td className="mono">{v}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          ) : null}
        </div>
      )}
    </Modal>
  );
}
