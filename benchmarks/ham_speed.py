"""This project's HAM against HAMUX (JAX, under `jax.jit`) on the Energy MetaFormer's memory, in one interleaved run.

    python benchmarks/ham_speed.py --hamux-python /path/to/venv/bin/python [--threads 1,2] [--rounds 30] [--reps 5]

The memory is `energy_metaformer()`: a visible LayerNorm layer of 784 pixels between two ReLU layers of 900, two
dense synapses. Both libraries get the same weights and the same states (batch 512, float32; written to a temporary
.npz by this process). For each thread count, two worker processes start with that many threads — this project under
the interpreter running this script, HAMUX under `--hamux-python`, a scratch virtual environment with
`pip install hamux jax equinox fastcore jaxtyping` (HAMUX is a reference to measure against, not a dependency) — both
pinned to the same cores; then, round after round, each worker times `--reps` calls of a task while the other one
waits — HAMUX's task and every one of this project's tasks compared with it back to back, HAMUX first in even rounds
and last in odd ones — so that both see the same machine. Reported, as ratios HAMUX time / this project's time (above
1: this project is faster): the median of the per-round ratios (one round's HAMUX median over its median of the other
task, measured seconds apart) with a distribution-free 95 % confidence interval for it (order statistics of the
rounds), the lowest and highest per-round ratio (how much the machine moves one measurement), and the ratio of the
medians over all calls.

Tasks, the same work in both: `gradient` — the activations of every layer, the energy and dE/dg of every layer;
`descent` — 10 Euler steps x <- x - 0.1 dE/dg on every layer, recording the energy of each of the 11 states. This
project also runs `gradient` on a memory kept inside `frozen()` (W packed once for oneDNN, as for repeated
inference; `descend` does this itself for each call), on its general path (every synapse differentiated by autograd),
and the four products with W alone (the floor: 4 x 512 x 784 x 900 multiply-adds), by PyTorch's `@` and by the
frozen synapses (W g on the packed weight, W^T g by BLAS); HAMUX runs the same four products alone under `jax.jit`.
Both `gradient` and `descent` also run compiled by PyTorch, `torch.compile(ham.energy_and_dEdg, fullgraph=True)` and
`torch.compile(ham.descend, fullgraph=True)` (inductor, default mode) — the counterpart of HAMUX under `jax.jit`; the
first call of each compiled function (ours and HAMUX's) is timed apart as its compile time. Parity: the energies and
dE/dg of both in float64. Writes benchmarks/results/ham_speed.json.
"""
import argparse, contextlib, json, math, os, platform, statistics, subprocess, sys, tempfile, time
from pathlib import Path

N_VIS, N_HID, BATCH, STEPS, ALPHA, EPS = 784, 900, 512, 10, 0.1, 1e-5
GROUPS = {'gradient': ('gradient', 'gradient_frozen', 'gradient_compiled', 'gradient_general'),   # HAMUX's task: this project's tasks timed beside it
          'descent': ('descent', 'descent_compiled'), 'matmuls': ('matmuls', 'matmuls_frozen')}
PAIRS = {'gradient': ('gradient', 'gradient'), 'gradient_frozen': ('gradient', 'gradient_frozen'),   # reported ratio: (HAMUX's task, ours)
         'gradient_compiled': ('gradient', 'gradient_compiled'), 'descent': ('descent', 'descent'),
         'descent_compiled': ('descent', 'descent_compiled'), 'matmuls': ('matmuls', 'matmuls_frozen')}


# ---------------------------------------------------------------- the workers (one process each, JSON lines on stdin/stdout)
def _timed(f, reps, sync=lambda r: r):
    ts = []
    for _ in range(reps):
        t = time.perf_counter(); sync(f()); ts.append(time.perf_counter() - t)
    return ts


def torch_worker(data):
    import numpy as np, torch
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from hopfield_mixer.metaformer import energy_metaformer
    torch.set_num_threads(int(os.environ['BENCH_THREADS']))
    d = np.load(data)
    def memory(dtype):
        ham = energy_metaformer(N_VIS, N_HID, EPS).to(dtype)
        with torch.no_grad():
            for k in ('W_s', 'W_c'): ham.synapses[k].weight.copy_(torch.from_numpy(d[k]))
        return ham, {k: torch.from_numpy(d[f'x_{k}']).to(dtype) for k in ('xs', 'v', 'xc')}
    ham, xs = memory(torch.float32)
    still, _ = memory(torch.float32); stack = contextlib.ExitStack(); stack.enter_context(still.frozen())   # a memory kept frozen
    W = [ham.synapses[k].weight.detach() for k in ('W_s', 'W_c')]
    S = [still.synapses[k] for k in ('W_s', 'W_c')]
    g_v, g_h = torch.randn(BATCH, N_VIS), torch.randn(BATCH, N_HID)
    tasks = {'gradient': lambda: ham.energy_and_dEdg(xs), 'gradient_frozen': lambda: still.energy_and_dEdg(xs),
             'gradient_general': lambda: ham.energy_and_dEdg(xs, general=True),
             'descent': lambda: ham.descend(xs, STEPS, ALPHA),                  # descend packs the weights itself, once per call
             'matmuls': lambda: [(g_v @ w.T, g_h @ w) for w in W],               # PyTorch's own product
             'matmuls_frozen': lambda: [(s(g_v), s.transpose(g_h)) for s in S]}  # the synapses' product while frozen
    compiled = {'gradient_compiled': torch.compile(ham.energy_and_dEdg, fullgraph=True), 'descent_compiled': torch.compile(ham.descend, fullgraph=True)}
    tasks.update(gradient_compiled=lambda: compiled['gradient_compiled'](xs), descent_compiled=lambda: compiled['descent_compiled'](xs, STEPS, ALPHA))
    compile_seconds = {}
    with torch.no_grad():
        for k in compiled: t = time.perf_counter(); tasks[k](); compile_seconds[k] = time.perf_counter() - t   # the first call compiles
    def parity():
        ham64, xs64 = memory(torch.float64)
        E, d = ham64.energy_and_dEdg(xs64)
        return dict(energy=E.tolist(), **{f'dEdg_{k}': v.tolist() for k, v in d.items()})
    with torch.no_grad(): serve(tasks, parity, compile_seconds=compile_seconds)


def hamux_worker(data):
    import numpy as np
    import jax
    jax.config.update('jax_enable_x64', True)
    import jax.numpy as jnp
    import hamux as hmx
    from functools import partial
    d = np.load(data)
    def memory(dtype):
        neurons = {'xs': hmx.NeuronLayer(hmx.lagr_relu, (N_HID,)), 'xc': hmx.NeuronLayer(hmx.lagr_relu, (N_HID,)),
                   'v': hmx.NeuronLayer(partial(hmx.lagr_layernorm, eps=EPS), (N_VIS,))}
        # HAMUX's LinearSynapse has E = -g1ᵀ W g2 with W (dim1, dim2): this project's W (hidden, visible), transposed
        synapses = {k: hmx.LinearSynapse(W=jnp.asarray(d[k].T, dtype=dtype)) for k in ('W_s', 'W_c')}
        ham = hmx.HAM(neurons, synapses, [(('v', 'xs'), 'W_s'), (('v', 'xc'), 'W_c')]).vectorize()
        return ham, {k: jnp.asarray(d[f'x_{k}'], dtype=dtype) for k in ('xs', 'v', 'xc')}
    ham, xs = memory(jnp.float32)

    @jax.jit
    def gradient(xs):
        return ham.dEdact(ham.activations(xs), xs, return_energy=True)

    @jax.jit
    def descent(xs):
        energies = []
        for _ in range(STEPS):
            E, g = ham.dEdact(ham.activations(xs), xs, return_energy=True)
            energies.append(E)
            xs = {k: xs[k] - ALPHA * g[k] for k in xs}
        energies.append(ham.energy(ham.activations(xs), xs))
        return xs, jnp.stack(energies)
    @jax.jit
    def matmuls(g_v, g_h):                                               # the four products alone, as in `gradient`
        return [(g_v @ s.W, g_h @ s.W.T) for s in ham.hypersynapses.values()]
    block = lambda r: jax.block_until_ready(r)
    g_v, g_h = jnp.ones((BATCH, N_VIS), jnp.float32), jnp.ones((BATCH, N_HID), jnp.float32)
    compile_seconds = {}
    for k, f in (('gradient', lambda: gradient(xs)), ('descent', lambda: descent(xs))):
        t = time.perf_counter(); block(f()); compile_seconds[k] = time.perf_counter() - t   # the first call compiles
    tasks = {'gradient': lambda: gradient(xs), 'descent': lambda: descent(xs), 'matmuls': lambda: matmuls(g_v, g_h)}
    def parity():
        ham64, xs64 = memory(jnp.float64)
        E, g = ham64.dEdact(ham64.activations(xs64), xs64, return_energy=True)
        return dict(energy=np.asarray(E).tolist(), **{f'dEdg_{k}': np.asarray(v).tolist() for k, v in g.items()})
    serve(tasks, parity, block, compile_seconds)


def serve(tasks, parity, sync=lambda r: r, compile_seconds=None):
    for f in tasks.values(): sync(f())                                   # warm-up
    print(json.dumps({'ready': True}), flush=True)
    for line in sys.stdin:
        cmd = json.loads(line)
        if cmd['task'] == 'parity': out = parity()
        elif cmd['task'] == 'versions': out = versions()
        elif cmd['task'] == 'compile_seconds': out = compile_seconds or {}
        else: out = _timed(tasks[cmd['task']], cmd['reps'], sync)
        print(json.dumps(out), flush=True)


def versions():
    out = {}
    for m in ('torch', 'jax', 'hamux', 'equinox', 'numpy'):
        try: out[m] = __import__(m).__version__
        except ImportError: pass
    return out


# ---------------------------------------------------------------- the driver
class Worker:
    def __init__(self, python, kind, data, threads, cores):
        env = {**os.environ, 'BENCH_THREADS': str(threads), 'OMP_NUM_THREADS': str(threads), 'MKL_NUM_THREADS': str(threads),
               'XLA_FLAGS': f'--xla_cpu_multi_thread_eigen={"true" if threads > 1 else "false"} intra_op_parallelism_threads={threads}',
               'PYTHONWARNINGS': 'ignore'}
        cmd = ['taskset', '-c', cores, python, __file__, '--worker', kind, '--data', data]
        self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
        self.kind = kind
        assert json.loads(self.p.stdout.readline()).get('ready'), f'{kind} worker did not start'

    def ask(self, **cmd):
        self.p.stdin.write(json.dumps(cmd) + '\n'); self.p.stdin.flush()
        line = self.p.stdout.readline()
        if not line: raise RuntimeError(f'the {self.kind} worker died')
        return json.loads(line)

    def close(self): self.p.stdin.close(); self.p.wait(timeout=60)


def median_ci95(xs):
    "The median of `xs` and a distribution-free 95 % confidence interval for it: order statistics k and n+1-k, k the largest with P(Binomial(n, 1/2) < k) <= 0.025."
    xs, n = sorted(xs), len(xs)
    below = lambda k: sum(math.comb(n, i) for i in range(k)) / 2 ** n
    k = max((k for k in range(1, n // 2 + 1) if below(k) <= 0.025), default=None)
    return statistics.median(xs), ([xs[k - 1], xs[n - k]] if k else [xs[0], xs[-1]])   # under 6 rounds no interval reaches 95 %: the whole range


def machine():
    cpu = next((l.split(':', 1)[1].strip() for l in Path('/proc/cpuinfo').read_text().splitlines() if l.startswith('model name')), platform.processor())
    return dict(cpu=cpu, cores=os.cpu_count(), python=platform.python_version())


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--hamux-python', help='python of a virtual environment with hamux and jax')
    p.add_argument('--threads', default='1,2', help='comma-separated thread counts (default 1,2)')
    p.add_argument('--rounds', type=int, default=30, help='interleaved rounds per thread count (default 30; a 95 %% interval needs at least 6: below, the whole range is reported)')
    p.add_argument('--reps', type=int, default=5, help='timed calls per task and round (default 5)')
    p.add_argument('--cores', default=None, help="cores to pin the workers to, e.g. '1' (default: the first N for N threads)")
    p.add_argument('--out', default=str(Path(__file__).resolve().parent / 'results' / 'ham_speed.json'))
    p.add_argument('--worker', choices=('torch', 'hamux'), help=argparse.SUPPRESS)
    p.add_argument('--data', help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.worker: return (torch_worker if a.worker == 'torch' else hamux_worker)(a.data)
    if not a.hamux_python: p.error('--hamux-python is required (a venv with: pip install hamux jax equinox fastcore jaxtyping)')
    import numpy as np, torch
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from hopfield_mixer.metaformer import energy_metaformer
    torch.manual_seed(0)
    ham = energy_metaformer(N_VIS, N_HID, EPS)                                   # xavier-uniform weights, seed 0
    gen = torch.Generator().manual_seed(1)
    arrays = {k: ham.synapses[k].weight.detach().double().numpy() for k in ('W_s', 'W_c')}
    arrays.update({f'x_{k}': torch.randn(BATCH, n, generator=gen, dtype=torch.float64).numpy() for k, n in (('xs', N_HID), ('v', N_VIS), ('xc', N_HID))})
    t0, results = time.time(), dict(threads={})
    with tempfile.TemporaryDirectory() as tmp:
        data = str(Path(tmp) / 'memory.npz'); np.savez(data, **arrays)
        for threads in [int(t) for t in a.threads.split(',')]:
            cores = a.cores or ','.join(str(c) for c in range(threads))
            workers = {'torch': Worker(sys.executable, 'torch', data, threads, cores), 'hamux': Worker(a.hamux_python, 'hamux', data, threads, cores)}
            times = {('hamux', h): [] for h in GROUPS} | {('torch', t): [] for ts in GROUPS.values() for t in ts}
            for r in range(a.rounds):                                            # interleaved: HAMUX's task and ours beside it, back to back
                for h, ours in GROUPS.items():
                    order = [('hamux', h)] + [('torch', t) for t in ours]
                    for kind, task in (order if r % 2 == 0 else order[::-1]): times[(kind, task)].append(workers[kind].ask(task=task, reps=a.reps))
            med = {f'{k}_{t}_ms': 1e3 * statistics.median(sum(v, [])) for (k, t), v in times.items()}
            spread = {}
            for name, (h, ours) in PAIRS.items():
                per_round = [statistics.median(x) / statistics.median(y) for x, y in zip(times[('hamux', h)], times[('torch', ours)])]
                (spread[f'{name}_ratio_paired'], spread[f'{name}_ratio_ci95']), spread[f'{name}_ratio_rounds'] = median_ci95(per_round), [min(per_round), max(per_round)]
            row = dict(med, **spread, rounds=a.rounds, calls_per_task=a.rounds * a.reps,
                       gradient_ratio=med['hamux_gradient_ms'] / med['torch_gradient_ms'],
                       gradient_frozen_ratio=med['hamux_gradient_ms'] / med['torch_gradient_frozen_ms'],
                       gradient_compiled_ratio=med['hamux_gradient_ms'] / med['torch_gradient_compiled_ms'],
                       descent_ratio=med['hamux_descent_ms'] / med['torch_descent_ms'],
                       descent_compiled_ratio=med['hamux_descent_ms'] / med['torch_descent_compiled_ms'],
                       matmuls_ratio=med['hamux_matmuls_ms'] / med['torch_matmuls_frozen_ms'],
                       compile_seconds={k: w.ask(task='compile_seconds') for k, w in workers.items()},
                       general_over_fast=med['torch_gradient_general_ms'] / med['torch_gradient_ms'],
                       matmul_gflops=4 * 2 * BATCH * N_VIS * N_HID / (med['torch_matmuls_ms'] * 1e6),
                       matmul_frozen_gflops=4 * 2 * BATCH * N_VIS * N_HID / (med['torch_matmuls_frozen_ms'] * 1e6),
                       gradient_over_matmuls=med['torch_gradient_ms'] / med['torch_matmuls_ms'],
                       gradient_frozen_over_matmuls=med['torch_gradient_frozen_ms'] / med['torch_matmuls_frozen_ms'])
            if 'parity_float64' not in results:                                 # once, on the first thread count
                par = {k: w.ask(task='parity') for k, w in workers.items()}
                results['parity_float64'] = {key: float(np.abs(np.asarray(par['torch'][key]) - np.asarray(par['hamux'][key])).max())
                                             for key in par['torch']}
                results['parity_float64']['energy_scale'] = float(np.abs(np.asarray(par['torch']['energy'])).max())
                results['versions'] = {**workers['hamux'].ask(task='versions'), **{k: v for k, v in workers['torch'].ask(task='versions').items() if k == 'torch'}}
            for w in workers.values(): w.close()
            results['threads'][str(threads)] = row
            print(f"{threads} thread(s): this project {med['torch_gradient_ms']:.1f} ms a gradient (frozen {med['torch_gradient_frozen_ms']:.1f}, "
                  f"compiled {med['torch_gradient_compiled_ms']:.1f}, general path {med['torch_gradient_general_ms']:.1f}; its 4 products alone "
                  f"{med['torch_matmuls_ms']:.1f}, frozen {med['torch_matmuls_frozen_ms']:.1f}), {med['torch_descent_ms']:.1f} ms a descent "
                  f"(compiled {med['torch_descent_compiled_ms']:.1f}); HAMUX {med['hamux_gradient_ms']:.1f}, {med['hamux_descent_ms']:.1f}, "
                  f"its 4 products {med['hamux_matmuls_ms']:.1f} ms. HAMUX / ours, per-round median [95 % CI] (range):", flush=True)
            for name in PAIRS:
                lo, hi = row[f'{name}_ratio_ci95']; rlo, rhi = row[f'{name}_ratio_rounds']
                print(f"  {name:18s} {row[f'{name}_ratio_paired']:.3f}x [{lo:.3f}, {hi:.3f}]  ({rlo:.2f}-{rhi:.2f})", flush=True)
    argv = ['<venv>/bin/python' if prev == '--hamux-python' else v for prev, v in zip([''] + sys.argv[1:], sys.argv[1:])]
    results.update(command='python benchmarks/ham_speed.py ' + ' '.join(argv),
                   machine=machine(), memory=dict(n_visible=N_VIS, n_hidden=N_HID, batch=BATCH, steps=STEPS, alpha=ALPHA, dtype='float32'),
                   seconds=time.time() - t0, date=time.strftime('%Y-%m-%d'))
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(a.out).with_suffix('.tmp'); tmp.write_text(json.dumps(results, indent=1)); tmp.replace(a.out)
    print('parity (float64, max |difference|):', {k: f'{v:.1e}' for k, v in results['parity_float64'].items()})
    print(f'wrote {a.out}')


if __name__ == '__main__': main()
