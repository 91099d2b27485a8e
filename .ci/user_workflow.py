"""The fastai workflow as a user runs it, on the stack users install.

`.ci/run` runs this in a virtual environment that holds only the package's runtime requirements, resolved to their
newest allowed versions (not the dev pins): train one epoch, look at the data and results, interpret, predict on raw
images, export and load the learner in a fresh process, save and load a model without pickles. Any failure exits 1.
"""
import subprocess, sys, tempfile, warnings
from pathlib import Path
warnings.filterwarnings('ignore', message='.*torch.jit.script.*')
import matplotlib; matplotlib.use('Agg')
import matplotlib.pyplot as plt
import fastai, fastcore, torch
from PIL import Image
from fastai.interpret import ClassificationInterpretation
from fastai.torch_core import set_seed
from hopfield_mixer.data import get_dls
from hopfield_mixer.learner import mixer_learner, fit_mixer, save_mixer, load_mixer

print(f"torch {torch.__version__}, fastai {fastai.__version__}, fastcore {fastcore.__version__}")
work = Path(tempfile.mkdtemp())
set_seed(0)
dls = get_dls('digits', bs=64)
dls.show_batch(max_n=4); plt.savefig(work / 'batch.png'); plt.close('all')
learn = mixer_learner(dls, 'asym', lam=1e-3)
with learn.no_bar(), learn.no_logging():
    fit_mixer(learn, 1)
    acc = learn.validate()[1]
    learn.show_results(max_n=4); plt.savefig(work / 'results.png'); plt.close('all')
    interp = ClassificationInterpretation.from_learner(learn)
    cm = interp.confusion_matrix()
    x0 = dls.valid.dataset.x[0]
    Image.fromarray((x0[0] * 255).round().byte().numpy()).resize((32, 32), Image.NEAREST).save(work / 'digit.png')
    label, idx, probs = learn.predict(work / 'digit.png')
print(f"1 epoch on the digits: validation accuracy {acc:.3f}; confusion matrix diagonal {cm.trace()}/{cm.sum()}")
print(f"learn.predict(digit.png): {label!r}, p={probs[idx]:.4f}")
assert abs(cm.trace() / cm.sum() - acc) < 1e-6, (cm.trace() / cm.sum(), acc)

learn.export(work / 'export.pkl')
script = (f"import warnings; warnings.filterwarnings('ignore')\nfrom fastai.learner import load_learner\n"
          f"learn = load_learner({str(work / 'export.pkl')!r})\n"
          f"with learn.no_bar(): label, idx, probs = learn.predict({str(work / 'digit.png')!r})\n"
          f"print(label, float(probs[idx]))")
fresh = subprocess.run([sys.executable, '-c', script], capture_output=True, text=True, check=True).stdout.splitlines()[-1].split()
print(f"export -> load_learner -> predict in a fresh process: {fresh[0]!r}, p={float(fresh[1]):.4f}")
assert fresh[0] == label and abs(float(fresh[1]) - float(probs[idx])) < 1e-5

save_mixer(learn.model, work / 'model')
labels, p = load_mixer(work / 'model').predict([work / 'digit.png'])
print(f"save_mixer -> load_mixer(...).predict: {labels[0]!r}, p={p[0].max():.4f}")
assert labels[0] == label and torch.allclose(p[0], probs, atol=1e-5)
print("user workflow: ok")
