"""Run the README's Python snippets, in order, in one fresh process, from the current directory (which `.ci/run` makes
a temporary one, so that a snippet that depends on the repository's layout or writes into the working tree fails)."""
import re, subprocess, sys
from pathlib import Path

readme = Path(__file__).resolve().parent.parent / 'README.md'
blocks = re.findall(r'^```python\n(.*?)^```', readme.read_text(encoding='utf-8'), re.S | re.M)
if not blocks: sys.exit('README.md has no python snippets')
before = set(Path('.').rglob('*'))
r = subprocess.run([sys.executable, '-c', '\n\n'.join(blocks)], capture_output=True, text=True)
print(r.stdout[-2000:])
if r.returncode: sys.exit(f"README snippets failed:\n{r.stderr[-3000:]}")
written = sorted(str(p) for p in set(Path('.').rglob('*')) - before)
if written: sys.exit(f"README snippets wrote into the working directory: {written[:10]}")
print(f"README: {len(blocks)} python snippets ran from {Path('.').resolve()}, nothing written there")
