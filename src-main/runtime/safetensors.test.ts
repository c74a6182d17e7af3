import { describe, expect, it } from 'vitest';
import { decodeSafetensors, encodeSafetensors, SafetensorsError, type TensorInput } from './safetensors';

const f32 = (...v: number[]) => new Float32Array(v);

/** a header + buffer built by hand, for the corrupt-input cases */
function build(header: unknown, data: Uint8Array, headerLength?: number): Uint8Array {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength ?? json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

describe('safetensors', () => {
  it('matches the reference implementation byte for byte (its test_serialization vector)', () => {
    const out = encodeSafetensors(new Map([['attn.0', { shape: [1, 2, 3], data: f32(0, 1, 2, 3, 4, 5) }]]));
    // from huggingface/safetensors, safetensors/src/tensor.rs, test_serialization
    expect([...out]).toEqual([
      64, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 46, 48, 34, 58, 123, 34, 100, 116, 121, 112, 101, 34, 58, 34, 70, 51, 50, 34, 44, 34,
      115, 104, 97, 112, 101, 34, 58, 91, 49, 44, 50, 44, 51, 93, 44, 34, 100, 97, 116, 97, 95, 111, 102, 102, 115, 101, 116, 115, 34, 58, 91,
      48, 44, 50, 52, 93, 125, 125, 0, 0, 0, 0, 0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64,
    ]);
  });

  it('pads the header with spaces to 8 bytes (reference test_serialization_forced_alignement and test_empty)', () => {
    const out = encodeSafetensors(new Map([['attn0', { shape: [1, 1, 2, 3], data: f32(0, 1, 2, 3, 4, 5) }]]));
    expect(out[0]).toBe(72);
    expect([...out.subarray(8 + 65, 8 + 72)]).toEqual([32, 32, 32, 32, 32, 32, 32]);
    expect([...encodeSafetensors(new Map())]).toEqual([8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32]);
    const withMeta = encodeSafetensors(new Map(), { framework: 'pt' });
    expect([...withMeta]).toEqual([
      40, 0, 0, 0, 0, 0, 0, 0, 123, 34, 95, 95, 109, 101, 116, 97, 100, 97, 116, 97, 95, 95, 34, 58, 123, 34, 102, 114, 97, 109, 101, 119, 111, 114,
      107, 34, 58, 34, 112, 116, 34, 125, 125, 32, 32, 32, 32, 32,
    ]);
  });

  it('round-trips tensors, order, scalars, empty tensors, special values and metadata', () => {
    const tensors = new Map<string, TensorInput>([
      ['enc/w0', { shape: [3, 2], data: f32(1.5, -2, 3.25, 1e-30, -0, 7) }],
      ['elbo::iter', { shape: [], data: new Int32Array([42]) }],
      ['empty', { shape: [0, 4], data: f32() }],
      ['special', { shape: [4], data: f32(NaN, Infinity, -Infinity, 3.4e38) }],
      ['a', { shape: [1], data: [0.1] }],
    ]);
    const bytes = encodeSafetensors(tensors, { format: 'pt', genloom: '0.1.0', 'ünï': 'çødé ✓' });
    const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(headerLength % 8).toBe(0);
    const { tensors: back, metadata, dtypes } = decodeSafetensors(bytes);
    expect([...back.keys()]).toEqual(['enc/w0', 'elbo::iter', 'empty', 'special', 'a']);
    expect(back.get('enc/w0')).toEqual({ shape: [3, 2], data: f32(1.5, -2, 3.25, 1e-30, -0, 7) });
    expect(Object.is(back.get('enc/w0')!.data[4], -0)).toBe(true);
    expect(back.get('elbo::iter')).toEqual({ shape: [], data: f32(42) });
    expect(back.get('empty')).toEqual({ shape: [0, 4], data: f32() });
    expect([...back.get('special')!.data]).toEqual([NaN, Infinity, -Infinity, Math.fround(3.4e38)]);
    expect(back.get('a')!.data[0]).toBe(Math.fround(0.1));
    expect(metadata).toEqual({ format: 'pt', genloom: '0.1.0', 'ünï': 'çødé ✓' });
    expect(dtypes.get('a')).toBe('F32');
  });

  it('copies: decoded data does not alias the file bytes', () => {
    const bytes = encodeSafetensors(new Map([['x', { shape: [2], data: f32(1, 2) }]]));
    const { tensors } = decodeSafetensors(bytes);
    bytes.fill(0, bytes.length - 8);
    expect([...tensors.get('x')!.data]).toEqual([1, 2]);
  });

  it('reads a file whose data is not 4-byte aligned in memory (subarray at an odd offset)', () => {
    const bytes = encodeSafetensors(new Map([['x', { shape: [2], data: f32(1, 2) }]]));
    const shifted = new Uint8Array(bytes.length + 1);
    shifted.set(bytes, 1);
    expect([...decodeSafetensors(shifted.subarray(1)).tensors.get('x')!.data]).toEqual([1, 2]);
  });

  it('reads other dtypes written by PyTorch, converting to float32, in offset order', () => {
    const data = new Uint8Array(8 + 2 + 2 + 8 + 4);
    const v = new DataView(data.buffer);
    v.setFloat64(0, 2.5, true); // F64 [1]
    v.setUint16(8, 0x3c00, true); // F16 1.0
    v.setUint16(10, 0xc000, true); // BF16 -2.0
    v.setBigInt64(12, -7n, true); // I64
    v.setInt32(20, 9, true); // I32
    const header = {
      i32: { dtype: 'I32', shape: [1], data_offsets: [20, 24] },
      f64: { dtype: 'F64', shape: [1], data_offsets: [0, 8] },
      f16: { dtype: 'F16', shape: [], data_offsets: [8, 10] },
      bf16: { dtype: 'BF16', shape: [1], data_offsets: [10, 12] },
      i64: { dtype: 'I64', shape: [1], data_offsets: [12, 20] },
    };
    const { tensors, dtypes } = decodeSafetensors(build(header, data));
    expect([...tensors.keys()]).toEqual(['f64', 'f16', 'bf16', 'i64', 'i32']);
    expect([...tensors.values()].map((t) => t.data[0])).toEqual([2.5, 1, -2, -7, 9]);
    expect(dtypes.get('bf16')).toBe('BF16');
  });

  it('refuses bad input to encode', () => {
    expect(() => encodeSafetensors(new Map([['x', { shape: [2, 2], data: f32(1, 2, 3) }]]))).toThrow(/needs 4 values, got 3/);
    expect(() => encodeSafetensors(new Map([['__metadata__', { shape: [1], data: f32(1) }]]))).toThrow(SafetensorsError);
    expect(() => encodeSafetensors(new Map([['x', { shape: [-1], data: f32() }]]))).toThrow(/invalid dimension/);
    expect(() => encodeSafetensors(new Map(), { a: 1 as unknown as string })).toThrow(/must be a string/);
  });

  describe('truncated or corrupt files give a clear error', () => {
    const good = encodeSafetensors(new Map([['w', { shape: [4], data: f32(1, 2, 3, 4) }]]), { k: 'v' });
    const cases: [string, Uint8Array, RegExp][] = [
      ['empty file', new Uint8Array(0), /truncated: 0 byte\(s\)/],
      ['7 bytes', good.subarray(0, 7), /truncated/],
      ['header cut', good.subarray(0, 20), /truncated: the header needs/],
      ['data cut', good.subarray(0, good.length - 3), /truncated: the tensors need 16 bytes of data, the file has 13/],
      ['trailing bytes', new Uint8Array([...good, 0, 0, 0, 0]), /4 byte\(s\) after the last tensor/],
      ['huge header length', (() => { const b = good.slice(); b[7] = 0x40; return b; })(), /above the .* limit/],
      ['not JSON', build('{"w": nope}    ', new Uint8Array(0)), /not valid JSON/],
      ['not an object', build('[1,2,3] ', new Uint8Array(0)), /does not start with "\{"/],
      ['invalid UTF-8', build('{"\xff"}', new Uint8Array(0)).map((b, i) => (i === 10 ? 0xff : b)), /not valid UTF-8/],
      ['unknown dtype', build({ w: { dtype: 'Q7', shape: [1], data_offsets: [0, 4] } }, new Uint8Array(4)), /unknown dtype "Q7"/],
      ['bad shape', build({ w: { dtype: 'F32', shape: [1.5], data_offsets: [0, 4] } }, new Uint8Array(4)), /invalid shape/],
      ['bad offsets', build({ w: { dtype: 'F32', shape: [1], data_offsets: [0] } }, new Uint8Array(4)), /invalid data_offsets/],
      ['size mismatch', build({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 4] } }, new Uint8Array(4)), /needs 8 bytes, its data_offsets span 4/],
      [
        'hole between tensors',
        build({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] } }, new Uint8Array(12)),
        /tensor "b" has data_offsets \[8, 12\], expected it to begin at 4/,
      ],
      [
        'overlapping tensors',
        build({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, new Uint8Array(8)),
        /expected it to begin at 8/,
      ],
      ['metadata not strings', build({ __metadata__: { a: 1 } }, new Uint8Array(0)), /metadata "a" is not a string/],
      ['header length zero', build('', new Uint8Array(0)), /too small/],
    ];
    for (const [name, bytes, msg] of cases) {
      it(name, () => {
        expect(() => decodeSafetensors(bytes, 'weights.safetensors')).toThrow(SafetensorsError);
        expect(() => decodeSafetensors(bytes, 'weights.safetensors')).toThrow(msg);
        expect(() => decodeSafetensors(bytes, 'weights.safetensors')).toThrow(/^weights\.safetensors: /);
      });
    }
  });
});
