/**
 * The safetensors format (https://github.com/huggingface/safetensors), so that PyTorch users
 * can `safetensors.torch.load_file(...)` Genloom's weights:
 *
 *     [8 bytes: N, unsigned little-endian 64-bit]
 *     [N bytes: UTF-8 JSON header, padded with spaces (0x20) to a multiple of 8]
 *     [the byte buffer: every tensor's raw little-endian, C-order data]
 *
 * The header maps each tensor name to {"dtype", "shape", "data_offsets": [begin, end]}
 * (offsets into the byte buffer) and may hold "__metadata__": {string: string}. The
 * reference reader requires the tensors, sorted by offset, to tile the buffer exactly
 * (first begins at 0, each begins where the previous ended, the last ends at the end of
 * the file) and end - begin = product(shape) * size(dtype); we write and check the same.
 *
 * We write F32 only. We read F32 and, converting to float32, F64, F16, BF16 and the integer
 * and bool types, so weights written by PyTorch in another dtype load too.
 */

export interface TensorData {
  shape: number[];
  data: Float32Array;
}

/** a tensor to write: any array-like of numbers is converted to float32 */
export interface TensorInput {
  shape: readonly number[];
  data: Float32Array | ArrayLike<number>;
}

export interface DecodedSafetensors {
  /** in file order (by data offset) */
  tensors: Map<string, TensorData>;
  metadata: Record<string, string>;
  /** the dtype each tensor had in the file, before conversion to float32 */
  dtypes: Map<string, string>;
}

export class SafetensorsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SafetensorsError';
  }
}

/** the reference implementation refuses headers above 100 MB */
export const MAX_HEADER_SIZE = 100_000_000;

const DTYPE_SIZE: Record<string, number> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  F64: 8,
  I64: 8,
  U64: 8,
};

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function elementCount(shape: readonly number[], what: string): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) throw new SafetensorsError(`${what}: shape [${shape.join(', ')}] has an invalid dimension ${d}`);
    n *= d;
    if (!Number.isSafeInteger(n)) throw new SafetensorsError(`${what}: shape [${shape.join(', ')}] is too large`);
  }
  return n;
}

/**
 * Serialises float32 tensors (in the map's order) and optional string metadata.
 * Throws on a tensor whose data length does not match its shape.
 */
export function encodeSafetensors(tensors: ReadonlyMap<string, TensorInput>, metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new SafetensorsError(`metadata "${k}" must be a string, got ${typeof v}`);
    }
    header.__metadata__ = { ...metadata };
  }
  let offset = 0;
  const parts: { data: Float32Array; begin: number }[] = [];
  for (const [name, t] of tensors) {
    if (name === '__metadata__') throw new SafetensorsError('a tensor cannot be named "__metadata__"');
    if (name.length === 0) throw new SafetensorsError('a tensor name cannot be empty');
    const n = elementCount(t.shape, `tensor "${name}"`);
    if (t.data.length !== n) {
      throw new SafetensorsError(`tensor "${name}": shape [${t.shape.join(', ')}] needs ${n} values, got ${t.data.length}`);
    }
    const data = t.data instanceof Float32Array ? t.data : Float32Array.from(t.data);
    header[name] = { dtype: 'F32', shape: [...t.shape], data_offsets: [offset, offset + 4 * n] };
    parts.push({ data, begin: offset });
    offset += 4 * n;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const pad = (8 - (json.length % 8)) % 8;
  if (pad) {
    const padded = new Uint8Array(json.length + pad);
    padded.set(json);
    padded.fill(0x20, json.length);
    json = padded;
  }
  const out = new Uint8Array(8 + json.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  const base = 8 + json.length;
  for (const { data, begin } of parts) {
    if (LITTLE_ENDIAN) {
      out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), base + begin);
    } else {
      for (let i = 0; i < data.length; i++) view.setFloat32(base + begin + 4 * i, data[i]!, true);
    }
  }
  return out;
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

function convert(dtype: string, bytes: Uint8Array, n: number): Float32Array {
  const out = new Float32Array(n);
  if (dtype === 'F32') {
    if (LITTLE_ENDIAN) {
      // copy (also fixes alignment): the result never aliases the file's buffer
      new Uint8Array(out.buffer).set(bytes);
      return out;
    }
  }
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < n; i++) {
    switch (dtype) {
      case 'F32': out[i] = v.getFloat32(4 * i, true); break;
      case 'F64': out[i] = v.getFloat64(8 * i, true); break;
      case 'F16': out[i] = halfToFloat(v.getUint16(2 * i, true)); break;
      case 'BF16': {
        const tmp = new DataView(new ArrayBuffer(4));
        tmp.setUint32(0, v.getUint16(2 * i, true) << 16, true);
        out[i] = tmp.getFloat32(0, true);
        break;
      }
      case 'I64': out[i] = Number(v.getBigInt64(8 * i, true)); break;
      case 'U64': out[i] = Number(v.getBigUint64(8 * i, true)); break;
      case 'I32': out[i] = v.getInt32(4 * i, true); break;
      case 'U32': out[i] = v.getUint32(4 * i, true); break;
      case 'I16': out[i] = v.getInt16(2 * i, true); break;
      case 'U16': out[i] = v.getUint16(2 * i, true); break;
      case 'I8': out[i] = v.getInt8(i); break;
      case 'U8': out[i] = v.getUint8(i); break;
      case 'BOOL': out[i] = v.getUint8(i) ? 1 : 0; break;
      default: throw new SafetensorsError(`dtype ${dtype} cannot be read`);
    }
  }
  return out;
}

const isNonNegInt = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;

/**
 * Parses a safetensors file. Every tensor comes back as float32 (copied, never aliasing
 * `bytes`). Throws SafetensorsError naming what is wrong on a truncated or corrupt file.
 */
export function decodeSafetensors(bytes: Uint8Array, what = 'safetensors file'): DecodedSafetensors {
  const fail = (msg: string): never => {
    throw new SafetensorsError(`${what}: ${msg}`);
  };
  if (!(bytes instanceof Uint8Array)) fail('expected bytes');
  if (bytes.length < 8) fail(`truncated: ${bytes.length} byte(s), the 8-byte header length is missing`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n64 = view.getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER_SIZE)) fail(`corrupt: the header length ${n64} is above the ${MAX_HEADER_SIZE}-byte limit (not a safetensors file?)`);
  const n = Number(n64);
  if (n < 2) fail(`corrupt: the header length ${n} is too small for a JSON object`);
  if (8 + n > bytes.length) fail(`truncated: the header needs ${n} bytes, the file has ${bytes.length - 8} after the length`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    return fail('corrupt: the header is not valid UTF-8');
  }
  if (!text.startsWith('{')) fail('corrupt: the header does not start with "{"');
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    return fail(`corrupt: the header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) return fail('corrupt: the header is not a JSON object');

  const metadata: Record<string, string> = {};
  const entries: { name: string; dtype: string; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, info] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof info !== 'object' || info === null || Array.isArray(info)) fail('corrupt: "__metadata__" is not an object');
      for (const [k, v] of Object.entries(info as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(`corrupt: metadata "${k}" is not a string`);
        metadata[k] = v as string;
      }
      continue;
    }
    const t = info as { dtype?: unknown; shape?: unknown; data_offsets?: unknown } | null;
    if (typeof t !== 'object' || t === null) return fail(`corrupt: tensor "${name}" has no description`);
    if (typeof t.dtype !== 'string' || !(t.dtype in DTYPE_SIZE)) fail(`corrupt: tensor "${name}" has an unknown dtype ${JSON.stringify(t.dtype)}`);
    if (!Array.isArray(t.shape) || !t.shape.every(isNonNegInt)) fail(`corrupt: tensor "${name}" has an invalid shape ${JSON.stringify(t.shape)}`);
    const off = t.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every(isNonNegInt)) {
      fail(`corrupt: tensor "${name}" has invalid data_offsets ${JSON.stringify(off)}`);
    }
    entries.push({ name, dtype: t.dtype as string, shape: t.shape as number[], begin: (off as number[])[0]!, end: (off as number[])[1]! });
  }

  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  const dataStart = 8 + n;
  const bufferLength = bytes.length - dataStart;
  let expected = 0;
  for (const e of entries) {
    if (e.begin !== expected || e.end < e.begin) {
      fail(`corrupt: tensor "${e.name}" has data_offsets [${e.begin}, ${e.end}], expected it to begin at ${expected}`);
    }
    const count = elementCount(e.shape, `${what}: tensor "${e.name}"`);
    const nbytes = count * DTYPE_SIZE[e.dtype]!;
    if (e.end - e.begin !== nbytes) {
      fail(`corrupt: tensor "${e.name}" (${e.dtype} [${e.shape.join(', ')}]) needs ${nbytes} bytes, its data_offsets span ${e.end - e.begin}`);
    }
    expected = e.end;
  }
  if (expected > bufferLength) fail(`truncated: the tensors need ${expected} bytes of data, the file has ${bufferLength}`);
  if (expected < bufferLength) fail(`corrupt: ${bufferLength - expected} byte(s) after the last tensor's data`);

  const tensors = new Map<string, TensorData>();
  const dtypes = new Map<string, string>();
  for (const e of entries) {
    if (e.dtype === 'F8_E5M2' || e.dtype === 'F8_E4M3') fail(`tensor "${e.name}" has dtype ${e.dtype}, which Genloom cannot read`);
    const count = e.shape.reduce((a, b) => a * b, 1);
    tensors.set(e.name, { shape: [...e.shape], data: convert(e.dtype, bytes.subarray(dataStart + e.begin, dataStart + e.end), count) });
    dtypes.set(e.name, e.dtype);
  }
  return { tensors, metadata, dtypes };
}
