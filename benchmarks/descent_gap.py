"""Where the library's descent loses time: `HAM.descend` against a loop written by hand for one memory, in one process.

    python benchmarks/descent_gap.py [--threads 2] [--rounds 20]

The memory is the Energy MetaFormer's (`energy_metaformer()`: a visible LayerNorm layer of 784 between two ReLU layers
of 900, batch 512, float32), descended 10 steps with alpha = 0.1 inside `frozen()`. The hand-written loop does the same
arithmetic with the same kernels (fused LayerNorm, oneDNN for W g on the packed weight, BLAS for W^T g, in-place Euler
steps) in three variants: `reused` writes the ReLU activations and the visible layer's current into buffers kept across
steps (`clamp_min(out=)`, `mm(out=)` + `addmm_`), `fresh mm` only the ReLUs, `fresh` nothing. It checks that the loop
gives the library's energies, then times every variant in turn, round after round (medians), and counts the minor page
faults of five descents each. A diagnostic for issue 20, not a result the docs show: it writes nothing.
"""
import argparse, resource, statistics, sys, time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from hopfield_mixer.lagrangians import _dot
from hopfield_mixer.metaformer import energy_metaformer

N_VIS, N_HID, BATCH, STEPS, ALPHA, EPS = 784, 900, 512, 10, 0.1, 1e-5


def by_hand(ham, xs, reuse_relu=True, reuse_current=True):
    "The descent of `ham.descend(xs, STEPS, ALPHA)` written out for this memory."
    lp = torch.ops.mkldnn._linear_pointwise
    W_s, W_c = (ham.synapses[k] for k in ('W_s', 'W_c'))
    with ham.frozen():
        p_s, p_c = (s._packed[s.weight.data_ptr()] for s in (W_s, W_c))
        x_s, x_v, x_c = xs['xs'].clone(), xs['v'].clone(), xs['xc'].clone()
        g_s, g_c, I_v = torch.empty_like(x_s), torch.empty_like(x_c), torch.empty_like(x_v)
        energies = []
        for i in range(STEPS + 1):
            g_v, _, rstd = torch.native_layer_norm(x_v, (N_VIS,), None, None, EPS)
            if reuse_relu: torch.clamp_min(x_s, 0, out=g_s); torch.clamp_min(x_c, 0, out=g_c)
            else: g_s, g_c = torch.relu(x_s), torch.relu(x_c)
            legendre = rstd.view(-1) * (-EPS * N_VIS) + (torch.linalg.vector_norm(g_s, dim=1).square() + torch.linalg.vector_norm(g_c, dim=1).square()) / 2
            I_s, I_c = lp(g_v, p_s, None, 'none', [], ''), lp(g_v, p_c, None, 'none', [], '')
            if i == STEPS: energies.append(legendre - _dot(g_s, I_s) - _dot(g_c, I_c)); break
            if reuse_current: torch.mm(g_s, W_s.weight.detach(), out=I_v); I_v.addmm_(g_c, W_c.weight.detach())
            else: I_v = g_s @ W_s.weight + g_c @ W_c.weight
            energies.append(legendre - _dot(g_v, I_v))
            x_s.lerp_(I_s, ALPHA); x_c.lerp_(I_c, ALPHA); x_v.lerp_(I_v, ALPHA)
    return {'xs': x_s, 'v': x_v, 'xc': x_c}, torch.stack(energies)


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--threads', type=int, default=2, help='torch threads (default 2)')
    p.add_argument('--rounds', type=int, default=20, help='timed calls of each variant, interleaved (default 20)')
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    ham = energy_metaformer(N_VIS, N_HID, EPS)
    gen = torch.Generator().manual_seed(1)
    xs = {k: torch.randn(BATCH, n, generator=gen) for k, n in (('xs', N_HID), ('v', N_VIS), ('xc', N_HID))}
    variants = {'HAM.descend': lambda: ham.descend(xs, STEPS, ALPHA), 'by hand, reused': lambda: by_hand(ham, xs),
                'by hand, fresh mm': lambda: by_hand(ham, xs, reuse_current=False),
                'by hand, fresh': lambda: by_hand(ham, xs, reuse_relu=False, reuse_current=False)}
    with torch.no_grad():
        (x_lib, E_lib), (x_hand, E_hand) = variants['HAM.descend'](), variants['by hand, reused']()
        gap = (E_lib - E_hand).abs().max().item()
        print(f'energies agree to {gap:.1e} (scale {E_lib.abs().max().item():.0e}); states to '
              f'{max((x_lib[k] - x_hand[k]).abs().max().item() for k in x_lib):.1e}')
        if gap > 1e-5 * E_lib.abs().max().item(): raise SystemExit('the hand-written loop is not the same descent')
        faults = {}
        for name, f in variants.items():
            for _ in range(2): f()
            before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
            for _ in range(5): f()
            faults[name] = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 5
        times = {name: [] for name in variants}
        for _ in range(a.rounds):
            for name, f in variants.items():
                t = time.perf_counter(); f(); times[name].append(time.perf_counter() - t)
    print(f'{a.threads} thread(s), {a.rounds} interleaved rounds, batch {BATCH}, {STEPS} steps:')
    for name in variants:
        print(f'  {name:18s} {1e3 * statistics.median(times[name]):7.1f} ms   {faults[name]:7.0f} minor page faults per descent')


if __name__ == '__main__': main()
