/**
 * The one transport-independent dispatcher: a raw message (a JSON string from a WebSocket,
 * or an already-cloned object from Electron IPC) -> a ResponseSchema-valid response.
 * Validates the envelope with RequestSchema and the params with the method's schema, calls
 * the handler, and checks the handler's result against the method's result schema.
 * Never throws and never rejects: every failure is `{ ok: false, error: { code, message } }`.
 */
import type { z } from 'zod';
import { Methods, NO_ID, RequestSchema, type ApiError, type ApiErrorCode, type MethodName, type Result } from '../api/contract';

/** a handler receives the params after parsing (defaults applied) */
export type MethodParams<M extends MethodName> = z.output<(typeof Methods)[M]['params']>;

/** one handler per method: an exhaustive mapped type, so a missing handler is a compile error */
export type Handlers = { [M in MethodName]: (params: MethodParams<M>) => Promise<Result<M>> };

export type ApiResponse = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: ApiError };

/** Thrown by a handler to fail with a message and machine-readable details (code 'handler-error'). */
export class HandlerError extends Error {
  constructor(
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'HandlerError';
  }
}

export interface DispatchOptions {
  /** called with unexpected handler failures (not HandlerError); default: console.error */
  onHandlerError?: (method: string, error: unknown) => void;
}

export type Dispatch = (raw: unknown) => Promise<ApiResponse>;

const MAX_MESSAGE_PREVIEW = 60;

function fail(id: number, code: ApiErrorCode, message: string, details?: unknown): ApiResponse {
  return { id, ok: false, error: details === undefined ? { code, message } : { code, message, details } };
}

function issuesOf(error: z.ZodError): { path: string; message: string }[] {
  return error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
}

function describeIssues(error: z.ZodError): string {
  return issuesOf(error)
    .map((i) => (i.path ? `${i.path}: ${i.message}` : i.message))
    .join('; ');
}

function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message || e.name;
  try {
    return String(e);
  } catch {
    return 'unknown error';
  }
}

/** the request's id when it can be read, for error replies to otherwise broken requests */
function readId(msg: unknown): number {
  if (typeof msg === 'object' && msg !== null && !Array.isArray(msg)) {
    const id = (msg as { id?: unknown }).id;
    if (typeof id === 'number' && Number.isInteger(id)) return id;
  }
  return NO_ID;
}

/** details must survive JSON and structured clone: keep only what JSON keeps */
function plainDetails(details: unknown): unknown {
  if (details === undefined) return undefined;
  try {
    return JSON.parse(JSON.stringify(details));
  } catch {
    return undefined;
  }
}

export function createDispatcher(handlers: Handlers, options: DispatchOptions = {}): Dispatch {
  const onHandlerError = options.onHandlerError ?? ((method, e) => console.error(`[genloom] ${method} failed:`, e));

  async function dispatch(raw: unknown): Promise<ApiResponse> {
    let msg: unknown = raw;
    if (typeof raw === 'string') {
      try {
        msg = JSON.parse(raw);
      } catch (e) {
        const preview = raw.length > MAX_MESSAGE_PREVIEW ? `${raw.slice(0, MAX_MESSAGE_PREVIEW)}...` : raw;
        return fail(NO_ID, 'bad-request', `the message is not valid JSON (${errorMessage(e)}): ${JSON.stringify(preview)}`);
      }
    }
    const envelope = RequestSchema.safeParse(msg);
    if (!envelope.success) {
      return fail(readId(msg), 'bad-request', `the message is not a request { id, method, params }: ${describeIssues(envelope.error)}`);
    }
    const { id, method } = envelope.data;
    if (!Object.hasOwn(Methods, method)) {
      return fail(id, 'unknown-method', `unknown method "${method.slice(0, 100)}"`);
    }
    const name = method as MethodName;
    const spec = Methods[name];
    const parsed = spec.params.safeParse(envelope.data.params);
    if (!parsed.success) {
      return fail(id, 'bad-params', `bad params for ${name}: ${describeIssues(parsed.error)}`, issuesOf(parsed.error));
    }
    let result: unknown;
    try {
      const handler = handlers[name] as (params: unknown) => Promise<unknown>;
      result = await handler(parsed.data);
    } catch (e) {
      if (!(e instanceof HandlerError)) onHandlerError(name, e);
      return fail(id, 'handler-error', errorMessage(e), e instanceof HandlerError ? plainDetails(e.details) : undefined);
    }
    const checked = spec.result.safeParse(result);
    if (!checked.success) {
      onHandlerError(name, new Error(`invalid result: ${describeIssues(checked.error)}`));
      return fail(id, 'handler-error', `internal error: ${name} returned an invalid result (${describeIssues(checked.error)})`);
    }
    return { id, ok: true, result: checked.data };
  }

  return async (raw: unknown) => {
    try {
      return await dispatch(raw);
    } catch (e) {
      // unreachable in practice (a getter on a hostile object, say): still never throw
      return fail(NO_ID, 'bad-request', `the message could not be processed: ${errorMessage(e)}`);
    }
  };
}
