#!/usr/bin/env python
"""How much of the bare model's training speed the fastai training loop keeps, in one run.

    python benchmarks/training_loop.py [--dataset fashion_mnist] [--runs 5] [--n-train 6400]

For each variant at size 't' it alternates, `--runs` times:
  * `mixer_learner` as `hopfield-mixer train` builds it (data pipeline, fastai Learner, callbacks, metrics,
    checkpoints) for one epoch on `--n-train` images, with its default optimizer (`torch_adamw`: PyTorch's AdamW,
    foreach on the CPU) and with fastai's own `Adam` (decoupled weight decay); training images/s timed over the
    training phase only (validation and checkpoint writing are outside it), as `TrainTimer` reports it;
  * the bare model: one in-memory batch, forward + label-smoothed cross-entropy + backward + PyTorch's AdamW step
    (the same betas and eps), repeated for the same number of batches.
It prints and writes (--out, JSON) the medians and the ratios to the bare model; the goal is >= 0.9.
"""
import argparse, json, platform, statistics, sys, tempfile, time
from pathlib import Path

import torch
import torch.nn.functional as F

from functools import partial
from fastai.optimizer import Adam

from hopfield_mixer.data import get_dls
from hopfield_mixer.experiments import TrainTimer
from hopfield_mixer.learner import default_patch_size, fit_mixer, mixer_learner
from hopfield_mixer.models import create_mixer


def fastai_img_s(variant, dls, opt_func=None):
    with tempfile.TemporaryDirectory() as d:
        timer = TrainTimer()
        learn = mixer_learner(dls, variant, 't', path=d, opt_func=opt_func, cbs=[timer])
        with learn.no_bar(), learn.no_logging(): fit_mixer(learn, 1)
        return timer.images / timer.seconds


def bare_img_s(variant, a, xb, yb, img_size, in_chans):
    torch.manual_seed(0)
    m = create_mixer(variant, 't', default_patch_size(img_size), img_size, in_chans, 10)
    opt = torch.optim.AdamW(m.parameters(), lr=2e-3, betas=(0.9, 0.99), eps=1e-5, weight_decay=0.05, foreach=True)
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
    dls = get_dls(a.dataset, bs=a.bs, n_train=a.n_train, n_valid=256, device='cpu')
    xb, yb = (t.as_subclass(torch.Tensor) for t in dls.one_batch())   # plain tensors, as the learner hands the model
    rows = []
    for variant in a.variants.split(','):
        fa, fa_adam, bare = [], [], []
        for _ in range(a.runs):                                         # interleaved, so drifts hit all three alike
            fa.append(fastai_img_s(variant, dls)); fa_adam.append(fastai_img_s(variant, dls, partial(Adam, decouple_wd=True)))
            bare.append(bare_img_s(variant, a, xb, yb, dls.img_size, dls.in_chans))
        r = dict(variant=variant, fastai_loop_img_s=statistics.median(fa), fastai_loop_fastai_adam_img_s=statistics.median(fa_adam),
                 bare_img_s=statistics.median(bare), runs=a.runs, all_loop=fa, all_loop_fastai_adam=fa_adam, all_bare=bare)
        r['ratio'] = r['fastai_loop_img_s'] / r['bare_img_s']
        r['ratio_fastai_adam'] = r['fastai_loop_fastai_adam_img_s'] / r['bare_img_s']
        rows.append(r)
        print(f"{variant:>8}: fastai loop {r['fastai_loop_img_s']:7.1f} img/s (with fastai's Adam {r['fastai_loop_fastai_adam_img_s']:7.1f}), "
              f"bare model {r['bare_img_s']:7.1f} img/s -> {r['ratio']:.3f} ({r['ratio_fastai_adam']:.3f}) (medians of {a.runs})", flush=True)
    out = Path(a.out); out.parent.mkdir(parents=True, exist_ok=True)
    res = dict(command='python benchmarks/training_loop.py ' + ' '.join(argv if argv is not None else sys.argv[1:]),
               dataset=a.dataset, bs=a.bs, n_train=a.n_train, torch=torch.__version__, threads=torch.get_num_threads(),
               cpu_capability=torch.backends.cpu.get_cpu_capability(), python=platform.python_version(), rows=rows)
    tmp = out.with_suffix('.tmp'); tmp.write_text(json.dumps(res, indent=1)); tmp.replace(out)
    print(f"wrote {out}")


if __name__ == '__main__':
    sys.exit(main())
