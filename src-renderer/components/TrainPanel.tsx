/** Train panel: start/pause/resume/stop, progress, backend, live loss curves, samples, metrics. */
import { useEffect, useMemo, useState } from 'react';
import type { Result } from '../../src-main/api/contract';
import { specOf } from '../model/registry';
import { structureOf, useEditor } from '../model/store';
import { formatEta, useRun } from '../model/training';
import { controlTraining, startTraining, studio, type TrainTarget } from '../studio';
import { LossChart } from './LossChart';
import { SamplesView } from './SamplesView';

function fmtMetric(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a >= 1e4 || a < 1e-3) ? v.toExponential(3) : String(+v.toPrecision(4));
}

export function TrainPanel() {
  const { editor, training, ui } = studio();
  const doc = useEditor(editor, (s) => structureOf(s.doc));
  const run = useRun(training, (s) => s);
  const defaultSteps = (doc.meta as { training?: { steps?: number } }).training?.steps ?? 2000;
  const [steps, setSteps] = useState<string>('');
  const [seed, setSeed] = useState('0');
  const [sampler, setSampler] = useState<string | null>(null);
  const [where, setWhere] = useState<'app' | 'torch-cpu' | 'torch-cuda'>('app');
  const [torch, setTorch] = useState<Result<'backends'>['torch'] | null>(null);
  useEffect(() => {
    let live = true;
    void (async () => {
      try {
        const b = await studio().api.call('backends', {});
        if (live) setTorch(b?.torch ?? null);
      } catch (e) {
        if (live) setTorch({ available: false, reason: e instanceof Error ? e.message : String(e) });
      }
    })();
    return () => {
      live = false;
    };
  }, []);
  const target: TrainTarget = where === 'app' ? {} : { backend: 'torch', device: where === 'torch-cuda' ? 'cuda' : 'cpu' };
  const dataset = useMemo(() => {
    const d = doc.nodes.find((n) => specOf(n.type)?.role === 'data');
    return (d?.params as { dataset?: string } | undefined)?.dataset ?? 'moons';
  }, [doc.nodes]);

  const active = run.status === 'running' || run.status === 'paused' || run.status === 'starting' || run.status === 'stopping';
  const pct = run.totalSteps ? Math.min(100, (run.step / run.totalSteps) * 100) : 0;
  const samplerIds = Object.keys(run.samples);
  const shownSampler = sampler && run.samples[sampler] ? sampler : samplerIds[0];
  const objectives = Object.keys(run.series);
  const stepsValue = steps === '' ? String(defaultSteps) : steps;
  const stepsNum = Number(stepsValue);
  const stepsOk = Number.isInteger(stepsNum) && stepsNum >= 1 && stepsNum <= 10_000_000;
  const seedNum = Number(seed);

  return (
    <div className="train" data-testid="train-panel" data-status={run.status}>
      <div className="train-controls">
        <div className="row">
          <label className="mini">
            Steps
            <input type="number" min={1} value={stepsValue} onChange={(e) => setSteps(e.target.value)} disabled={active} aria-label="training steps" className={stepsOk ? '' : 'invalid'} />
          </label>
          <label className="mini">
            Seed
            <input type="number" value={seed} onChange={(e) => setSeed(e.target.value)} disabled={active} aria-label="seed" />
          </label>
        </div>
        <div className="row">
          <label className="mini">
            Run on
            <select value={where} onChange={(e) => setWhere(e.target.value as typeof where)} disabled={active} aria-label="training backend" data-testid="train-backend">
              <option value="app">this app (tfjs)</option>
              <option value="torch-cpu" disabled={!torch?.available}>
                PyTorch{torch?.available ? ` ${torch.version}` : ''} CPU
              </option>
              {torch?.available && torch.cuda && <option value="torch-cuda">PyTorch CUDA ({torch.cuda})</option>}
            </select>
          </label>
        </div>
        {torch && !torch.available && (
          <div className="hint" data-testid="torch-missing">
            PyTorch is not available: {torch.reason}
          </div>
        )}
        <div className="row buttons">
          {!active ? (
            <button className="primary" disabled={!stepsOk || !Number.isInteger(seedNum) || doc.nodes.length === 0} onClick={() => void startTraining(stepsNum, seedNum, target)} data-testid="train-start">
              ▶ Train
            </button>
          ) : run.status === 'paused' ? (
            <button className="primary" onClick={() => void controlTraining('resume')} data-testid="train-resume">
              ▶ Resume
            </button>
          ) : (
            <button onClick={() => void controlTraining('pause')} disabled={run.status !== 'running'} data-testid="train-pause">
              ❚❚ Pause
            </button>
          )}
          <button onClick={() => void controlTraining('stop')} disabled={!active || run.status === 'stopping'} data-testid="train-stop">
            ■ Stop
          </button>
          <button onClick={() => ui.set({ modal: 'export' })} disabled={!run.exportableRunId} data-testid="open-export">
            Export ONNX…
          </button>
        </div>
        <div className="progress" aria-label="training progress">
          <div className="progress-bar" style={{ width: `${pct}%` }} />
          <span className="progress-text" data-testid="progress-text">
            {run.step} / {run.totalSteps || stepsValue}
          </span>
        </div>
        <div className="train-stats">
          <span>
            <b>{run.stepsPerSec ? run.stepsPerSec.toFixed(run.stepsPerSec < 10 ? 1 : 0) : '—'}</b> steps/s
          </span>
          <span>
            ETA <b>{run.status === 'running' ? formatEta(run.etaSec) : '—'}</b>
          </span>
          <span>
            backend <b data-testid="backend">{run.backend ?? '—'}</b>
          </span>
          <span className={`status status-${run.evaluating && run.status === 'running' ? 'evaluating' : run.status}`} data-testid="run-status">
            {run.evaluating && run.status === 'running' ? 'evaluating' : run.status}
          </span>
        </div>
        {run.evaluating && run.status === 'running' ? (
          <div className="evaluating" data-testid="evaluating">
            Evaluating the model at step {run.evaluating.step}
            {run.evaluating.total ? ` · ${run.evaluating.done} / ${run.evaluating.total}` : '…'}
            {run.evaluating.what ? <span className="muted"> · {run.evaluating.what}</span> : null}
            <div className="progress progress-thin" aria-label="evaluation progress">
              <div className="progress-bar" style={{ width: `${run.evaluating.total ? (100 * run.evaluating.done) / run.evaluating.total : 0}%` }} />
            </div>
          </div>
        ) : null}
        {run.stop && run.stop.reason !== 'done' && run.stop.reason !== 'user' ? (
          <div className="diag-line diag-error">
            Stopped ({run.stop.reason}) at step {run.stop.step}
            {run.stop.nodeId ? ` in ${run.stop.nodeId}` : ''}: {run.stop.message ?? ''}
            {run.stop.checkpoint ? <div className="muted small">last good checkpoint: {run.stop.checkpoint}</div> : null}
          </div>
        ) : run.stop?.reason === 'done' ? (
          <div className="ok-line">Done: {run.stop.step} steps.</div>
        ) : null}
        {run.warnings.length ? <div className="diag-line diag-warning">{run.warnings[run.warnings.length - 1]}</div> : null}
        {run.runDir ? (
          <div className="muted small ellipsis" title={run.runDir}>
            run folder: {run.runDir}
          </div>
        ) : null}
        {Object.keys(run.metrics).length ? (
          <table className="metrics" data-testid="metrics">
            <tbody>
              {Object.entries(run.metrics).map(([k, v]) => (
                <tr key={k}>
                  <td>{k}</td>
                  <td className="mono">{fmtMetric(v)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
      </div>
      <div className="train-charts" data-testid="loss-charts">
        {objectives.length === 0 ? (
          <div className="chart-empty">Loss curves of every objective and term appear here while training.</div>
        ) : (
          objectives.map((o) => <LossChart key={o} title={`${o} · ${specOf(doc.nodes.find((n) => n.id === o)?.type ?? '')?.title ?? 'objective'}`} series={run.series[o]!} version={run.version} />)
        )}
      </div>
      <div className="train-samples">
        <div className="samples-head">
          <span>Samples{run.samples[shownSampler ?? ''] ? ` · step ${run.samples[shownSampler!]!.step}` : ''}</span>
          {samplerIds.length > 1 ? (
            <select value={shownSampler} onChange={(e) => setSampler(e.target.value)} aria-label="sampler">
              {samplerIds.map((s) => (
                <option key={s}>{s}</option>
              ))}
            </select>
          ) : shownSampler ? (
            <span className="muted">{shownSampler}</span>
          ) : null}
        </div>
        <SamplesView samples={shownSampler ? run.samples[shownSampler] : undefined} dataset={dataset} />
      </div>
    </div>
  );
}
