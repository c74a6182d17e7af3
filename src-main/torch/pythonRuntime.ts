/**
 * The fixed part of every generated PyTorch program: argument parsing, the tensor files
 * (safetensors, written by hand: Debian's torch has no safetensors package), the seeded
 * draws, the bundled toy datasets, the optimisers in the form tfjs applies them, the
 * training loop (objectives in order, steps per round, node state, weight clipping, EMA
 * shadows, the NaN guard), checkpoints in the run-folder layout, and data parallelism
 * under torchrun. The graph's own part (emitProgram.ts) defines GRAPH, build() and one
 * function per objective and sampler before this code's main() runs.
 *
 * Runs on torch 1.13 through 2.x with nothing but torch and the standard library.
 */
export const PYTHON_RUNTIME = String.raw`
import argparse, hashlib, json, math, os, signal, struct, sys, time
from datetime import datetime, timezone

import torch
import torch.nn.functional as F

DEV = torch.device('cpu')
FLOAT = torch.float32  # --dtype float64 runs the same program in double precision (a rounding reference)
P = {}      # trainable parameters, by Genloom name
S = {}      # node state ('state/...') and EMA shadows ('ema/...'): persistent, never trained
C = {}      # constants of the graph
GEN = None  # the generator of every draw of the graph
REPLAY = None  # parity checks: the noise to use instead of draws, in call order


# ------------------------------------------------------------------ tensor files
_ST_DTYPES = {'F32': torch.float32, 'I32': torch.int32, 'I64': torch.int64}
_ST_NAMES = {torch.float32: 'F32', torch.int32: 'I32', torch.int64: 'I64'}


def read_safetensors(path):
    """name -> tensor (CPU) and the metadata of a safetensors file"""
    with open(path, 'rb') as f:
        raw = f.read()
    (size,) = struct.unpack('<Q', raw[:8])
    header = json.loads(raw[8:8 + size].decode('utf-8'))
    meta = header.pop('__metadata__', {}) or {}
    base = 8 + size
    out = {}
    for name, info in header.items():
        dt = _ST_DTYPES.get(info['dtype'])
        if dt is None:
            raise SystemExit('%s: tensor %s has dtype %s, which this program does not read' % (path, name, info['dtype']))
        a, b = info['data_offsets']
        buf = bytearray(raw[base + a:base + b])
        t = torch.frombuffer(buf, dtype=dt) if b > a else torch.zeros(0, dtype=dt)
        out[name] = t.reshape(info['shape']).clone()
    return out, meta


def encode_safetensors(tensors, meta=None):
    header = {}
    chunks = []
    off = 0
    for name in sorted(tensors):
        t = tensors[name].detach().to('cpu').contiguous()
        data = t.numpy().tobytes() if t.numel() else b''
        header[name] = {'dtype': _ST_NAMES[t.dtype], 'shape': list(t.shape), 'data_offsets': [off, off + len(data)]}
        chunks.append(data)
        off += len(data)
    if meta:
        header['__metadata__'] = {k: str(v) for k, v in meta.items()}
    h = json.dumps(header, separators=(',', ':')).encode('utf-8')
    h += b' ' * ((8 - len(h) % 8) % 8)
    return struct.pack('<Q', len(h)) + h + b''.join(chunks)


# ------------------------------------------------------------------ draws
def rnd_normal(shape):
    if REPLAY is not None:
        return REPLAY.take('normal', tuple(shape))
    return torch.randn(tuple(shape), generator=GEN, device=DEV, dtype=FLOAT)


def rnd_uniform(shape):
    if REPLAY is not None:
        return REPLAY.take('uniform', tuple(shape))
    return torch.rand(tuple(shape), generator=GEN, device=DEV, dtype=FLOAT)


def rnd_int(rows, k):
    """integers uniform in [0, k) as float32, one per row"""
    if REPLAY is not None:
        return REPLAY.take('int', (rows,))
    return torch.clamp(torch.floor(torch.rand((rows,), generator=GEN, device=DEV) * k), max=k - 1).to(FLOAT)


class Replay:
    """recorded noise and batches, used in order; under torchrun each rank takes its rows"""

    def __init__(self, path, rank, world):
        t, meta = read_safetensors(path)
        self.rank, self.world = rank, world
        self.batch = int(meta['batch'])
        self.noise = [(t['noise/%d' % i], meta['noise/%d' % i]) for i in range(int(meta['noise']))]
        self.feeds = {}
        for k in sorted(t):
            if k.startswith('feed/'):
                _, node, i = k.split('/')
                self.feeds.setdefault(node, []).append((int(i), t[k]))
        for v in self.feeds.values():
            v.sort(key=lambda p: p[0])
        self.k = 0

    def part(self, x):
        if self.world > 1 and x.dim() > 0 and x.shape[0] == self.batch:
            m = self.batch // self.world
            return x[self.rank * m:(self.rank + 1) * m]
        return x

    def take(self, kind, shape):
        if self.k >= len(self.noise):
            raise SystemExit('replay: the graph drew more noise than was recorded (%d draws)' % len(self.noise))
        x, k = self.noise[self.k]
        self.k += 1
        x = self.part(x).to(DEV, FLOAT)
        if k != kind or tuple(x.shape) != tuple(shape):
            raise SystemExit('replay: draw %d is %s %s, the graph asks for %s %s' % (self.k - 1, k, tuple(x.shape), kind, tuple(shape)))
        return x

    def feed(self, node):
        q = self.feeds.get(node)
        if not q:
            raise SystemExit('replay: no recorded batch left for data node %s' % node)
        return self.part(q.pop(0)[1]).to(DEV, FLOAT)


def round_seed(seed, r, salt=0):
    """the per-round seed of the project's trainer (32-bit arithmetic)"""
    M = 0xFFFFFFFF

    def imul(a, b):
        return ((a & M) * (b & M)) & M

    h = imul((seed & M) ^ 0x85ebca6b, 0xc2b2ae35) ^ imul(r + 1, 0x27d4eb2f) ^ imul(salt + 7, 0x165667b1)
    h = imul(h ^ (h >> 15), 0x2c1b3c6d)
    h = imul(h ^ (h >> 12), 0x297a2d39)
    return (h ^ (h >> 15)) & M


# ------------------------------------------------------------------ data
_EIGHT = [(4 * math.cos(k * math.pi / 4) / 1.414, 4 * math.sin(k * math.pi / 4) / 1.414) for k in range(8)]
_RING8 = [(math.cos(k * math.pi / 4), math.sin(k * math.pi / 4)) for k in range(8)]
_GRID25 = [(-4 + 2 * (k // 5), -4 + 2 * (k % 5)) for k in range(25)]


def _mixture(n, centres, sigma, g):
    c = torch.tensor(centres, dtype=torch.float32)
    k = torch.randint(len(centres), (n,), generator=g)
    return c[k] + sigma * torch.randn((n, 2), generator=g)


def toy(name, n, g):
    """n i.i.d. points of a bundled toy set (the definitions of the project's data/toy.ts)"""
    U = lambda *s: torch.rand(s, generator=g)
    N = lambda *s: torch.randn(s, generator=g)
    if name == '8gaussians':
        return _mixture(n, _EIGHT, 0.5 / 1.414, g)
    if name == 'ring8':
        return _mixture(n, _RING8, 0.01, g)
    if name == 'grid25':
        return _mixture(n, _GRID25, 0.05, g)
    if name == 'moons':
        t = math.pi * U(n)
        outer = U(n) < 0.5
        x = torch.where(outer, torch.cos(t), 1 - torch.cos(t)) + 0.1 * N(n)
        y = torch.where(outer, torch.sin(t), 0.5 - torch.sin(t)) + 0.1 * N(n)
        return torch.stack([2 * x - 1, 2 * y - 0.2], 1)
    if name == 'swissroll':
        t = 1.5 * math.pi * (1 + 2 * U(n))
        return torch.stack([(t * torch.cos(t) + N(n)) / 5, (t * torch.sin(t) + N(n)) / 5], 1)
    if name == 'checkerboard':
        x1 = 4 * U(n) - 2
        x2 = U(n) - 2 * torch.randint(2, (n,), generator=g).float() + torch.remainder(torch.floor(x1), 2)
        return torch.stack([2 * x1, 2 * x2], 1)
    if name == 'pinwheel':
        arm = torch.randint(5, (n,), generator=g).float()
        f0 = 0.3 * N(n) + 1
        f1 = 0.1 * N(n)
        a = 2 * math.pi * arm / 5 + 0.25 * torch.exp(f0)
        return torch.stack([2 * (f0 * torch.cos(a) + f1 * torch.sin(a)), 2 * (-f0 * torch.sin(a) + f1 * torch.cos(a))], 1)
    if name == '2spirals':
        t = torch.sqrt(U(n)) * (540 * 2 * math.pi / 360)
        dx = -torch.cos(t) * t + 0.5 * U(n)
        dy = torch.sin(t) * t + 0.5 * U(n)
        s = torch.where(U(n) < 0.5, 1.0, -1.0)
        return torch.stack([s * dx / 3 + 0.1 * N(n), s * dy / 3 + 0.1 * N(n)], 1)
    if name == 'rings':
        r = 3 * 0.25 * (4 - torch.randint(4, (n,), generator=g).float())
        a = 2 * math.pi * U(n)
        return torch.stack([r * torch.cos(a) + 0.08 * N(n), r * torch.sin(a) + 0.08 * N(n)], 1)
    if name == '1d-bimodal':
        left = U(n) < 0.3
        return torch.where(left, -2 + 0.5 * N(n), 2 + 0.7 * N(n)).reshape(n, 1)
    raise SystemExit('unknown toy set %s' % name)


class Data:
    """the training batches of one data node: a toy set drawn fresh, or rows of the data file drawn with replacement"""

    def __init__(self, node, dataset, table, seed, rank):
        self.node, self.dataset, self.table = node, dataset, table
        self.seed, self.rank = seed, rank
        self.g = torch.Generator()

    def reseed(self, r):
        """each round's batches from (seed, round, rank): a resumed run draws what the uninterrupted run would"""
        self.g.manual_seed(round_seed(self.seed, r, 101 + 7919 * self.rank))

    def batch(self, n):
        if self.table is None:
            return toy(self.dataset, n, self.g).to(DEV, FLOAT)
        x = self.table[torch.randint(self.table.shape[0], (n,), generator=self.g)]
        if self.dataset == 'mnist-binary':
            x = (torch.rand(x.shape, generator=self.g) < x).float()
        return x.to(DEV, FLOAT)


# ------------------------------------------------------------------ optimisers (the tfjs forms, state under the tfjs names)
class Optimizer:
    def __init__(self, name, cfg, params):
        self.name, self.cfg, self.params = name, cfg, params
        self.iter = 0
        self.slots = {}
        kind = cfg['kind']
        names = {'adam': ['m', 'v'], 'sgd': ['momentum'] if cfg.get('momentum', 0) > 0 else [], 'rmsprop': ['rms', 'momentum'], 'update': []}[kind]
        for p in params:
            for s in names:
                self.slots['%s/%s' % (p, s)] = torch.zeros_like(P[p])
        f32 = lambda v: torch.tensor(v, dtype=torch.float32)  # beta^t in float32, as tfjs accumulates it
        if kind == 'adam':
            self.acc1, self.acc2 = f32(cfg['beta1']), f32(cfg['beta2'])

    @torch.no_grad()
    def step(self, grads):
        c = self.cfg
        kind = c['kind']
        for p, g in zip(self.params, grads):
            if g is None:
                continue
            w = P[p]
            if kind == 'adam':
                # m <- b1 m + (1 - b1) g; v <- b2 v + (1 - b2) g^2;
                # w <- w - lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps), eps = 1e-7
                m, v = self.slots[p + '/m'], self.slots[p + '/v']
                m.mul_(c['beta1']).add_(g * (1 - c['beta1']))
                v.mul_(c['beta2']).add_(torch.square(g) * (1 - c['beta2']))
                mh = m / (1 - self.acc1.to(w.device, FLOAT))
                vh = v / (1 - self.acc2.to(w.device, FLOAT))
                w.add_(mh / (torch.sqrt(vh) + 1e-7) * -c['lr'])
            elif kind == 'sgd':
                if c.get('momentum', 0) > 0:
                    a = self.slots[p + '/momentum']
                    a.mul_(c['momentum']).add_(g)
                    w.sub_(a * c['lr'])
                else:
                    w.sub_(g * c['lr'])
            elif kind == 'rmsprop':
                # ms <- decay ms + (1 - decay) g^2; mom <- momentum mom + lr g / sqrt(ms + eps); w <- w - mom
                ms, mom = self.slots[p + '/rms'], self.slots[p + '/momentum']
                ms.mul_(c['decay']).add_(torch.square(g) * (1 - c['decay']))
                mom.mul_(c['momentum']).add_(g * c['lr'] / torch.sqrt(ms + c['epsilon']))
                w.sub_(mom)
        self.iter += 1
        if kind == 'adam':
            self.acc1 = self.acc1 * torch.tensor(c['beta1'], dtype=torch.float32)
            self.acc2 = self.acc2 * torch.tensor(c['beta2'], dtype=torch.float32)

    def state(self):
        out = {'%s::%s' % (self.name, k): v.float() for k, v in self.slots.items()}
        if self.slots or self.cfg['kind'] != 'update':
            out['%s::iter' % self.name] = torch.tensor(float(self.iter))
        return out

    def load(self, tensors):
        for k in self.slots:
            key = '%s::%s' % (self.name, k)
            if key in tensors:
                self.slots[k].copy_(tensors[key].to(self.slots[k].device))
        it = tensors.get('%s::iter' % self.name)
        if it is not None:
            self.iter = int(round(float(it.reshape(-1)[0])))
            if self.cfg['kind'] == 'adam':
                # beta^t by repeated float32 products, as training builds it
                b1, b2 = torch.tensor(self.cfg['beta1'], dtype=torch.float32), torch.tensor(self.cfg['beta2'], dtype=torch.float32)
                self.acc1, self.acc2 = b1.clone(), b2.clone()
                for _ in range(self.iter):
                    self.acc1, self.acc2 = self.acc1 * b1, self.acc2 * b2


# ------------------------------------------------------------------ run folder
def _now():
    return datetime.now(timezone.utc).isoformat(timespec='milliseconds').replace('+00:00', 'Z')


def _write_synced(path, data):
    with open(path, 'wb') as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def write_checkpoint(run, step, opts, seed, batch, losses, keep=3):
    root = os.path.join(run, 'checkpoints')
    os.makedirs(root, exist_ok=True)
    name = 'step-%07d' % step
    tmp = os.path.join(root, '.tmp-%s-%s' % (name, os.urandom(4).hex()))
    os.makedirs(tmp)
    meta = {'format': 'pt', 'genloom': GRAPH['genloom'], 'step': str(step)}
    weights = {k: v.float() for k, v in P.items()}
    weights.update({k: v.float() if v.is_floating_point() else v for k, v in S.items()})
    wb = encode_safetensors(weights, meta)
    ostate = {}
    for o in opts.values():
        ostate.update(o.state())
    ob = encode_safetensors(ostate, dict(meta, kind='optimizer-state'))
    _write_synced(os.path.join(tmp, 'weights.safetensors'), wb)
    _write_synced(os.path.join(tmp, 'optimizer.safetensors'), ob)
    state = {
        'format': 'genloom-checkpoint', 'version': 1, 'step': step, 'seed': seed, 'batchSize': batch,
        'backend': 'torch-%s' % DEV.type, 'losses': losses, 'genloom': GRAPH['genloom'], 'time': _now(),
        'files': {
            'weights': {'name': 'weights.safetensors', 'bytes': len(wb), 'sha256': hashlib.sha256(wb).hexdigest()},
            'optimizer': {'name': 'optimizer.safetensors', 'bytes': len(ob), 'sha256': hashlib.sha256(ob).hexdigest()},
        },
    }
    _write_synced(os.path.join(tmp, 'state.json'), (json.dumps(state, indent=2) + '\n').encode())
    final = os.path.join(root, name)
    if os.path.exists(final):
        import shutil
        shutil.rmtree(final)
    os.rename(tmp, final)
    ptr = os.path.join(root, '.latest.json.%s.tmp' % os.urandom(4).hex())
    _write_synced(ptr, (json.dumps({'step': step, 'path': name, 'time': _now()}, indent=2) + '\n').encode())
    os.replace(ptr, os.path.join(root, 'latest.json'))
    import shutil
    steps = sorted(d for d in os.listdir(root) if d.startswith('step-'))
    for d in steps[:-keep]:
        shutil.rmtree(os.path.join(root, d), ignore_errors=True)
    for d in os.listdir(root):
        if d.startswith('.tmp-'):
            shutil.rmtree(os.path.join(root, d), ignore_errors=True)


def read_latest(run):
    root = os.path.join(run, 'checkpoints')
    with open(os.path.join(root, 'latest.json')) as f:
        ptr = json.load(f)
    d = os.path.join(root, ptr['path'])
    with open(os.path.join(d, 'state.json')) as f:
        state = json.load(f)
    if state.get('format') != 'genloom-checkpoint' or state.get('version') != 1:
        raise ValueError('%s is a checkpoint of format %s version %s; this program (Genloom %s) reads version 1: write the program again with genloom export-torch' % (d, state.get('format'), state.get('version'), GRAPH['genloom']))
    w, _ = read_safetensors(os.path.join(d, 'weights.safetensors'))
    o, _ = read_safetensors(os.path.join(d, 'optimizer.safetensors'))
    return state, w, o


def append_metrics(run, line):
    with open(os.path.join(run, 'metrics.jsonl'), 'a') as f:
        f.write(json.dumps(line, separators=(',', ':')) + '\n')


def event(args, **e):
    """one progress event: a JSON line (--json) or a short text line"""
    if args.json:
        print(json.dumps(e, separators=(',', ':')), flush=True)
    elif e['type'] == 'step':
        print('step %d/%d  %s  %.1f steps/s' % (e['step'], e['totalSteps'], '  '.join('%s %.4g' % (k, v['loss']) for k, v in e['losses'].items()), e['stepsPerSec']), flush=True)
    elif e['type'] in ('error', 'done', 'started', 'checkpoint'):
        print('%s: %s' % (e['type'], e.get('message', json.dumps({k: v for k, v in e.items() if k != 'type'}))), flush=True)


# ------------------------------------------------------------------ training
def detach_all(d):
    return {k: v.detach() for k, v in d.items()}


class Feed(dict):
    """the batch of each data node, drawn when the step first reads it (as the trainer draws)"""

    def __init__(self, draw):
        super().__init__()
        self.draw = draw

    def __missing__(self, node):
        v = self[node] = self.draw(node)
        return v


def run_step(o, n, feed, read, world):
    """one step of objective o (the project's trainer: loss, update, state, clip, EMA)"""
    if o['batch'] is not None and n != o['batch']:
        raise SystemExit('objective %s was written for a batch of %d per process (a node of it reads the batch size); write the program again with --batch %d' % (o['name'], o['batch'], n * int(os.environ.get('WORLD_SIZE', '1'))))
    new_state = {}
    names = o['params']
    if o['optimizer']['kind'] == 'update':
        with torch.no_grad():
            loss, terms, updates = o['fn'](n, feed, new_state)
            for k, v in updates.items():
                P[k].copy_(v)
    else:
        # only the networks this objective trains are tracked (a GAN's critic step builds no graph for the generator)
        for k, p in P.items():
            p.requires_grad_(k in o['paramSet'])
        loss, terms = o['fn'](n, feed, new_state)
        grads = torch.autograd.grad(loss, [P[p] for p in names], allow_unused=True)
        if world > 1:
            grads = [allreduce_mean(g if g is not None else torch.zeros_like(P[p])) for p, g in zip(names, grads)]
        o['opt'].step(grads)
    with torch.no_grad():
        for k, v in new_state.items():
            if world > 1:
                v = allreduce_mean(v.detach().clone())
            S[k].copy_(v)
        clip = o['optimizer'].get('clipWeights')
        if clip is not None:
            for p in names:
                P[p].clamp_(-clip, clip)
        for e in o['emas']:
            S[e['name']].mul_(e['decay']).add_(P[e['source']] * (1 - e['decay']))
    if not read:
        return None
    vals = [loss.detach()] + [terms[k].detach() for k in terms]
    if world > 1:
        vals = [allreduce_mean(v.clone()) for v in vals]
    out = {'loss': float(vals[0])}
    for k, v in zip(terms, vals[1:]):
        out[k] = float(v)
    return out


def allreduce_mean(t):
    import torch.distributed as dist
    dist.all_reduce(t)
    return t / dist.get_world_size()


def main():
    global DEV, GEN, REPLAY, FLOAT
    ap = argparse.ArgumentParser(description='Train the graph %r (a program written by Genloom %s)' % (GRAPH['name'], GRAPH['genloom']))
    ap.add_argument('--steps', type=int, default=GRAPH['steps'], help='training rounds in all (default %(default)s)')
    ap.add_argument('--out', default=None, help='the run folder (default: runs/<graph name>)')
    ap.add_argument('--device', default='cpu', help='cpu, cuda or cuda:N')
    ap.add_argument('--batch', type=int, default=GRAPH['batchSize'], help='batch size in all; under torchrun each process takes batch / processes')
    ap.add_argument('--seed', type=int, default=GRAPH['seed'])
    ap.add_argument('--log-every', type=int, default=50)
    ap.add_argument('--checkpoint-every', type=int, default=1000)
    ap.add_argument('--sample-every', type=int, default=0, help='with --json: a samples event every N steps (0: never)')
    ap.add_argument('--sample-count', type=int, default=500)
    ap.add_argument('--resume', action='store_true', help='continue the run in --out from its newest checkpoint')
    ap.add_argument('--json', action='store_true', help='progress as JSON lines')
    ap.add_argument('--threads', type=int, default=0, help='CPU threads (default: torch decides)')
    ap.add_argument('--replay', default=None, help=argparse.SUPPRESS)
    ap.add_argument('--dtype', default='float32', choices=['float32', 'float64'], help='float64: the same program in double precision (to measure float32 rounding)')
    args = ap.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    run = args.out or os.path.join('runs', GRAPH['name'])
    if args.threads > 0:
        torch.set_num_threads(args.threads)

    world = int(os.environ.get('WORLD_SIZE', '1'))
    rank = int(os.environ.get('RANK', '0'))
    if args.device.startswith('cuda') and not torch.cuda.is_available():
        event(args, type='error', message='--device %s asked for, but torch %s sees no CUDA device: use --device cpu' % (args.device, torch.__version__))
        sys.exit(2)
    if world > 1:
        import torch.distributed as dist
        dist.init_process_group('nccl' if args.device.startswith('cuda') else 'gloo')
        if args.device == 'cuda':
            args.device = 'cuda:%d' % int(os.environ.get('LOCAL_RANK', '0'))
        if any(o['optimizer']['kind'] == 'update' for o in OBJECTIVES):
            event(args, type='error', message='objective %s trains by closed-form update rules, which do not run data-parallel: use one process' % next(o['name'] for o in OBJECTIVES if o['optimizer']['kind'] == 'update'))
            sys.exit(2)
        if args.batch % world:
            event(args, type='error', message='batch %d does not split over %d processes' % (args.batch, world))
            sys.exit(2)
    DEV = torch.device(args.device)
    FLOAT = torch.float64 if args.dtype == 'float64' else torch.float32
    local = args.batch // world

    init, _ = read_safetensors(os.path.join(here, 'weights.safetensors'))
    for spec in GRAPH['params']:
        P[spec['name']] = init[spec['name']].to(DEV, FLOAT).requires_grad_(True)
    for name in GRAPH['persistent']:
        S[name] = init[name].to(DEV, FLOAT)
    for k, t in init.items():
        if k.startswith('const/'):
            key = k[len('const/'):]
            C[key] = t.to(DEV).to(torch.int32 if key in GRAPH['intConstants'] else FLOAT)
    C.update({k: v.to(DEV, v.dtype if v.dtype == torch.int32 else FLOAT) for k, v in INLINE_CONSTANTS().items()})
    tables = {}
    if GRAPH['data'] and any(d['file'] for d in GRAPH['data']):
        tables, _ = read_safetensors(os.path.join(here, 'data.safetensors'))
    data = {d['node']: Data(d['node'], d['dataset'], tables.get(d['node']) if d['file'] else None, args.seed, rank) for d in GRAPH['data']}
    GEN = torch.Generator(device=DEV)
    GEN.manual_seed(round_seed(args.seed, 0, 0))
    build()
    opts = {}
    for o in OBJECTIVES:
        o['opt'] = Optimizer(o['name'], o['optimizer'], o['params'])
        o['paramSet'] = set(o['params'])
        opts[o['name']] = o['opt']

    start = 0
    if args.resume:
        try:
            state, w, ost = read_latest(run)
        except (OSError, ValueError, KeyError) as e:
            event(args, type='error', message='cannot resume %s: %s' % (run, e))
            sys.exit(2)
        with torch.no_grad():
            for k, t in w.items():
                if k in P:
                    P[k].copy_(t.to(DEV, FLOAT))
                elif k in S:
                    S[k].copy_(t.to(DEV, FLOAT))
        for o in opts.values():
            o.load(ost)
        start = state['step']
    elif rank == 0:
        os.makedirs(run, exist_ok=True)
        for old in ('metrics.jsonl',):
            if os.path.exists(os.path.join(run, old)):
                os.remove(os.path.join(run, old))
        import shutil
        shutil.rmtree(os.path.join(run, 'checkpoints'), ignore_errors=True)
        with open(os.path.join(here, 'graph.json')) as f, open(os.path.join(run, 'graph.json'), 'w') as g:
            g.write(f.read())
        with open(os.path.join(run, 'config.json'), 'w') as f:
            json.dump({'steps': args.steps, 'seed': args.seed, 'batchSize': args.batch, 'backend': 'torch', 'device': args.device, 'processes': world,
                       'torch': torch.__version__, 'genloom': GRAPH['genloom'], 'createdAt': _now()}, f, indent=2)
    if args.replay:
        REPLAY = Replay(args.replay, rank, world)

    stop = {'now': False}
    signal.signal(signal.SIGINT, lambda *_: stop.update(now=True))
    signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
    if rank == 0:
        event(args, type='started', backend='torch-%s' % DEV.type, torch=torch.__version__, runDir=run, step=start, totalSteps=args.steps, processes=world,
              device=torch.cuda.get_device_name(DEV) if DEV.type == 'cuda' else 'cpu')
    t0, last, lastStep = time.time(), time.time(), start
    losses = None
    step = start
    for r in range(start, args.steps):
        if REPLAY is None:
            GEN.manual_seed(round_seed(args.seed, r, 0) + 104729 * rank)
            for d in data.values():
                d.reseed(r)
        read = (r + 1) % args.log_every == 0 or r + 1 == args.steps or stop['now']
        out = {}
        for o in OBJECTIVES:
            for k in range(o['stepsPerRound']):
                feed = Feed(lambda d: REPLAY.feed(d) if REPLAY is not None else data[d].batch(local))
                terms = run_step(o, local, feed, read and k == o['stepsPerRound'] - 1, world)
                if terms is not None:
                    out[o['name']] = terms
        step = r + 1
        if read:
            bad = [(ob, t) for ob, ts in out.items() for t, v in ts.items() if not math.isfinite(v)]
            if bad:
                if rank == 0:
                    event(args, type='error', code='non-finite-loss', objective=bad[0][0], message='objective "%s" produced a non-finite %s at step %d; the run keeps its last good checkpoint (lower the learning rate and resume)' % (bad[0][0], bad[0][1], step))
                sys.exit(3)
            losses = out
            now = time.time()
            sps = (step - lastStep) / max(now - last, 1e-9)
            last, lastStep = now, step
            if rank == 0:
                append_metrics(run, {'type': 'step', 'step': step, 'losses': out, 'stepsPerSec': sps, 'time': _now()})
                event(args, type='step', step=step, totalSteps=args.steps, losses=out, stepsPerSec=sps, etaSec=(args.steps - step) / max(sps, 1e-9))
        if rank == 0 and args.json and args.sample_every > 0 and step % args.sample_every == 0 and step < args.steps:
            for sid, fn in SAMPLERS.items():
                x = fn(args.sample_count).float().cpu()
                event(args, type='samples', step=step, sampler=sid, shape=list(x.shape), data=[round(v, 6) for v in x.reshape(-1).tolist()])
        if rank == 0 and (step % args.checkpoint_every == 0 or step == args.steps or stop['now']):
            write_checkpoint(run, step, opts, args.seed, args.batch, losses)
            event(args, type='checkpoint', step=step, message='checkpoint at step %d' % step)
        if stop['now']:
            break
    if rank == 0:
        event(args, type='done', step=step, seconds=time.time() - t0, stopped=stop['now'], message='%s at step %d in %.1f s' % ('stopped' if stop['now'] else 'finished', step, time.time() - t0))
    if world > 1:
        import torch.distributed as dist
        dist.destroy_process_group()
`;
