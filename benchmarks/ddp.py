#!/usr/bin/env python
"""Multi-process data-parallel training (PyTorch DDP through fastai's `distrib_ctx`) against one process, in one run.

    python benchmarks/ddp.py [--epochs 4] [--seeds 0,1,2] [--out benchmarks/results/ddp.json]

On this machine's cores (all of them in every configuration), for each seed it trains the same AsymMixer (λ=1e-3,
size t, scikit-learn digits, the quick recipe) with `hopfield-mixer train --device cpu --quiet`:
  * `1 process, bs 64`            — one process with every core as torch threads;
  * `2 processes, bs 32 each`     — `torchrun --nproc_per_node 2`, one thread each: the same global batch (64) and
                                    the same number of optimizer steps as the single process;
  * `2 processes, bs 64 each`     — `torchrun --nproc_per_node 2`: global batch 128, half the steps.
It writes each run's result (top-1, seconds of training, training images/s, optimizer steps) and the medians per
configuration, with the ratios to the single process, to --out (JSON), and prints the table.
"""
import argparse, json, os, platform, statistics, subprocess, sys, tempfile, time
from pathlib import Path

import torch

from hopfield_mixer.checks import write_json

CONFIGS = {'1 process, bs 64': (1, 64), '2 processes, bs 32 each': (2, 32), '2 processes, bs 64 each': (2, 64)}


def train(procs, bs, seed, epochs, out):
    "One `hopfield-mixer train` run (under torchrun when procs > 1); its result.json, wall time and optimizer steps."
    threads = max(1, os.cpu_count() // procs)
    env = {**os.environ, 'OMP_NUM_THREADS': str(threads), 'PYTHONWARNINGS': 'ignore'}
    bindir = Path(sys.executable).parent
    launch = [str(bindir / 'hopfield-mixer')] if procs == 1 else [str(bindir / 'torchrun'), '--nproc_per_node', str(procs), '-m', 'hopfield_mixer.cli']
    args = ['train', '--variant', 'asym', '--lam', '1e-3', '--epochs', str(epochs), '--bs', str(bs), '--seed', str(seed),
            '--device', 'cpu', '--quiet', '--keep-checkpoints', '--out', str(out)]
    t = time.perf_counter()
    p = subprocess.run(launch + args, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t
    if p.returncode: sys.exit(f"{' '.join(launch + args)} failed:\n{p.stderr[-2000:]}")
    r = json.loads((out / 'result.json').read_text())
    opt = torch.load(out / 'checkpoints' / 'last.pth', weights_only=True)['opt']['state']
    steps = {int(s['step']) for s in (opt.values() if isinstance(opt, dict) else opt) if 'step' in s}
    return dict(processes=procs, bs=bs, seed=seed, top1=r['top1_last'], train_seconds=r['seconds'], train_img_s=r['train_img_s'],
                wall_seconds=wall, steps=steps.pop() if len(steps) == 1 else sorted(steps), command=' '.join(launch[-2:] + args[:-1]))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--epochs', type=int, default=4)
    p.add_argument('--seeds', default='0,1,2')
    p.add_argument('--out', default='benchmarks/results/ddp.json')
    a = p.parse_args()
    seeds = [int(s) for s in a.seeds.split(',')]
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in seeds:                     # configurations interleaved, so a slow spell of the machine hits all alike
            for i, (name, (procs, bs)) in enumerate(CONFIGS.items()):
                r = train(procs, bs, seed, a.epochs, Path(tmp) / f'{i}-{seed}')
                runs.append({'config': name, **r})
                print(f"{name:<26} seed {seed}: top-1 {100*r['top1']:.2f}%, {r['train_seconds']:.1f} s training, "
                      f"{r['train_img_s']:.0f} img/s, {r['steps']} steps", flush=True)
    med = lambda name, k: statistics.median(r[k] for r in runs if r['config'] == name)
    base = next(iter(CONFIGS))
    summary = [dict(config=n, top1_median=med(n, 'top1'), train_seconds_median=med(n, 'train_seconds'),
                    train_img_s_median=med(n, 'train_img_s'), steps=next(r['steps'] for r in runs if r['config'] == n),
                    speedup=med(n, 'train_img_s') / med(base, 'train_img_s')) for n in CONFIGS]
    print(f"\n{'configuration':<26} {'top-1 (median)':>15} {'training s':>11} {'img/s':>7} {'× 1 process':>12} {'steps':>6}")
    for s in summary:
        print(f"{s['config']:<26} {100*s['top1_median']:>14.2f}% {s['train_seconds_median']:>11.1f} {s['train_img_s_median']:>7.0f} "
              f"{s['speedup']:>12.2f} {s['steps']:>6}")
    write_json(a.out, dict(command=' '.join(['python benchmarks/ddp.py', *sys.argv[1:]]), epochs=a.epochs, seeds=seeds,
                           cpus=os.cpu_count(), torch=torch.__version__, platform=platform.platform(), summary=summary, runs=runs))
    print(f"wrote {a.out}")


if __name__ == '__main__':
    main()
