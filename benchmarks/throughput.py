#!/usr/bin/env python
"""Throughput of hopfield-mixer's models and blocks on this machine, and comparisons with peers, in one run.

    python benchmarks/throughput.py --quick            # about 1-2 minutes on 2 cores
    python benchmarks/throughput.py                    # the full run, with torch.compile checks (~10 minutes)

Measures, and writes to --out as JSON:
  1. every variant at size 't': training (forward + backward + AdamW step) and inference images/s, fp32, on
     32x32x3 (patch 4) and 28x28x1 (patch 7) input, and the Fashion-MNIST epoch time that implies;
  2. bf16 autocast on the CPU against fp32, per variant, as a speed ratio;
  3. our serial block against timm's MixerBlock (same computation: per-token LayerNorm, MLP biases) and our
     parallel block against the straightforward formulation of the authors' code (the joint LayerNorm computed
     once per branch, transpose-linear-transpose token MLP), forward+backward and inference, as ratios;
  4. where a parallel block's time goes: its LayerNorm, token MLP and channel MLP, each forward+backward;
  5. (full run, or --compile) that torch.compile runs a training step of every variant and matches eager.
Every number is the median of >= 5 timed runs; compared pairs are timed interleaved (A, B, A, B, ...).
"""
import argparse, json, platform, statistics, sys, time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from hopfield_mixer.layers import ParallelBlock, SerialBlock
from hopfield_mixer.models import VARIANTS, SIZES, create_mixer, param_count


def timed(fn, steps):
    t = time.perf_counter()
    for _ in range(steps): fn()
    return (time.perf_counter() - t) / steps


def median_times(fns, runs, steps, warmup=1):
    "Median seconds per call of each function, timed interleaved run by run."
    for fn in fns:
        for _ in range(warmup): fn()
    samples = [[] for _ in fns]
    for _ in range(runs):
        for s, fn in zip(samples, fns): s.append(timed(fn, steps))
    return [statistics.median(s) for s in samples]


def train_step_fn(model, x, y, bf16=False):
    opt = torch.optim.AdamW(model.parameters(), 1e-4)
    model.train()
    def step():
        with torch.autocast('cpu', dtype=torch.bfloat16, enabled=bf16):
            loss = F.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True); loss.backward(); opt.step()
    return step


def infer_fn(model, x):
    def run():
        model.eval()
        with torch.no_grad(): model(x)
    return run


INPUTS = {'32x32x3': dict(img_size=32, in_chans=3, patch_size=4), '28x28x1': dict(img_size=28, in_chans=1, patch_size=7)}


def bench_models(a):
    rows = []
    for name, inp in INPUTS.items():
        for variant in VARIANTS:
            torch.manual_seed(0)
            m = create_mixer(variant, 't', num_classes=10, **inp)
            x = torch.randn(a.bs, inp['in_chans'], inp['img_size'], inp['img_size']); y = torch.randint(0, 10, (a.bs,))
            t_train, = median_times([train_step_fn(m, x, y)], a.runs, a.steps)
            t_inf, = median_times([infer_fn(m, x)], a.runs, a.steps)
            r = dict(input=name, variant=variant, params=param_count(m), tokens=m.num_tokens, batch=a.bs,
                     train_img_s=a.bs / t_train, infer_img_s=a.bs / t_inf)
            if name == '28x28x1': r['fashion_mnist_epoch_s'] = 60000 / r['train_img_s']
            rows.append(r)
            print(f"  {name} {variant:>8}: {r['params']/1e6:5.2f}M params, train {r['train_img_s']:7.1f} img/s, "
                  f"inference {r['infer_img_s']:7.1f} img/s" + (f", Fashion-MNIST epoch ~{r['fashion_mnist_epoch_s']:.0f} s" if 'fashion_mnist_epoch_s' in r else ''), flush=True)
    return rows


def bench_bf16(a):
    rows = []
    inputs = ['28x28x1'] if a.quick else list(INPUTS)
    for name in inputs:
        inp = INPUTS[name]
        for variant in VARIANTS:
            torch.manual_seed(0)
            m32, m16 = (create_mixer(variant, 't', num_classes=10, **inp) for _ in range(2))
            x = torch.randn(a.bf16_bs, inp['in_chans'], inp['img_size'], inp['img_size']); y = torch.randint(0, 10, (a.bf16_bs,))
            t32, t16 = median_times([train_step_fn(m32, x, y), train_step_fn(m16, x, y, bf16=True)], a.runs, 1)
            rows.append(dict(input=name, variant=variant, batch=a.bf16_bs, fp32_img_s=a.bf16_bs / t32,
                             bf16_img_s=a.bf16_bs / t16, bf16_speedup=t32 / t16))
            print(f"  {name} {variant:>8}: fp32 {a.bf16_bs/t32:7.1f} img/s, bf16 autocast {a.bf16_bs/t16:7.1f} img/s, "
                  f"speed-up {t32/t16:.2f}x", flush=True)
    return rows


class StraightforwardParallelBlock(nn.Module):
    "The parallel block as the authors' code writes it: the joint LayerNorm applied once per branch, nn.Linear MLPs."
    def __init__(self, S, C, Ds, Dc):
        super().__init__()
        self.norm = nn.LayerNorm((S, C), eps=1e-6)
        self.mlp_tokens = nn.Sequential(nn.Linear(S, Ds, bias=False), nn.GELU(), nn.Linear(Ds, S, bias=False))
        self.mlp_channels = nn.Sequential(nn.Linear(C, Dc, bias=False), nn.GELU(), nn.Linear(Dc, C, bias=False))

    def forward(self, x):
        return (x + self.mlp_tokens(self.norm(x).transpose(1, 2)).transpose(1, 2)
                + self.mlp_channels(self.norm(x)))


def fwd_bwd_fn(block, x, grad):
    def run():
        x.grad = None
        block.zero_grad(set_to_none=True)
        block(x).backward(grad)
    return run


def fwd_fn(block, x):
    def run():
        with torch.no_grad(): block(x)
    return run


def bench_blocks(a):
    from timm.models.mlp_mixer import MixerBlock
    S, C = 64, SIZES['t'][1]
    Ds, Dc = C // 2, 4 * C
    torch.manual_seed(0)
    x = torch.randn(a.bs, S, C, requires_grad=True); grad = torch.randn(a.bs, S, C)
    out = {}
    pairs = {
        'serial vs timm MixerBlock': (SerialBlock(S, C, Ds, Dc, 'untied', 'token', mlp_bias=True),
                                      MixerBlock(C, S, mlp_ratio=(0.5, 4.0))),
        'parallel vs straightforward': (ParallelBlock(S, C, Ds, Dc, 'untied', 'joint'),
                                        StraightforwardParallelBlock(S, C, Ds, Dc)),
    }
    for name, (ours, peer) in pairs.items():
        assert param_count(ours) == param_count(peer), (name, param_count(ours), param_count(peer))
        t_ours, t_peer = median_times([fwd_bwd_fn(ours, x, grad), fwd_bwd_fn(peer, x, grad)], a.runs, a.block_steps)
        i_ours, i_peer = median_times([fwd_fn(ours, x), fwd_fn(peer, x)], a.runs, a.block_steps)
        out[name] = dict(batch=a.bs, tokens=S, channels=C, train_ms_ours=1e3 * t_ours, train_ms_peer=1e3 * t_peer,
                         train_ratio=t_peer / t_ours, infer_ms_ours=1e3 * i_ours, infer_ms_peer=1e3 * i_peer,
                         infer_ratio=i_peer / i_ours)
        print(f"  {name}: forward+backward {1e3*t_ours:.2f} ms vs {1e3*t_peer:.2f} ms -> {t_peer/t_ours:.3f}x; "
              f"inference {1e3*i_ours:.2f} ms vs {1e3*i_peer:.2f} ms -> {i_peer/i_ours:.3f}x", flush=True)
    blk = pairs['parallel vs straightforward'][0]
    g = blk.norm(x).detach().requires_grad_()
    parts = {'norm': fwd_bwd_fn(blk.norm, x, grad), 'token MLP': fwd_bwd_fn(blk.token_mixer, g, grad),
             'channel MLP': fwd_bwd_fn(blk.channel_mixer, g, grad), 'whole block': fwd_bwd_fn(blk, x, grad)}
    times = dict(zip(parts, median_times(list(parts.values()), a.runs, a.block_steps)))
    total = sum(v for k, v in times.items() if k != 'whole block')
    out['profile'] = {k: dict(ms=1e3 * v, share=v / total) for k, v in times.items()}
    print("  parallel block, forward+backward: " + ", ".join(
        f"{k} {1e3*v:.2f} ms" + (f" ({100*v/total:.0f}%)" if k != 'whole block' else '') for k, v in times.items()), flush=True)
    return out


def check_compile(a):
    rows = []
    inp = INPUTS['28x28x1']
    for variant in VARIANTS:
        torch.manual_seed(0)
        m = create_mixer(variant, 't', num_classes=10, **inp)
        with torch.no_grad(): m.head.weight.normal_(0, 0.1)      # the zero head would hide any difference
        x = torch.randn(16, 1, 28, 28); y = torch.randint(0, 10, (16,))
        eager_logits = m(x).detach()
        F.cross_entropy(m(x), y).backward()
        eager_grad = m.blocks[0].channel_mixer.weight_in.grad.clone(); m.zero_grad()
        t = time.perf_counter()
        cm = torch.compile(m)
        logits = cm(x); F.cross_entropy(logits, y).backward()
        grad = m.blocks[0].channel_mixer.weight_in.grad
        d_out = (logits.detach() - eager_logits).abs().max().item()
        d_grad = ((grad - eager_grad).abs().max() / eager_grad.abs().max()).item()
        ok = d_out <= 1e-4 and d_grad <= 1e-3
        rows.append(dict(variant=variant, max_logit_diff=d_out, max_rel_grad_diff=d_grad, matches=ok,
                         compile_and_step_s=time.perf_counter() - t))
        print(f"  torch.compile {variant:>8}: logits differ from eager by {d_out:.1e}, gradients by {d_grad:.1e} (relative) "
              f"-> {'ok' if ok else 'MISMATCH'} ({rows[-1]['compile_and_step_s']:.0f} s)", flush=True)
    return rows


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--quick', action='store_true', help='smaller batches and fewer steps (about 1-2 minutes)')
    p.add_argument('--compile', action=argparse.BooleanOptionalAction, default=None,
                   help='check torch.compile on every variant (default: on in the full run, off with --quick)')
    p.add_argument('--sections', default='models,bf16,blocks,compile',
                   help='comma-separated subset of models,bf16,blocks,compile (default: all)')
    p.add_argument('--out', default=None, help='JSON file to write (default benchmarks/results/throughput[-quick].json)')
    a = p.parse_args(argv)
    a.sections = set(a.sections.split(','))
    a.bs, a.runs, a.steps, a.block_steps, a.bf16_bs = (64, 5, 2, 5, 16) if a.quick else (128, 7, 5, 10, 64)
    if a.compile is None: a.compile = not a.quick
    out = Path(a.out or Path(__file__).parent / 'results' / f"throughput{'-quick' if a.quick else ''}.json")
    t0 = time.time()
    meta = dict(command='python benchmarks/throughput.py ' + ' '.join(sys.argv[1:] if argv is None else argv), torch=torch.__version__,
                threads=torch.get_num_threads(), cpu_capability=torch.backends.cpu.get_cpu_capability(),
                machine=platform.machine(), python=platform.python_version(), runs_per_median=a.runs)
    print(f"torch {meta['torch']}, {meta['threads']} threads, CPU capability {meta['cpu_capability']}", flush=True)
    res = dict(meta=meta)
    if 'models' in a.sections: print("1. models at size 't' (fp32)"); res['models'] = bench_models(a)
    if 'bf16' in a.sections: print("2. bf16 autocast vs fp32 (training)"); res['bf16'] = bench_bf16(a)
    if 'blocks' in a.sections: print("3-4. blocks against peers, and the parallel block's profile"); res['blocks'] = bench_blocks(a)
    if a.compile and 'compile' in a.sections: print("5. torch.compile"); res['compile'] = check_compile(a)
    res['meta']['wall_s'] = time.time() - t0
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix('.tmp'); tmp.write_text(json.dumps(res, indent=1)); tmp.replace(out)
    print(f"wrote {out} ({res['meta']['wall_s']:.0f} s)")


if __name__ == '__main__':
    sys.exit(main())
