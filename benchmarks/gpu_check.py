#!/usr/bin/env python
"""One GPU check, in stages, each writing its JSON file as soon as it has numbers (run by gpu_check.sh).

    python benchmarks/gpu_check.py STAGE --out DIR [--cpu] [--data DIR]

Stages (gpu_check.sh runs them in this order, each under its own time limit):
  env      versions, device, GPU name                                             -> env.json
  loop     per variant at size s (t with --cpu), Fashion-MNIST (30k images) 28x28x1 patch 7, bf16 autocast on CUDA:
           a bare train step (forward + label-smoothed loss + backward + fused AdamW) against mixer_learner's
           training phase of the 2nd epoch, with torch_adamw (the default) and with fastai's Adam  -> loop.json
  compile  S/16 at 224 px (32 px, size t with --cpu): timm mixer_s16_224 against this project's vanilla (joint and
           per-token LayerNorm), ParaMixer and SymMixer; train-step img/s eager and compiled, peak memory, model
           FLOP rate (FLOPs of one step counted by torch.utils.flop_counter)                  -> compile.json
  grid     every variant at size s over seeds 0 and 1, 3 epochs on 30k Fashion-MNIST images (run_grid)  -> grid/
Every timing is the median of several timed windows after warm-up; a stage's file is rewritten after each item,
so what a killed stage measured survives.
"""
import argparse, json, os, platform, statistics, sys, time
from functools import partial
from pathlib import Path

import torch
import torch.nn.functional as F


def write(path, obj):
    path = Path(path); path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f'.{path.name}.tmp'); tmp.write_text(json.dumps(obj, indent=1)); os.replace(tmp, path)


def sync(dev):
    if dev == 'cuda': torch.cuda.synchronize()


def autocast(dev):
    return torch.autocast('cuda', dtype=torch.bfloat16) if dev == 'cuda' else torch.autocast('cpu', enabled=False)


def median_img_s(step, bs, dev, windows=5, steps=10, warmup=3):
    for _ in range(warmup): step()
    sync(dev); out = []
    for _ in range(windows):
        t = time.perf_counter()
        for _ in range(steps): step()
        sync(dev); out.append(bs * steps / (time.perf_counter() - t))
    return statistics.median(out)


def bare_step(model, x, y, dev):
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.05, **({'fused': True} if dev == 'cuda' else {'foreach': True}))
    model.train()
    def step():
        with autocast(dev): loss = F.cross_entropy(model(x), y, label_smoothing=0.1)
        opt.zero_grad(set_to_none=True); loss.backward(); opt.step()
    return step


def stage_env(a):
    import torchvision
    res = dict(python=platform.python_version(), torch=torch.__version__, torchvision=torchvision.__version__,
               device=a.dev, gpu=torch.cuda.get_device_name() if a.dev == 'cuda' else None,
               cpu_threads=torch.get_num_threads(), cpu_capability=torch.backends.cpu.get_cpu_capability())
    for mod in ('timm', 'fastai', 'fastcore', 'hopfield_mixer'):
        try: res[mod] = __import__(mod).__version__
        except Exception as e: res[mod] = f'missing ({type(e).__name__})'
    write(a.out / 'env.json', res); print(json.dumps(res))


def epoch_timer(dev):
    "A fastai callback timing each epoch's training phase (`secs`, `imgs` per epoch)."
    from fastai.callback.core import Callback
    class EpochTimer(Callback):
        order = 99
        def before_fit(self): self.secs, self.imgs = [], []
        def before_train(self): sync(dev); self.t, self.n = time.perf_counter(), 0
        def after_batch(self):
            if self.training: self.n += self.xb[0].shape[0]
        def after_train(self): sync(dev); self.secs.append(time.perf_counter() - self.t); self.imgs.append(self.n)
    return EpochTimer()


def stage_loop(a):
    from fastai.optimizer import Adam
    from hopfield_mixer.data import get_dls
    from hopfield_mixer.learner import mixer_learner, fit_mixer
    from hopfield_mixer.models import create_mixer
    size, bs, n_train = ('t', 32, 128) if a.cpu else ('s', 256, 30_000)
    prec = 'bf16' if a.dev == 'cuda' else 'fp32'
    dls = get_dls('fashion_mnist', a.data, bs=bs, n_train=n_train, n_valid=bs, device=a.dev)
    xb, yb = (t.as_subclass(torch.Tensor) for t in dls.one_batch())
    rows = []
    for variant in ('vanilla', 'para', 'sym', 'asym'):
        torch.manual_seed(0)
        m = create_mixer(variant, size, 7, 28, 1, 10).to(a.dev)
        row = dict(variant=variant, size=size, bs=bs, precision=prec,
                   bare_img_s=median_img_s(bare_step(m, xb, yb, a.dev), bs, a.dev, windows=3 if a.cpu else 5, steps=2 if a.cpu else 20))
        for name, opt in (('torch_adamw', None), ('fastai_adam', partial(Adam, decouple_wd=True))):
            timer = epoch_timer(a.dev)
            learn = mixer_learner(dls, variant, size, 1e-3 if variant == 'asym' else 0., precision=prec, patch_size=7,
                                  opt_func=opt, cbs=[timer])
            with learn.no_bar(), learn.no_logging(): fit_mixer(learn, 2)
            row[f'fastai_loop_{name}_img_s'] = timer.imgs[1] / timer.secs[1]       # the 2nd epoch's training phase
        row['ratio_torch_adamw'] = row['fastai_loop_torch_adamw_img_s'] / row['bare_img_s']
        row['ratio_fastai_adam'] = row['fastai_loop_fastai_adam_img_s'] / row['bare_img_s']
        rows.append(row); write(a.out / 'loop.json', rows); print(json.dumps(row), flush=True)


def stage_compile(a):
    from torch.utils.flop_counter import FlopCounterMode
    from hopfield_mixer.models import create_mixer
    img, patch, size, bs = (32, 4, 't', 16) if a.cpu else (224, 16, 's', 256)
    x = torch.randn(bs, 3, img, img, device=a.dev); y = torch.randint(0, 10, (bs,), device=a.dev)
    def ours(variant, **kw): return lambda: create_mixer(variant, size, patch, img, 3, 10, **kw)
    def timm_mixer():                                  # --cpu: timm's MlpMixer class at size t's shape
        import timm
        from timm.models.mlp_mixer import MlpMixer
        return MlpMixer(10, img, 3, patch, num_blocks=6, embed_dim=128) if a.cpu else timm.create_model('mixer_s16_224', num_classes=10)
    models = [('timm MlpMixer (size t shape)' if a.cpu else 'timm mixer_s16_224', timm_mixer), ('vanilla (joint LayerNorm)', ours('vanilla')),
              ('vanilla (per-token LayerNorm)', ours('vanilla', norm='token')), ('ParaMixer', ours('para')), ('SymMixer', ours('sym'))]
    rows = []
    for name, make in models:
        for compiled in ((False,) if a.cpu else (False, True)):
            torch.manual_seed(0)
            m = make().to(a.dev)
            step = bare_step(m, x, y, a.dev)
            with FlopCounterMode(display=False) as fc: step()
            flops = fc.get_total_flops()
            if compiled: m.compile()
            if a.dev == 'cuda': torch.cuda.reset_peak_memory_stats()
            t0 = time.perf_counter()
            img_s = median_img_s(step, bs, a.dev, windows=3 if a.cpu else 5, steps=2 if a.cpu else 10, warmup=1 if a.cpu else 3)
            row = dict(model=name, compiled=compiled, img_size=img, bs=bs, train_img_s=img_s,
                       params=sum(p.numel() for p in m.parameters()), step_gflop=flops / 1e9,
                       model_tflop_s=flops * img_s / bs / 1e12, seconds_incl_warmup=time.perf_counter() - t0,
                       peak_mem_gib=torch.cuda.max_memory_allocated() / 2**30 if a.dev == 'cuda' else None)
            rows.append(row); write(a.out / 'compile.json', rows); print(json.dumps(row), flush=True)


def stage_grid(a):
    from hopfield_mixer.experiments import RunConfig, format_table, run_grid, summarize
    base = RunConfig(dataset='fashion_mnist', data_path=str(a.data) if a.data else None, device=a.dev,
                     **(dict(size='t', epochs=1, bs=32, n_train=128, n_valid=64) if a.cpu else dict(size='s', epochs=3, bs=256, n_train=30_000, precision='bf16')))
    cfgs = [base.replace(variant=v, lam=1e-3 if v == 'asym' else 0., seed=s) for v in ('vanilla', 'para', 'sym', 'asym') for s in (0, 1)]
    runs = run_grid(cfgs, a.out / 'grid', 'GPU check grid', quiet=True, log=lambda s: print(s, flush=True))
    print(format_table(summarize(runs)))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('stage', choices=('env', 'loop', 'compile', 'grid'))
    p.add_argument('--out', type=Path, required=True)
    p.add_argument('--cpu', action='store_true', help='a tiny version on the CPU (the dry run)')
    p.add_argument('--data', type=Path, default=None, help='folder with the Fashion-MNIST .gz files')
    a = p.parse_args(argv)
    a.dev = 'cpu' if a.cpu else 'cuda'
    if not a.cpu and not torch.cuda.is_available(): sys.exit("gpu_check.py: no CUDA device; use --cpu for the dry run")
    if a.dev == 'cuda': torch.backends.cuda.matmul.allow_tf32 = True; torch.backends.cudnn.allow_tf32 = True
    {'env': stage_env, 'loop': stage_loop, 'compile': stage_compile, 'grid': stage_grid}[a.stage](a)


if __name__ == '__main__': main()
