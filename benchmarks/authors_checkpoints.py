"""Load checkpoints of the authors' own models (Toshihiro-Ota/paramixer) through timm into this package's models.

    python benchmarks/authors_checkpoints.py --authors-repo PATH/TO/paramixer [--out benchmarks/results/authors-checkpoints.json]

For each name, the authors' factory (their `models/mixers.py`, imported from `--authors-repo`, not copied) builds their
model; its weights are randomised (the authors publish none), saved as a timm checkpoint, and loaded with
`timm.create_model(name, pretrained=True, pretrained_cfg_overlay=dict(file=...), dtype=torch.float64)` — the path that
runs `checkpoint_filter_fn` (the overlay also says the checkpoint has 10 classes, else timm drops its head). Both models then see the same batch in float64; the JSON records, per name, the largest
absolute logit difference, the parameter counts and the key mapping's size. The authors' module registers the same
names with timm, so it is imported first and hopfield_mixer takes the names over (HOPFIELD_MIXER_TIMM_CONFLICT=overwrite).
"""
import argparse, json, os, sys, tempfile, warnings
from pathlib import Path

import torch

NAMES = ['vanillamixer_s16_224', 'paramixer_s16_224', 'symmixer_s16_224', 'asymmixer_s16_224_l01', 'paramixer_s16_224_ni2',
         'symmixer_s16_224_ni3', 'vanillamixer_s32_224', 'symmixer_s32_224']

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--authors-repo', required=True, help='a checkout of github.com/Toshihiro-Ota/paramixer')
    p.add_argument('--out', default='benchmarks/results/authors-checkpoints.json')
    a = p.parse_args()
    sys.path.insert(0, str(Path(a.authors_repo).resolve()))
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        import models as authors                       # registers the authors' names with timm
        os.environ['HOPFIELD_MIXER_TIMM_CONFLICT'] = 'overwrite'
        import hopfield_mixer  # noqa: F401             # takes the names over (timm warns)
    import timm
    torch.manual_seed(0)
    x = torch.randn(2, 3, 224, 224, dtype=torch.float64)
    rows, tmp = [], Path(tempfile.mkdtemp())
    for name in NAMES:
        ref = getattr(authors, name)(num_classes=10).double().eval()
        with torch.no_grad():
            for n, q in ref.named_parameters(): q.normal_(1 if n.endswith('norm.weight') or 'norm1.weight' in n or 'norm2.weight' in n else 0, 0.05)
        f = tmp / f'{name}.pth.tar'
        torch.save({'state_dict': ref.state_dict(), 'arch': name}, f)
        ours = timm.create_model(name, pretrained=True, pretrained_cfg_overlay=dict(file=str(f), num_classes=10), num_classes=10,
                                 dtype=torch.float64).eval()
        with torch.no_grad(): diff = (ours(x) - ref(x)).abs().max().item()
        rows.append(dict(name=name, max_abs_logit_diff=diff, authors_params=sum(q.numel() for q in ref.parameters()),
                         params=sum(q.numel() for q in ours.parameters()), authors_keys=len(ref.state_dict())))
        print(f"{name:<24} max |logit difference| {diff:.1e}   parameters {rows[-1]['params']:,} (authors {rows[-1]['authors_params']:,})")
    out = Path(a.out); out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(dict(command='python benchmarks/authors_checkpoints.py --authors-repo PATH/TO/paramixer',
                                   torch=torch.__version__, timm=timm.__version__, dtype='float64', batch=2, rows=rows), indent=1) + '\n')

if __name__ == '__main__': main()
