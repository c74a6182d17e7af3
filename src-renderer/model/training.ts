/**
 * Live state of the current training run, fed by `train` events. Events are queued as they
 * arrive and folded into the state once per animation frame, so a fast run never floods
 * React (the canvas stays responsive).
 */
import { useSyncExternalStore } from 'react';
import type { ApiEvent } from '../../src-main/api/contract';
import type { TrainEvent } from '../../src-main/api/trainingProtocol';
import type { StudioClient } from '../api';

export type RunStatus = 'idle' | 'starting' | 'running' | 'paused' | 'stopping' | 'stopped';

export interface Series {
  steps: number[];
  /** term -> values aligned with steps (NaN where absent) */
  terms: Record<string, number[]>;
}

export interface SampleSet {
  step: number;
  sampler: string;
  shape: number[];
  data: number[];
}

export interface RunState {
  runId: string | null;
  runDir: string | null;
  status: RunStatus;
  backend: string | null;
  step: number;
  totalSteps: number;
  stepsPerSec: number;
  etaSec: number;
  objectives: { nodeId: string; terms?: string[] }[];
  samplers: { nodeId: string; shape: number[] }[];
  /** objective node id -> loss series (mutated in place; `version` says when) */
  series: Record<string, Series>;
  samples: Record<string, SampleSet>;
  metrics: Record<string, number>;
  metricsStep: number;
  warnings: string[];
  stop?: { reason: string; message?: string; nodeId?: string; checkpoint?: string; step: number };
  lastCheckpoint?: string;
  /** the metrics are being computed (the run's last step, or every few steps): parts done of total */
  evaluating: { step: number; done: number; total: number; what?: string } | null;
  /** bumps whenever anything above changed */
  version: number;
  /** the last run that got far enough to export */
  exportableRunId: string | null;
}

const MAX_POINTS = 4000;

export function initialRun(): RunState {
  return {
    runId: null,
    runDir: null,
    status: 'idle',
    backend: null,
    step: 0,
    totalSteps: 0,
    stepsPerSec: 0,
    etaSec: 0,
    objectives: [],
    samplers: [],
    series: {},
    samples: {},
    metrics: {},
    metricsStep: 0,
    warnings: [],
    evaluating: null,
    version: 0,
    exportableRunId: null,
  };
}

export class TrainingStore {
  private state: RunState = initialRun();
  private readonly listeners = new Set<() => void>();
  private queue: ApiEvent[] = [];
  /** events for runs we have not been told about yet (they can beat startTraining's reply) */
  private early: ApiEvent[] = [];
  private frame = 0;
  private readonly raf: (cb: () => void) => number;

  constructor(api: StudioClient, raf: (cb: () => void) => number = (cb) => requestAnimationFrame(cb)) {
    this.raf = raf;
    api.onEvent((e) => {
      this.queue.push(e);
      if (!this.frame) this.frame = this.raf(() => this.flush());
    });
  }

  getState = (): RunState => this.state;
  subscribe = (l: () => void): (() => void) => {
    this.listeners.add(l);
    return () => void this.listeners.delete(l);
  };

  private emit() {
    for (const l of [...this.listeners]) l();
  }

  /** a run is being started: reset the view */
  starting(totalSteps: number): void {
    this.state = { ...initialRun(), status: 'starting', totalSteps, exportableRunId: this.state.exportableRunId, version: this.state.version + 1 };
    this.early = [];
    this.emit();
  }

  started(runId: string, runDir: string): void {
    this.state = { ...this.state, runId, runDir, status: this.state.status === 'starting' ? 'running' : this.state.status, exportableRunId: runId, version: this.state.version + 1 };
    const early = this.early.filter((e) => e.runId === runId);
    this.early = [];
    this.queue.unshift(...early);
    this.emit();
    if (this.queue.length && !this.frame) this.frame = this.raf(() => this.flush());
  }

  failed(message: string): void {
    this.state = { ...this.state, status: 'stopped', stop: { reason: 'error', message, step: this.state.step }, version: this.state.version + 1 };
    this.emit();
  }

  setStatus(status: RunStatus): void {
    this.state = { ...this.state, status, version: this.state.version + 1 };
    this.emit();
  }

  /** folds the queued events into the state: at most once per frame */
  flush(): void {
    this.frame = 0;
    const events = this.queue;
    this.queue = [];
    if (!events.length) return;
    const s: RunState = { ...this.state };
    let changed = false;
    for (const e of events) {
      if (s.runId === null) {
        if (s.status === 'starting') this.early.push(e);
        continue;
      }
      if (e.runId !== s.runId) continue;
      this.apply(s, e.payload);
      changed = true;
    }
    if (changed) {
      s.version = this.state.version + 1;
      this.state = s;
      this.emit();
    }
  }

  private apply(s: RunState, e: TrainEvent): void {
    switch (e.type) {
      case 'started':
        s.backend = e.backend;
        s.runDir = e.runDir;
        s.step = e.step;
        s.totalSteps = e.totalSteps;
        s.objectives = e.objectives;
        s.samplers = e.samplers;
        if (s.status === 'starting') s.status = 'running';
        break;
      case 'step': {
        s.step = e.step;
        s.totalSteps = e.totalSteps;
        s.stepsPerSec = e.stepsPerSec;
        s.etaSec = e.etaSec;
        if (s.status === 'starting') s.status = 'running';
        const series = { ...s.series };
        for (const [obj, terms] of Object.entries(e.losses)) {
          const cur = series[obj] ?? { steps: [], terms: {} };
          const n = cur.steps.length;
          cur.steps.push(e.step);
          for (const [term, v] of Object.entries(terms)) {
            const arr = (cur.terms[term] ??= new Array<number>(n).fill(NaN));
            arr.push(v);
          }
          for (const arr of Object.values(cur.terms)) if (arr.length < n + 1) arr.push(NaN);
          if (cur.steps.length > MAX_POINTS) decimate(cur);
          series[obj] = cur;
        }
        s.series = series;
        break;
      }
      case 'samples':
        s.samples = { ...s.samples, [e.sampler]: { step: e.step, sampler: e.sampler, shape: e.shape, data: e.data } };
        break;
      case 'evaluating':
        s.evaluating = { step: e.step, done: e.done, total: e.total, what: e.what };
        break;
      case 'metrics':
        s.evaluating = null;
        s.metrics = { ...s.metrics, ...e.metrics };
        s.metricsStep = e.step;
        break;
      case 'checkpoint':
        s.lastCheckpoint = e.path;
        break;
      case 'warning':
        s.warnings = [...s.warnings.slice(-19), e.message];
        break;
      case 'paused':
        s.status = 'paused';
        s.step = e.step;
        break;
      case 'resumed':
        s.status = 'running';
        s.step = e.step;
        break;
      case 'stopped':
        s.evaluating = null;
        s.status = 'stopped';
        s.step = e.step;
        s.stop = { reason: e.reason, message: e.message, nodeId: e.nodeId, checkpoint: e.checkpoint, step: e.step };
        break;
    }
  }
}

/** halves a series (keeps every other point and the last), so charts stay cheap on long runs */
function decimate(s: Series) {
  const keep = (arr: number[]) => arr.filter((_, i) => i % 2 === 0 || i === arr.length - 1);
  s.steps = keep(s.steps);
  for (const k of Object.keys(s.terms)) s.terms[k] = keep(s.terms[k]!);
}

export function useRun<T>(store: TrainingStore, select: (s: RunState) => T): T {
  return useSyncExternalStore(store.subscribe, () => select(store.getState()));
}

export function formatEta(sec: number): string {
  if (!Number.isFinite(sec) || sec < 0) return '—';
  if (sec < 60) return `${Math.round(sec)} s`;
  if (sec < 3600) return `${Math.floor(sec / 60)} min ${Math.round(sec % 60)} s`;
  return `${Math.floor(sec / 3600)} h ${Math.round((sec % 3600) / 60)} min`;
}
