/**
 * The training utilityProcess under Electron (out/main/trainingProcess.js): one run per
 * process. The first message must be { type: 'start', request }; the run then goes in this
 * process (session/TrainingSession.ts, in-process mode: this process is already off the
 * main process) and every TrainEvent is posted back. Later commands (pause, resume, stop)
 * are handed to the session, which validates them. The process exits after the final
 * 'stopped' event; a crash is an 'exit' event in the main process (utilityHost.ts).
 */
import { TrainCommand, type TrainEvent } from '../api/trainingProtocol';
import { startTraining, type TrainingSession } from '../session/TrainingSession';

export interface ParentPortLike {
  on(event: 'message', listener: (e: { data: unknown }) => void): unknown;
  postMessage(message: unknown): void;
}

/** serves one run on `port`; calls `exit` once the run has ended */
export function serveTraining(port: ParentPortLike, exit: (code: number) => void, start: typeof startTraining = startTraining): void {
  let session: TrainingSession | undefined;
  const post = (e: TrainEvent) => port.postMessage(e);
  port.on('message', ({ data }) => {
    if (session) return session.post(data);
    const cmd = TrainCommand.safeParse(data);
    if (!cmd.success || cmd.data.type !== 'start') {
      post({ type: 'warning', message: 'the training process expects a start command first (message ignored)' });
      return;
    }
    session = start(cmd.data.request, { inProcess: true });
    session.on(post);
    void session.done.then(
      () => exit(0),
      () => exit(1),
    );
  });
}

const parentPort = (process as unknown as { parentPort?: ParentPortLike }).parentPort;
if (parentPort) {
  // give the final postMessage a turn to leave before exiting
  serveTraining(parentPort, (code) => setTimeout(() => process.exit(code), 100));
}
