/**
 * Errors of the ONNX export. Every failure a user can cause is an ExportError with a
 * stable code and, where one node is to blame, its id.
 */
export type ExportErrorCode =
  /** the graph has nothing that can be exported (no generator, encoder, density, sampler...) */
  | 'no-target'
  /** a target kind that does not exist (`--target foo`) */
  | 'unknown-target'
  /** a target kind this model does not have (a GAN has no density) */
  | 'target-not-available'
  /** a node whose computation cannot be written as ONNX (the node is named) */
  | 'no-onnx-form'
  /** a node failed while its ONNX form was recorded (the node is named) */
  | 'node-failed'
  /** the weights do not match the graph */
  | 'bad-weights'
  /** an option that does not apply (e.g. --steps on a DDPM sampler) */
  | 'bad-option'
  /** onnxruntime refused or failed to run the model */
  | 'runtime-failed';

export class ExportError extends Error {
  override readonly name = 'ExportError';
  constructor(
    readonly code: ExportErrorCode,
    message: string,
    /** the offending node, where there is one */
    readonly nodeId?: string,
  ) {
    super(message);
  }
}

/**
 * Thrown by an OnnxOps rule for a call it cannot express in ONNX; the export turns it
 * into ExportError('no-onnx-form') naming the node that made the call.
 */
export class OnnxUnsupportedError extends Error {
  override readonly name = 'OnnxUnsupportedError';
  constructor(
    readonly op: string,
    message: string,
  ) {
    super(`${op}: ${message}`);
  }
}
