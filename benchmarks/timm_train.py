"""Train this package's models with timm's own training script, `train.py`, unchanged.

    python benchmarks/timm_train.py --train-py PATH/TO/pytorch-image-models/train.py [--model paramixer_t16_224]
                                    [--epochs 2] [--out benchmarks/results/timm-train] [-- extra train.py flags]

timm's `train.py` is not part of the timm wheel or sdist: pass the one from a checkout of
huggingface/pytorch-image-models. The script writes scikit-learn's digits as an image folder (`train/` and
`validation/`, one sub-folder per class, 8×8 upsampled to 32×32 PNGs), imports hopfield_mixer (which registers the
model names with timm) and runs `train.py` in this process with the flags that use the model API: `--drop`,
`--drop-path`, `--grad-checkpointing`, `--layer-decay`, `--model-kwargs img_size=32 patch_size=4` (the digits are
32 px), `--input-size 3 32 32` and `--mean`/`--std` left to the model's `pretrained_cfg` (0.5). timm's output folder
goes to a temporary folder; its `summary.csv` (loss, top-1, top-5 per epoch) and `args.yaml` are copied to `--out`,
and the last epoch's validation top-1 is printed.
"""
import argparse, csv, runpy, shutil, sys, tempfile
from pathlib import Path

def write_digits(root:Path):
    "scikit-learn's digits as an ImageFolder: 1,437 training and 360 validation images, 32×32 RGB PNGs."
    import numpy as np
    from PIL import Image
    from sklearn.datasets import load_digits
    d = load_digits()
    rng = np.random.default_rng(0)
    order = rng.permutation(len(d.target))
    for i, idx in enumerate(order):
        split = 'train' if i < 1437 else 'validation'
        img = Image.fromarray((d.images[idx] * 255 / 16).astype('uint8')).resize((32, 32), Image.BILINEAR).convert('RGB')
        folder = root / split / str(d.target[idx]); folder.mkdir(parents=True, exist_ok=True)
        img.save(folder / f'{idx}.png')

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--train-py', required=True, help="timm's train.py (from a pytorch-image-models checkout)")
    p.add_argument('--model', default='paramixer_t16_224')
    p.add_argument('--epochs', type=int, default=2)
    p.add_argument('--out', default='benchmarks/results/timm-train')
    p.add_argument('extra', nargs='*', help='more train.py flags (after --)')
    a = p.parse_args()
    import hopfield_mixer  # noqa: F401  registers the names with timm
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    data, runs = Path(tempfile.mkdtemp(prefix='digits-')), Path(tempfile.mkdtemp(prefix='timm-train-'))
    write_digits(data)
    argv = [a.train_py, '--data-dir', str(data), '--model', a.model, '--num-classes', '10', '--epochs', str(a.epochs),
            '--model-kwargs', 'img_size=32', 'patch_size=4', '--input-size', '3', '32', '32', '-b', '64',
            '--lr', '2e-3', '--opt', 'adamw', '--weight-decay', '0.05', '--warmup-epochs', '0', '--sched', 'cosine',
            '--drop', '0.1', '--drop-path', '0.1', '--grad-checkpointing', '--layer-decay', '0.75',
            '--device', 'cpu', '--workers', '0', '--no-prefetcher', '--log-interval', '10',
            '--output', str(runs), '--experiment', 'run', '--checkpoint-hist', '1', *a.extra]
    sys.argv = argv
    runpy.run_path(a.train_py, run_name='__main__')
    rows = list(csv.DictReader(open(runs / 'run' / 'summary.csv')))
    for f in ('summary.csv', 'args.yaml'): shutil.copy(runs / 'run' / f, out / f)
    shutil.rmtree(runs); shutil.rmtree(data)
    print(f"{a.model}: {len(rows)} epochs; validation top-1 after the last: {float(rows[-1]['eval_top1']):.2f}%")

if __name__ == '__main__': main()
