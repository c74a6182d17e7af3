/**
 * The one API contract between the studio's renderer and its host (Electron main through
 * the preload bridge, or the web-mode WebSocket server). Every request, response and event
 * is a zod schema; both sides validate what arrives.
 *
 * Wire format (both transports):
 *   request  { id: number, method: keyof Methods, params }
 *   response { id, ok: true, result } | { id, ok: false, error: { code, message, details? } }
 *   event    { event: 'train', runId, payload: TrainEvent }
 *
 * A response to a request whose id could not be read (not JSON, not an object) carries
 * id NO_ID (-1). Error codes: API_ERROR_CODES.
 *
 * Transports:
 *   web mode  WebSocket at ws://127.0.0.1:<port>/api?token=<token>; the page is served at
 *             http://127.0.0.1:<port>/?token=<token> and reads the token from its URL.
 *             Text frames, one JSON request/response/event per frame.
 *   Electron  window.genloom (the preload bridge): `call(method, params)` resolves with the
 *             result, or rejects with a plain { code, message, details? } (the bridge
 *             cannot carry Error subclasses); `onEvent(cb)` returns an unsubscribe function.
 */
import { z } from 'zod';
import { TrainEvent } from './trainingProtocol';

export const ApiErrorSchema = z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() });
export type ApiError = z.infer<typeof ApiErrorSchema>;

/**
 * bad-request: not JSON / not { id, method, params }; unknown-method; bad-params: params
 * do not match the method's schema (details: zod issues); handler-error: the host could
 * not do it (message says why; details may carry e.g. documentErrors or diagnostics).
 */
export const API_ERROR_CODES = ['bad-request', 'unknown-method', 'bad-params', 'handler-error'] as const;
export type ApiErrorCode = (typeof API_ERROR_CODES)[number];
/** the id of a response to a request whose id could not be read */
export const NO_ID = -1;
/** web mode: WebSocket path and the query parameter that carries the token */
export const WS_PATH = '/api';
export const TOKEN_PARAM = 'token';

/**
 * A file reference: a file handle ("handle:" + 32 hex digits) the host handed out for a
 * file the user picked through a dialog, or a path inside the studio's data folder
 * (relative paths resolve against dataDir/graphs; '..' is refused; symlinks that lead out
 * of the folder are refused). Files outside the data folder are reached through handles
 * only (and files picked through a dialog in an earlier session, which the host remembers).
 */
const FileRef = z.string().min(1).max(4096);

const Diagnostic = z.object({
  code: z.string(),
  severity: z.enum(['error', 'warning']),
  nodeId: z.string().optional(),
  port: z.string().optional(),
  message: z.string(),
});

const DocumentErrorSchema = z.object({
  code: z.string(),
  path: z.string(),
  message: z.string(),
  /** the node concerned, when the error is about one node */
  nodeId: z.string().optional(),
  /** 1-based position, for bad JSON */
  line: z.number().int().optional(),
  column: z.number().int().optional(),
});

/** method name -> params and result schemas */
export const Methods = {
  /** templates bundled with the app: id, title, description, dataset, and the document */
  listTemplates: { params: z.object({}), result: z.array(z.object({ id: z.string(), title: z.string(), description: z.string(), dataset: z.string(), doc: z.unknown() })) },
  /** parse + validate + compile: diagnostics and the printed program */
  validate: {
    params: z.object({ doc: z.unknown() }),
    result: z.object({ ok: z.boolean(), diagnostics: z.array(Diagnostic), program: z.string().optional(), documentErrors: z.array(DocumentErrorSchema).optional() }),
  },
  /** `warnings`: what the file holds that was ignored on reading it (a misspelt param: 'unknown-param') */
  openFile: {
    /** `path`: a file reference; absent: the native open dialog (Electron) */
    params: z.object({ path: FileRef.optional() }),
    result: z
      .object({
        /** the file's real path (for display and the recent list) */
        path: z.string(),
        /** for a file outside dataDir/graphs: the reference to send to saveFile instead of the path */
        handle: z.string().optional(),
        doc: z.unknown(),
        warnings: z.array(z.object({ code: z.string(), path: z.string(), message: z.string(), nodeId: z.string().optional() })).optional(),
      })
      .nullable(),
  },
  /** `path`: a file reference (writable: a handle with write access, or a path inside dataDir/graphs); absent or saveAs: the dialog, else dataDir/graphs/<title>.genloom.json */
  saveFile: {
    params: z.object({ path: FileRef.optional(), doc: z.unknown(), saveAs: z.boolean().default(false) }),
    result: z.object({ path: z.string(), handle: z.string().optional() }).nullable(),
  },
  recentFiles: { params: z.object({}), result: z.array(z.string()) },
  /** autosave slot: written every few seconds, offered back after a crash */
  autosave: { params: z.object({ doc: z.unknown() }), result: z.object({ savedAt: z.number() }) },
  restoreAutosave: { params: z.object({}), result: z.object({ doc: z.unknown(), savedAt: z.number() }).nullable() },
  startTraining: {
    params: z.object({
      doc: z.unknown(),
      steps: z.number().int().min(1).max(10_000_000),
      seed: z.number().int().default(0),
      backend: z.enum(['tensorflow', 'wasm', 'cpu', 'torch']).optional(),
      /** backend torch: cpu, cuda or cuda:N */
      device: z.string().regex(/^(cpu|cuda(:\d+)?)$/).optional(),
      /** optional overrides of the run's defaults (batch size: the document's meta.training.batchSize, else the runtime's) */
      batchSize: z.number().int().min(1).max(65536).optional(),
      logEvery: z.number().int().min(1).optional(),
      sampleEvery: z.number().int().min(1).optional(),
      checkpointEvery: z.number().int().min(1).optional(),
      /** the graph's file (a file reference): relative CSV paths resolve against its folder (default: dataDir/graphs) */
      path: FileRef.optional(),
    }),
    result: z.object({ runId: z.string(), runDir: z.string() }),
  },
  /** where training can run: the in-app tfjs backend, and PyTorch when a python3 with torch is found (its version and CUDA device), or why not */
  backends: {
    params: z.object({}),
    result: z.object({
      torch: z.union([
        z.object({ available: z.literal(true), version: z.string(), python: z.string(), cuda: z.string().nullable() }),
        z.object({ available: z.literal(false), reason: z.string() }),
      ]),
    }),
  },
  pauseTraining: { params: z.object({ runId: z.string() }), result: z.object({}) },
  resumeTraining: { params: z.object({ runId: z.string() }), result: z.object({}) },
  stopTraining: { params: z.object({ runId: z.string() }), result: z.object({}) },
  /** export targets available for a finished or running run */
  exportTargets: { params: z.object({ runId: z.string() }), result: z.array(z.object({ id: z.string(), kind: z.string(), nodeId: z.string(), description: z.string() })) },
  /** `path`: a file reference ending in .onnx (relative: against the run's folder); default <run>/export/<target>.onnx */
  exportOnnx: {
    params: z.object({ runId: z.string(), target: z.string(), noise: z.enum(['internal', 'inputs']).default('internal'), path: FileRef.optional() }),
    result: z.object({ path: z.string(), bytes: z.number(), parity: z.unknown() }),
  },
  /** web mode: a CSV file the user picked in the browser, stored in dataDir/datasets/; `path` goes into the node's csvPath */
  importDataset: { params: z.object({ name: z.string().min(1).max(255), text: z.string() }), result: z.object({ path: z.string() }) },
  /** Electron: the native dialog for a CSV file; `handle` (or `path`, remembered by the host) goes into csvPath; null when cancelled */
  pickDataset: { params: z.object({}), result: z.object({ path: z.string(), handle: z.string() }).nullable() },
} as const;

export type MethodName = keyof typeof Methods;
export type Params<M extends MethodName> = z.input<(typeof Methods)[M]['params']>;
export type Result<M extends MethodName> = z.output<(typeof Methods)[M]['result']>;

export const RequestSchema = z.object({ id: z.number().int(), method: z.string(), params: z.unknown() });
export const ResponseSchema = z.union([
  z.object({ id: z.number().int(), ok: z.literal(true), result: z.unknown() }),
  z.object({ id: z.number().int(), ok: z.literal(false), error: ApiErrorSchema }),
]);
export const EventSchema = z.object({ event: z.literal('train'), runId: z.string(), payload: TrainEvent });
export type ApiEvent = z.infer<typeof EventSchema>;

/** the renderer's view of the host, identical over both transports */
export interface StudioApi {
  call<M extends MethodName>(method: M, params: Params<M>): Promise<Result<M>>;
  onEvent(listener: (e: ApiEvent) => void): () => void;
}
