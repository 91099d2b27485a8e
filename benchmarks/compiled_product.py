"""What the oneDNN operator buys a compiled memory: `torch.compile` of the HAM with W g as `hopfield_mixer::onednn_linear`
(the library) against the same graph with the compiler's own product for it (`g @ W.T`, BLAS with W transposed), in one process.

    python benchmarks/compiled_product.py [--threads 1] [--rounds 20]

The memory is the Energy MetaFormer's (`energy_metaformer()`: a visible LayerNorm layer of 784 between two ReLU layers
of 900, batch 512, float32). Two copies with the same weights are compiled whole (`fullgraph=True`, inductor's default
mode): one as the library builds it, one with `DenseSynapse._product` patched here so that a trace gets `g @ W.T` for
W g (what the library did before). Both copies' gradient (`energy_and_dEdg`) and 10-step descent (`descend`) are timed
in turn, round after round (order reversed every other round; 3 calls each), and the speed-up is the median of the
per-round ratios with a distribution-free 95 % confidence interval. A diagnostic for issue 20: it writes nothing.
"""
import argparse, statistics, sys, time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1])); sys.path.insert(0, str(Path(__file__).resolve().parent))
import hopfield_mixer.ham as H
from hopfield_mixer.metaformer import energy_metaformer
from ham_speed import ALPHA, BATCH, EPS, N_HID, N_VIS, STEPS, median_ci95           # the memory and descent the HAMUX benchmark times

PLAIN, OP = "the compiler's product", 'the oneDNN operator'


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--threads', type=int, default=1, help='torch threads (default 1)')
    p.add_argument('--rounds', type=int, default=20, help='interleaved rounds (default 20)')
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    if not (H._onednn_available() and H._onednn_linear is not None): raise SystemExit('no oneDNN operator here (oneDNN or torch.library.custom_op missing): nothing to compare')
    library = H.DenseSynapse._product
    def compilers_own(self, g, transpose):                                   # W g as the compiler's own product inside a trace
        if torch.compiler.is_compiling() and getattr(self, 'plain_when_compiled', False) and not transpose: return g @ self.weight.T
        return library(self, g, transpose)
    H.DenseSynapse._product = compilers_own
    hams = {}
    for name, plain in ((PLAIN, True), (OP, False)):
        torch.manual_seed(0); hams[name] = energy_metaformer(N_VIS, N_HID, EPS)
        for s in hams[name].synapses.values(): s.plain_when_compiled = plain
    gen = torch.Generator().manual_seed(1)
    xs = {k: torch.randn(BATCH, n, generator=gen) for k, n in (('xs', N_HID), ('v', N_VIS), ('xc', N_HID))}
    tasks = {}
    for name, ham in hams.items():
        grad, desc = torch.compile(ham.energy_and_dEdg, fullgraph=True), torch.compile(ham.descend, fullgraph=True)
        tasks[('gradient', name)] = lambda f=grad: f(xs)
        tasks[('descent', name)] = lambda f=desc: f(xs, STEPS, ALPHA)
    with torch.no_grad():
        for f in tasks.values(): f()                                         # the first calls compile
        E = [tasks[('descent', name)]()[1] for name in hams]
        gap = (E[0] - E[1]).abs().max().item()
        if gap > 1e-5 * E[0].abs().max().item(): raise SystemExit(f'the two compiled descents differ: {gap:.1e}')
        times, ratios = {k: [] for k in tasks}, {'gradient': [], 'descent': []}
        for r in range(a.rounds):
            med = {}
            for k, f in (list(tasks.items()) if r % 2 == 0 else list(tasks.items())[::-1]):
                ts = []
                for _ in range(3): t = time.perf_counter(); f(); ts.append(time.perf_counter() - t)
                times[k] += ts; med[k] = statistics.median(ts)
            for task in ratios: ratios[task].append(med[(task, PLAIN)] / med[(task, OP)])
    print(f'{a.threads} thread(s), {a.rounds} rounds, batch {BATCH}; energies of the two agree to {gap:.1e}')
    span = '95 % CI' if a.rounds >= 6 else 'range: too few rounds for a 95 % interval'
    for task, rs in ratios.items():
        m, (lo, hi) = median_ci95(rs)
        print(f"  {task:8s} {PLAIN} {1e3 * statistics.median(times[(task, PLAIN)]):6.1f} ms, {OP} "
              f"{1e3 * statistics.median(times[(task, OP)]):6.1f} ms: speed-up {m:.3f} [{span} {lo:.3f}, {hi:.3f}]")


if __name__ == '__main__': main()
