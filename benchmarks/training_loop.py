#!/usr/bin/env python
"""How much of the bare model's training speed the whole `hopfield-mixer train` loop keeps, in one run.

    python benchmarks/training_loop.py [--dataset fashion_mnist] [--runs 5] [--n-train 6400]

For each variant at size 't' it alternates, `--runs` times:
  * `hopfield-mixer train` (data pipeline, fastai Learner, callbacks, metrics, checkpoints) on `--n-train` images for
    one epoch; its training images/s is timed over the training phase only (validation and checkpoint writing are
    outside it), as `metrics.json` reports it;
  * the bare model: one in-memory batch, forward + label-smoothed cross-entropy + backward + AdamW step, repeated for
    the same number of batches.
It prints and writes (--out, JSON) the medians and their ratio; the goal is >= 0.85.
"""
import argparse, contextlib, io, json, platform, statistics, sys, tempfile, time
from pathlib import Path

import torch
import torch.nn.functional as F

from hopfield_mixer.cli import main as cli_main
from hopfield_mixer.data import get_dls
from hopfield_mixer.learner import default_patch_size
from hopfield_mixer.models import create_mixer


def fastai_img_s(variant, a):
    with tempfile.TemporaryDirectory() as d:
        args = ['train', '--variant', variant, '--dataset', a.dataset, '--epochs', '1', '--bs', str(a.bs),
                '--n-train', str(a.n_train), '--n-valid', '256', '--quiet', '--device', 'cpu', '--out', d]
        with contextlib.redirect_stdout(io.StringIO()):
            code = cli_main(args)
        if code: raise SystemExit(f"hopfield-mixer {' '.join(args)} failed with status {code}")
        return json.loads((Path(d) / 'metrics.json').read_text())['train_img_s']


def bare_img_s(variant, a, xb, yb, img_size, in_chans):
    torch.manual_seed(0)
    m = create_mixer(variant, 't', default_patch_size(img_size), img_size, in_chans, 10)
    opt = torch.optim.AdamW(m.parameters(), lr=2e-3, weight_decay=0.05)
    m.train()
    def step():
        loss = F.cross_entropy(m(xb), yb, label_smoothing=0.1)
        opt.zero_grad(set_to_none=True); loss.backward(); opt.step()
    step()
    n = a.n_train // a.bs
    t = time.perf_counter()
    for _ in range(n): step()
    return n * a.bs / (time.perf_counter() - t)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--dataset', default='fashion_mnist')
    p.add_argument('--variants', default='vanilla,para,sym,asym')
    p.add_argument('--runs', type=int, default=5)
    p.add_argument('--bs', type=int, default=128)
    p.add_argument('--n-train', type=int, default=6400)
    p.add_argument('--out', default=str(Path(__file__).parent / 'results' / 'training_loop.json'))
    a = p.parse_args(argv)
    dls = get_dls(a.dataset, bs=a.bs, n_train=a.bs, n_valid=a.bs)
    xb, yb = (t.as_subclass(torch.Tensor) for t in dls.one_batch())   # plain tensors, as the learner hands the model
    rows = []
    for variant in a.variants.split(','):
        fa, bare = [], []
        for _ in range(a.runs):
            fa.append(fastai_img_s(variant, a)); bare.append(bare_img_s(variant, a, xb, yb, dls.img_size, dls.in_chans))
        r = dict(variant=variant, hopfield_mixer_train_img_s=statistics.median(fa), bare_img_s=statistics.median(bare),
                 runs=a.runs, all_train=fa, all_bare=bare)
        r['ratio'] = r['hopfield_mixer_train_img_s'] / r['bare_img_s']
        rows.append(r)
        print(f"{variant:>8}: hopfield-mixer train {r['hopfield_mixer_train_img_s']:7.1f} img/s, bare model "
              f"{r['bare_img_s']:7.1f} img/s -> {r['ratio']:.3f} (medians of {a.runs})", flush=True)
    out = Path(a.out); out.parent.mkdir(parents=True, exist_ok=True)
    res = dict(command='python benchmarks/training_loop.py ' + ' '.join(argv if argv is not None else sys.argv[1:]),
               dataset=a.dataset, bs=a.bs, n_train=a.n_train, torch=torch.__version__, threads=torch.get_num_threads(),
               cpu_capability=torch.backends.cpu.get_cpu_capability(), python=platform.python_version(), rows=rows)
    tmp = out.with_suffix('.tmp'); tmp.write_text(json.dumps(res, indent=1)); tmp.replace(out)
    print(f"wrote {out}")


if __name__ == '__main__':
    sys.exit(main())
