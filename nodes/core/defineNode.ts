import type { z } from 'zod';
import type { Init, Ops } from './ops';
import type { PortDecl, PortShape } from './ports';
import type { BijectorValue, DistValue, FnValue, LossValue, ScheduleValue } from './values';

/**
 * What kind of building block a node is (shown on the node's chip; used by generic rules
 * such as "a critic loss trains the critics upstream"). Model families (VAE, GAN, ...) are
 * modules (nodes/<family>/index.ts), not categories.
 */
export const CATEGORIES = [
  'data',
  'prior',
  'network',
  'encoder',
  'decoder',
  'flow',
  'critic',
  'schedule',
  'diffusion',
  'path',
  'sampler',
  'loss',
] as const;
export type Category = (typeof CATEGORIES)[number];

/**
 * What the compiler needs to know about a node's part in training:
 * - network: owns trainable parameters;
 * - objective: produces a Loss that an optimiser minimises;
 * - sampler: turns a trained graph into samples;
 * - data: feeds batches.
 */
export type Role = 'network' | 'objective' | 'sampler' | 'data' | 'none';

/** how a node state starts: like a parameter, or uniform in [low, high) */
export type StateInit = Init | { kind: 'uniform'; low: number; high: number };

/**
 * What a node's build, apply and update see.
 *
 * Node state (`state` / `setState`): a persistent tensor that is not trained: a replay
 * buffer of Langevin negatives, a running statistic. Named `state/${nodeId}/${local}`;
 * declare it in `build` (so it exists, and is checkpointed, from step 0) and read it
 * again in `apply` by calling `state` with the same name: it returns the current value.
 * `setState` gives its value after this training step: the trainer assigns it once the
 * step is done (outside the gradient), saves it in checkpoints (weights.safetensors,
 * under the `state/` prefix) and restores it on resume, exactly. Outside training steps
 * (sampling, evaluation, export) `setState` is ignored. Use `readState` / `writeState`
 * below: harnesses that build their own ctx (the conformance suite) have no state, and
 * there a state reads as a parameter of the same name.
 *
 * EMA target (`ema`): in `build`, `ctx.ema(input, decay)` returns the static output that
 * drives `input` (a network's Fn) built a second time over shadow weights
 * theta_ema <- decay theta_ema + (1 - decay) theta, updated after every optimiser step of
 * each objective that trains that network (theta_ema = theta at step 0). Shadows are named
 * `ema/${nodeId}/${paramName}`, checkpointed with the weights, and exported by name. Use
 * `emaOf` below.
 */
export interface NodeCtx<T> {
  ops: Ops<T>;
  nodeId: string;
  /** creates (first call) or returns the trainable parameter `${nodeId}/${local}` */
  param(local: string, shape: number[], init: Init): T;
  /** rows per training batch: data and prior nodes draw this many */
  batchSize: number;
  /** the current batch of a data node */
  feed(nodeId: string): T;
  /** hyper-parameter of an objective or sampler chosen at run time (e.g. sampler steps) */
  mode: 'train' | 'sample';
  /** creates (first call) or returns the current value of the state `state/${nodeId}/${local}` */
  state?(local: string, shape: number[], init: StateInit): T;
  /** the state's value after this training step (ignored outside training steps) */
  setState?(local: string, value: T): void;
  /** (build only) the value driving `input`, rebuilt over EMA shadow weights */
  ema?(input: string, decay: number): unknown;
  /** the node of another graph this node stands for (NodeSpec.external), resolved by the host */
  external?: ExternalNode;
}

/** what a node with NodeSpec.external refers to; paths as written (resolved by the host) */
export interface ExternalRef {
  /** the graph document (a file, or the name of a bundled template) */
  graph: string;
  /** the node's id in that document */
  node: string;
  /** the run folder of that document whose newest checkpoint holds the node's weights */
  run: string;
}

/** the node an ExternalRef names, read from its document and validated there */
export interface ExternalNode {
  /** the ref with paths made absolute (graph: the file, or `template:NAME`) */
  ref: ExternalRef;
  type: string;
  spec: AnyNodeSpec;
  params: any;
  inShapes: Record<string, PortShape | undefined>;
  outShapes: Record<string, PortShape>;
}

/** the current value of a node state (see NodeCtx); a parameter of that name where the host keeps no state */
export function readState<T>(ctx: NodeCtx<T>, local: string, shape: number[], init: StateInit): T {
  if (ctx.state) return ctx.state(local, shape, init);
  return ctx.param(`state/${local}`, shape, init.kind === 'uniform' ? { kind: 'zeros' } : init);
}

/** sets a node state's value after this training step (no-op where the host keeps no state) */
export function writeState<T>(ctx: NodeCtx<T>, local: string, value: T): void {
  ctx.setState?.(local, value);
}

/** (build) the EMA copy of the static value driving `input`; the value itself where the host keeps no EMA */
export function emaOf<T, V>(ctx: NodeCtx<T>, input: string, decay: number, online: V): V {
  return ctx.ema ? (ctx.ema(input, decay) as V) : online;
}

type ValueOfKind<K, T> = K extends 'Tensor'
  ? T
  : K extends 'Dist'
    ? DistValue<T>
    : K extends 'Fn'
      ? FnValue<T>
      : K extends 'Bijector'
        ? BijectorValue<T>
        : K extends 'Schedule'
          ? ScheduleValue
          : K extends 'Loss'
            ? LossValue<T>
            : never;

export type PortValues<P extends Record<string, PortDecl>, T> = {
  [K in keyof P]: P[K]['optional'] extends true
    ? ValueOfKind<P[K]['type']['kind'], T> | undefined
    : ValueOfKind<P[K]['type']['kind'], T>;
};

export type PortShapes<P extends Record<string, PortDecl>> = {
  [K in keyof P]: P[K]['optional'] extends true ? PortShape | undefined : PortShape;
};

export type OutShapes<P extends Record<string, PortDecl>> = { [K in keyof P]: PortShape };

/** Thrown by `infer` when inputs do not fit; becomes a diagnostic on that port. */
export class InferError extends Error {
  constructor(
    readonly port: string,
    message: string,
    readonly code: 'shape-mismatch' | 'bad-input' = 'shape-mismatch',
  ) {
    super(message);
  }
}

export interface ApplyArgs<I extends Record<string, PortDecl>, P, T, B> {
  inputs: PortValues<I, T>;
  params: P;
  /** inferred shapes of this node's inputs */
  shapes: PortShapes<I>;
  /** what `build` returned */
  built: B;
}

export interface NodeMath {
  /** KaTeX-renderable LaTeX of what the node computes */
  latex: string;
  /** one paragraph for learners */
  explain: string;
}

/** kinds of ONNX export target (src-main/export/targets.ts computes each) */
export const TARGET_KINDS = ['generator', 'encoder', 'density', 'denoiser', 'energy', 'sampler'] as const;
export type TargetKind = (typeof TARGET_KINDS)[number];

/**
 * An export target a node offers. `port` names one of the node's outputs; `input` names
 * one of its inputs (the value driving it is exported, named after the upstream node):
 * - generator: an Fn without time (z -> x) or a Bijector run forward (x = f(z));
 * - encoder: a posterior Dist, exported as its parameters;
 * - denoiser: a time-conditioned Fn ((x_t, t) -> eps, score or velocity);
 * - density: a Dist, exported as log p(x);
 * - sampler: a sampler's samples (every sampler offers one; no need to declare it).
 */
export type ExportDecl = { kind: TargetKind; doc?: string } & ({ port: string; input?: never } | { input: string; port?: never });

/** what a node contributes to the held-out evaluation of a trained graph */
export type EvaluatorDecl =
  /**
   * held-out NLL (nats per example) of a Dist: `dist` names an input of the node (the Dist
   * driving it) or one of its outputs; the data is what drives input `data` (default: the
   * graph's first data node)
   */
  | { kind: 'nll'; dist: string; data?: string }
  /** held-out loss terms of this objective; `metric` = the sum of `sum` (e.g. negElbo = recon + kl) */
  | { kind: 'terms'; metric: string; sum: string[]; report: string[] }
  /**
   * held-out importance-sampled NLL of a latent-variable objective (Burda et al. 2016, eq. 8):
   *   -log p(x) ~= -log (1/K) sum_k p(x|z_k) p(z) / q(z_k|x),  z_k ~ q(z|x),
   * with K = `samples`, on at most `rows` held-out rows. `x`, `q`, `prior` and `px` name the
   * objective's inputs carrying the observations, the posterior q(z|x), the prior p(z) and
   * the likelihood p(x|z); the latent that drives the node producing `px` must be a draw
   * from q (it is replaced by the K fresh draws).
   */
  | { kind: 'iwae'; metric: string; samples: number; rows: number; x: string; q: string; prior: string; px: string }
  /**
   * held-out NLL of an RBM by annealed importance sampling of log Z (Salakhutdinov & Murray
   * 2008; src-main/eval/ais.ts): `rbm` names the objective's input carrying the RBM's Fn,
   * `data` the input driven by the data; the objective's params `aisBetas` and `aisChains`
   * (when present) set the number of temperatures and of annealing runs
   */
  | { kind: 'ais'; metric: string; rbm: string; data: string };

/** structural facts for the compare view and the inspector */
export interface NodeFacts {
  /** the latent structure this node implies; the highest rank in a graph wins */
  latent?: { text: string; rank: number };
  /** the likelihood an objective gives (exact beats bound beats none) */
  likelihood?: { kind: 'exact' | 'bound' | 'none'; text: string };
  /** what an objective minimises between the data and the model, in words (the compare view) */
  divergence?: string;
  /** a sampler's cost: network evaluations per sample (undefined when unknown) */
  sampler?: { calls: number | undefined; text: string };
}

/** inputs (and non-default params) the conformance suite exercises the node with */
export interface ConformanceFixture {
  inputs: Record<string, PortShape>;
  params?: Record<string, unknown>;
  /**
   * input values the suite cannot make from a shape alone (an RBM's Fn carries its weights),
   * built with the interpreter's ops; `param` gives random weights by name
   */
  values?: Record<string, <T>(ops: Ops<T>, param: (name: string, shape: number[]) => T) => unknown>;
  /** the resolved external node (NodeSpec.external) the suite runs the node with */
  external?: () => ExternalNode;
}

/** how the inspector shows one param */
export interface ParamHint {
  /** never shown (set by the studio or the file) */
  hidden?: boolean;
  /** shown under "advanced" */
  advanced?: boolean;
  /** unit after the value, e.g. 'steps', 'nats' */
  units?: string;
  /** shown only while another param has one of these values */
  showWhen?: Record<string, readonly unknown[]>;
  /** the node ignores this param while `input` is connected (shown read-only, with `reason`) */
  ignoredWhenConnected?: { input: string; reason: string };
}

export interface NodeSpec<
  I extends Record<string, PortDecl> = Record<string, PortDecl>,
  O extends Record<string, PortDecl> = Record<string, PortDecl>,
  S extends z.ZodType = z.ZodType,
  B = unknown,
> {
  /** stable, namespaced id, e.g. `flow.affineCoupling` */
  type: string;
  version: number;
  title: string;
  category: Category;
  role: Role;
  inputs: I;
  outputs: O;
  /** zod schema with a default for every field: `params.parse({})` gives the defaults */
  params: S;
  /** upgrades params written by an older version, one version at a time */
  migrate?: (params: Record<string, unknown>, fromVersion: number) => Record<string, unknown>;
  math: NodeMath;
  /** export targets this node offers (samplers offer theirs without declaring it) */
  exports?: readonly ExportDecl[];
  /** held-out evaluations this node contributes */
  evaluators?: readonly EvaluatorDecl[];
  /** structural facts (compare view) from params and inferred input shapes */
  describe?(params: z.output<S>, shapes: PortShapes<I>): NodeFacts;
  /** the conformance suite's inputs for this node */
  fixture: ConformanceFixture;
  /**
   * objectives: the networks trained when `trains` is empty, by category among the
   * networks upstream (default: all of them). A critic loss trains only the critic.
   */
  defaultTrains?: { only?: readonly Category[]; except?: readonly Category[] };
  /** inspector hints per param */
  ui?: { readonly [K in keyof z.output<S> & string]?: ParamHint };
  /**
   * A node standing for a node of another graph document (a trained teacher network):
   * `external(params)` names the document, the node in it and the run folder holding its
   * weights. The host resolves it before validation (src-main/graph/externals.ts) and hands
   * the resolved node to `infer` (third argument) and `build` (`ctx.external`).
   */
  external?(params: z.output<S>): ExternalRef;
  /**
   * The params with the file and folder paths they hold made absolute by `abs` (a relative
   * path names a file beside the document), so the document means the same wherever it is
   * read from; a node with no paths leaves this out.
   */
  resolvePaths?(params: z.output<S>, abs: (path: string) => string): z.output<S>;
  /** output shapes from input shapes and params; throws InferError naming the port */
  infer(shapes: PortShapes<I>, params: z.output<S>, external?: ExternalNode): OutShapes<O>;
  /**
   * Creates parameters, constants and the outputs that do not depend on per-batch inputs
   * (a network's Fn, a prior's Dist, a Schedule). Called once per runner, outside any
   * training step. `statics` holds the inputs whose upstream outputs are static.
   */
  build?<T>(ctx: NodeCtx<T>, params: z.output<S>, shapes: PortShapes<I>, statics: Partial<PortValues<I, T>>): B;
  /** outputs of `build` under output port names (these need no inputs) */
  staticOutputs?: readonly (keyof O & string)[];
  /** the computation, written against Ops */
  apply<T>(ctx: NodeCtx<T>, args: ApplyArgs<I, z.output<S>, T, B>): Partial<PortValues<O, T>>;
  /**
   * networks: a closed-form update rule (an EM step, a running mean) used instead of a
   * gradient step by objectives whose optimiser is `{ kind: 'update' }`. Called on the
   * node's inputs of the same evaluation as the objective's loss; returns new values of
   * its parameters by local name (the ones it leaves out stay as they are).
   */
  update?<T>(ctx: NodeCtx<T>, args: ApplyArgs<I, z.output<S>, T, B>): Record<string, T>;
  /**
   * The node's outputs are computed before each training step, outside the gradient tape:
   * no gradient flows into or through them, and they cost no backward pass (Langevin
   * negatives: the chain must not be backpropagated). Their apply should still
   * stopGradient what the math says sg[.], for interpreters that run under one tape. Only
   * data nodes are shared with the step; what else they depend on is computed again there.
   */
  detached?: boolean;
  /**
   * What the node computes depends on the batch size's value, not only on shapes (a replay
   * buffer that keeps the newest B rows). An interpreter with a symbolic batch (the
   * PyTorch program) records the objectives downstream of it at a fixed batch size.
   */
  batchDependent?: boolean;
}

export type AnyNodeSpec = NodeSpec<Record<string, PortDecl>, Record<string, PortDecl>, z.ZodType, any>;

export function defineNode<
  const I extends Record<string, PortDecl>,
  const O extends Record<string, PortDecl>,
  S extends z.ZodType,
  B = undefined,
>(spec: NodeSpec<I, O, S, B>): NodeSpec<I, O, S, B> {
  return spec;
}
