"""Run timm's own `tests/test_models.py` over this package's model names, test bodies unchanged.

    python .ci/timm_suite.py [--source PATH] [--pattern '*mixer_t*'] [--out DIR]

The test file comes from timm's source distribution for the installed timm version (`--source`: an unpacked sdist,
its .tar.gz, or a test_models.py; by default `pip download timm==<installed> --no-binary :all:` fetches it from PyPI).
Only the `model_name` parametrisation of timm's ten generic model tests is changed — to the registered names that
match `--pattern` — and only those ten tests are run: forward, backward, default_cfgs_non_std (the cfg checks timm
applies to its mixers), forward_torchscript, forward_features, forward_intermediates_features,
forward_intermediates, forward_fx, backward_fx, forward_fx_torchscript. A conftest imports hopfield_mixer, which
registers the names. The last line is pytest's summary; the exit status is pytest's.
"""
import argparse, ast, fnmatch, os, subprocess, sys, tarfile, tempfile
from pathlib import Path

GENERIC = ['test_model_forward', 'test_model_backward', 'test_model_default_cfgs_non_std', 'test_model_forward_torchscript',
           'test_model_forward_features', 'test_model_forward_intermediates_features', 'test_model_forward_intermediates',
           'test_model_forward_fx', 'test_model_backward_fx', 'test_model_forward_fx_torchscript']

def find_test_file(source, work):
    "timm's tests/test_models.py from an sdist folder, an sdist tarball or the file itself; downloaded if None."
    if source is None:
        import timm
        subprocess.run([sys.executable, '-m', 'pip', 'download', f'timm=={timm.__version__}', '--no-binary', ':all:',
                        '--no-deps', '-q', '-d', str(work)], check=True)
        source = next(work.glob('timm-*.tar.gz'))
    source = Path(source)
    if source.is_file() and source.name.endswith('.tar.gz'):
        with tarfile.open(source) as tf:
            member = next(m for m in tf.getmembers() if m.name.endswith('tests/test_models.py'))
            tf.extract(member, work, filter='data')
            return work / member.name
    if source.is_dir(): return next(source.rglob('tests/test_models.py'))
    return source

def reparametrise(src:str, names:list) -> str:
    "Replace the `model_name` values of the GENERIC tests' parametrize decorators by `names`; nothing else."
    tree, lines = ast.parse(src), src.splitlines(keepends=True)
    offsets = [0]
    for line in lines: offsets.append(offsets[-1] + len(line))
    edits, found = [], set()
    for node in ast.walk(tree):
        if not (isinstance(node, ast.FunctionDef) and node.name in GENERIC): continue
        for dec in node.decorator_list:
            if (isinstance(dec, ast.Call) and getattr(dec.func, 'attr', '') == 'parametrize' and dec.args
                    and isinstance(dec.args[0], ast.Constant) and dec.args[0].value == 'model_name'):
                arg = dec.args[1]
                edits.append((offsets[arg.lineno - 1] + arg.col_offset, offsets[arg.end_lineno - 1] + arg.end_col_offset))
                found.add(node.name)
    missing = set(GENERIC) - found
    if missing: raise SystemExit(f"timm's test file has no model_name parametrisation for {sorted(missing)}")
    for start, end in sorted(edits, reverse=True): src = src[:start] + repr(names) + src[end:]
    return src

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--source', help="timm's unpacked sdist, its .tar.gz, or tests/test_models.py (default: download)")
    p.add_argument('--pattern', default='*mixer_t*', help="the registered names to test (shell pattern)")
    p.add_argument('--out', help="folder for the rewritten suite (default: a temporary one)")
    a = p.parse_args()
    import hopfield_mixer.zoo as zoo
    names = [n for n in zoo.MODEL_NAMES if fnmatch.fnmatch(n, a.pattern)]
    if not names: raise SystemExit(f"no hopfield-mixer model name matches {a.pattern!r}")
    work = Path(a.out or tempfile.mkdtemp(prefix='timm-suite-')); work.mkdir(parents=True, exist_ok=True)
    test_file = find_test_file(a.source, work)
    (work / 'test_models.py').write_text(reparametrise(test_file.read_text(), names))
    (work / 'conftest.py').write_text("import hopfield_mixer  # registers the model names with timm\n")
    print(f"timm's {test_file} with model_name = {len(names)} names ({a.pattern}) in {len(GENERIC)} tests: {work}")
    cmd = [sys.executable, '-m', 'pytest', '-q', '-p', 'no:cacheprovider', '-W', 'ignore::FutureWarning', '-W', 'ignore::UserWarning',
           *[f'test_models.py::{t}' for t in GENERIC]]
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE='1')
    env.pop('GITHUB_ACTIONS', None)      # timm's file skips its fx + TorchScript test on GitHub's runners
    sys.exit(subprocess.run(cmd, cwd=work, env=env).returncode)

if __name__ == '__main__': main()
