/**
 * One case per op of Ops, over a few fixed inputs: an exhaustive mapped type, so a new op
 * without a case does not compile. Every interpreter runs them against tfjs (ONNX:
 * exportConformance.test.ts; PyTorch: torchOps.test.ts).
 */
import type { Ops } from '../nodes/core/ops';
import type { OpName } from '../src-main/export/OnnxOps';

/** the inputs of the cases: a batch of rows of these shapes */
export const OP_INPUTS = [
  { name: 'a', shape: [3], fill: { kind: 'normal' as const } },
  { name: 'b', shape: [3], fill: { kind: 'normal' as const } },
  { name: 'img', shape: [5, 5, 2], fill: { kind: 'normal' as const } },
  { name: 'small', shape: [3, 3, 4], fill: { kind: 'normal' as const } },
  { name: 'idx', shape: [] as number[], fill: { kind: 'steps' as const, T: 10 } },
];

export type Case = <T>(o: Ops<T>, i: Record<string, T>, p: (name: string, shape: number[]) => T, batch: number) => Record<string, T>;

/** one case per op: an exhaustive mapped type, so a new op without a case does not compile */
export const OP_CASES: { [K in OpName]: Case } = {
  constant: (o, i) => ({ v: o.add(i.a!, o.constant([1, 2, 3], [3])) }),
  scalar: (o, i) => ({ v: o.mul(i.a!, o.scalar(2.5)) }),
  zerosLike: (o, i) => ({ v: o.add(o.zerosLike(i.a!), o.scalar(1)) }),
  onesLike: (o, i) => ({ v: o.onesLike(i.a!) }),
  fill: (o, i) => ({ v: o.fill(i.a!, 3.25) }),
  cast: (o, i) => ({ v: o.cast(o.cast(o.mul(i.a!, o.scalar(3)), 'int32'), 'float32') }),
  add: (o, i) => ({ v: o.add(i.a!, o.constant([1, -2, 3], [3])) }),
  sub: (o, i) => ({ v: o.sub(i.a!, i.b!) }),
  mul: (o, i) => ({ v: o.mul(i.a!, i.b!) }),
  div: (o, i) => ({ v: o.div(i.a!, o.add(o.abs(i.b!), o.scalar(0.5))) }),
  maximum: (o, i) => ({ v: o.maximum(i.a!, o.constant([0, 0.5, -0.5], [3])) }),
  minimum: (o, i) => ({ v: o.minimum(i.a!, i.b!) }),
  neg: (o, i) => ({ v: o.neg(i.a!) }),
  exp: (o, i) => ({ v: o.exp(i.a!) }),
  log: (o, i) => ({ v: o.log(o.add(o.abs(i.a!), o.scalar(0.1))) }),
  sqrt: (o, i) => ({ v: o.sqrt(o.add(o.abs(i.a!), o.scalar(0.1))) }),
  square: (o, i) => ({ v: o.square(i.a!) }),
  abs: (o, i) => ({ v: o.abs(i.a!) }),
  tanh: (o, i) => ({ v: o.tanh(i.a!) }),
  sigmoid: (o, i) => ({ v: o.sigmoid(o.mul(i.a!, o.scalar(4))) }),
  softplus: (o, i) => ({ v: o.softplus(o.mul(i.a!, o.scalar(20))) }),
  relu: (o, i) => ({ v: o.relu(i.a!) }),
  leakyRelu: (o, i) => ({ v: o.leakyRelu(i.a!, 0.2) }),
  silu: (o, i) => ({ v: o.silu(i.a!) }),
  sin: (o, i) => ({ v: o.sin(o.mul(i.a!, o.scalar(50))) }),
  cos: (o, i) => ({ v: o.cos(o.mul(i.a!, o.scalar(50))) }),
  clip: (o, i) => ({ v: o.clip(i.a!, -0.5, 0.75) }),
  sum: (o, i) => ({ rows: o.sum(i.a!, [1]), keep: o.sum(i.img!, [1, -1], true), all: o.sum(i.a!) }),
  mean: (o, i) => ({ rows: o.mean(i.a!, [1]), keep: o.mean(i.img!, [2, 3], true), all: o.mean(i.a!) }),
  matmul: (o, i, p) => ({ v: o.matmul(i.a!, p('w', [3, 4])), batched: o.matmul(o.reshape(i.img!, [-1, 5, 10]), p('w3', [10, 2])) }),
  reshape: (o, i) => ({ flat: o.reshape(i.img!, [-1, 50]), split: o.reshape(i.a!, [-1, 3, 1]) }),
  transpose: (o, i) => ({ nchw: o.transpose(i.img!, [0, 3, 1, 2]) }),
  concat: (o, i) => ({ v: o.concat([i.a!, i.b!, i.a!], 1), neg: o.concat([i.a!, i.b!], -1) }),
  sliceAxis: (o, i) => ({ mid: o.sliceAxis(i.a!, 1, 1, 2), rest: o.sliceAxis(i.img!, 2, 1, -1) }),
  gather: (o, i) => ({ v: o.gather(o.constant(Array.from({ length: 20 }, (_, k) => Math.sin(k)), [10, 2]), i.idx!) }),
  conv2d: (o, i, p) => ({
    same: o.conv2d(i.img!, p('f', [3, 3, 2, 4]), 2, 'same'),
    valid: o.conv2d(i.img!, p('f', [3, 3, 2, 4]), 1, 'valid'),
    // 4 x 4 at stride 2: TF pads 0 before, 1 after
    uneven: o.conv2d(o.sliceAxis(o.sliceAxis(i.img!, 1, 0, 4), 2, 0, 4), p('f', [3, 3, 2, 4]), 2, 'same'),
  }),
  conv2dTranspose: (o, i, p) => ({
    same: o.conv2dTranspose(i.small!, p('ft', [3, 3, 2, 4]), [5, 5, 2], 2, 'same'),
    valid: o.conv2dTranspose(i.small!, p('ft', [3, 3, 2, 4]), [8, 8, 2], 2, 'valid'),
    // 7 full rows cropped to 6: 0 before, 1 after
    uneven: o.conv2dTranspose(i.small!, p('ft', [3, 3, 2, 4]), [6, 6, 2], 2, 'same'),
  }),
  shape: (o, i) => ({ v: o.add(i.a!, o.constant(o.shape(i.img!).slice(1), [3])) }),
  randomNormal: (o, i, _p, batch) => ({ v: o.add(i.a!, o.randomNormal([batch, 3])) }),
  randomNormalLike: (o, i) => ({ v: o.mul(i.a!, o.randomNormalLike(i.a!)) }),
  randomUniformLike: (o, i) => ({ v: o.randomUniformLike(i.img!) }),
  randomIntLike: (o, i) => ({ v: o.randomIntLike(i.img!, 7) }),
  stopGradient: (o, i) => ({ v: o.stopGradient(i.a!) }),
  loop: (o, i) => {
    const [flat] = o.loop(5, [i.a!], (k, [x]) => [o.add(o.mul(x!, o.scalar(0.9)), o.mul(o.cast(k, 'float32'), o.scalar(0.1)))]);
    // nested loops, draws inside both, outer values read inside, two carried values
    const [x, s] = o.loop(3, [i.a!, o.sum(i.a!, [1])], (k, [x0, s0]) => {
      const [y] = o.loop(2, [x0!], (j, [y0]) => [o.add(o.add(y0!, o.mul(o.randomNormalLike(y0!), o.scalar(0.1))), o.mul(i.b!, o.cast(j, 'float32')))]);
      return [o.add(y!, o.gather(o.constant([0.5, 1, 2], [3]), k)), o.add(s0!, o.mul(o.sum(y!, [1]), o.randomUniformLike(s0!)))];
    });
    return { flat: flat!, x: x!, s: s! };
  },
};
