/**
 * What the studio's handlers need from the hosts around them: training sessions, the
 * export module, native dialogs, and the part of Electron's UtilityProcess the hosts use.
 * handlers.ts, utilityHost.ts and exportBackend.ts all import these from here.
 */
import type { TrainEvent, TrainRequestInput } from '../api/trainingProtocol';
import type { Program } from '../compile/compile';
import type { GraphDocument } from '../document/index';

/** native file dialogs (Electron); absent in web mode */
export interface Dialogs {
  /** a path chosen by the user, or null when cancelled */
  openFile(): Promise<string | null>;
  /** a path chosen by the user (starting at `defaultPath`), or null when cancelled */
  saveFile(defaultPath: string): Promise<string | null>;
  /** a CSV dataset chosen by the user, or null when cancelled */
  openDataset?(): Promise<string | null>;
}

/** what the studio needs from a running training session (session/TrainingSession satisfies it) */
export interface TrainingSessionLike {
  on(listener: (e: TrainEvent) => void): unknown;
  pause(): void;
  resume(): void;
  stop(): void;
  /** settles when the run has ended (after its 'stopped' event) */
  done: Promise<unknown>;
}

/** starts a session on some host: worker thread, utilityProcess, or in-process for tests */
export type TrainingHost = (request: TrainRequestInput) => TrainingSessionLike | Promise<TrainingSessionLike>;

export interface ExportTarget {
  id: string;
  kind: string;
  nodeId: string;
  description: string;
}

/** what the studio needs from the export module (src-main/export) */
export interface ExportBackend {
  listTargets(program: Program): ExportTarget[] | Promise<ExportTarget[]>;
  exportOnnx(args: { program: Program; doc: GraphDocument; runDir: string; target: string; noise: 'internal' | 'inputs'; path: string }): Promise<{
    path: string;
    bytes: number;
    parity: unknown;
  }>;
}

/** the part of Electron's UtilityProcess used here */
export interface ChildProcessLike {
  postMessage(message: unknown): void;
  kill(): boolean;
  on(event: 'spawn', listener: () => void): unknown;
  on(event: 'exit', listener: (code: number) => void): unknown;
  on(event: 'message', listener: (message: unknown) => void): unknown;
}
