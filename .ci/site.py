"""Build the documentation site offline, and check it in a real browser.

    python .ci/site.py build    # nbs/ -> _site/ (nbdev's processors, then pandoc; MathJax copied in)
    python .ci/site.py check    # open every page of _site/ in headless Chromium; exit 1 on any problem

Quarto (which `nbdev_docs` and the GitHub Pages workflow use) cannot be installed on machines without
the web, so this builds the same notebooks with the tools Debian ships: nbdev's own processors
(`nbdev_proc_nbs`: directives, `show_doc`, front matter, links) write `_proc/`; each processed notebook
is turned into pandoc markdown here, following Quarto's rules for what it interprets (cell options
`echo`, `output`, `include`, `code-fold`, `code-summary`; callouts; equation labels `{#eq-...}` and
references `@eq-...`; `output-file`); pandoc writes standalone HTML whose math MathJax typesets from a
copy inside the site (Debian's libjs-mathjax). The sidebar is `nbs/sidebar.yml`, which Quarto reads too.
"""
import base64, html, json, re, shutil, subprocess, sys, time
from configparser import ConfigParser
from pathlib import Path

import yaml

root = Path(__file__).resolve().parent.parent
nbs, proc, site = root / 'nbs', root / '_proc', root / '_site'
MATHJAX = Path('/usr/share/javascript/mathjax')
# the parts of MathJax 2.7 that the TeX-AMS_CHTML-full configuration loads
MATHJAX_PARTS = ['MathJax.js', 'config/TeX-AMS_CHTML-full.js', 'extensions', 'jax/input/TeX', 'jax/output/CommonHTML',
                 'jax/element', 'fonts/HTML-CSS/TeX/woff', 'localization/en']
CHROMIUM = 'chromium'


def die(msg):
    print(f'site: {msg}', file=sys.stderr); sys.exit(1)


def settings():
    cfg = ConfigParser(delimiters=['=']); cfg.read(root / 'settings.ini', encoding='utf-8')
    return cfg['DEFAULT']


def notebooks():
    "The notebooks that must each have a page."
    return sorted(p.name for p in nbs.glob('*.ipynb') if not p.name.startswith('_'))


def page_order():
    "The notebooks in the order of nbs/sidebar.yml (the sidebar Quarto uses too)."
    side = yaml.safe_load((nbs / 'sidebar.yml').read_text())
    return [c if isinstance(c, str) else c['href'] for c in side['website']['sidebar']['contents']]


# ---------------------------------------------------------------- notebook -> pandoc markdown
_re_opt = re.compile(r'^#\|\s*([\w-]+)\s*:\s*(.*?)\s*$')
_re_eq_label = re.compile(r'\$\$(.+?)\$\$\s*\{#(eq-[\w-]+)\}', re.S)
_re_eq_ref = re.compile(r'@(eq-[\w-]+)')


def cell_options(src):
    "Quarto cell options (`#| key: value` lines at the top) and the code without them."
    opts, lines = {}, src.splitlines()
    i = 0
    while i < len(lines) and lines[i].startswith('#|'):
        m = _re_opt.match(lines[i])
        if m: opts[m.group(1)] = m.group(2).strip('"\'')
        i += 1
    return opts, '\n'.join(lines[i:]).strip('\n')


def raw_html(s): return f'\n```{{=html}}\n{s}\n```\n'


def render_output(o, asis):
    "One cell output as pandoc markdown."
    kind = o.get('output_type')
    if kind == 'stream':
        text = ''.join(o.get('text', ''))
        return raw_html(f'<pre class="cell-output">{html.escape(text.rstrip())}</pre>') if text.strip() else ''
    if kind == 'error':
        return raw_html(f'<pre class="cell-output error">{html.escape(o.get("ename", "") + ": " + o.get("evalue", ""))}</pre>')
    data = o.get('data', {})
    for mime in ('image/png', 'image/jpeg'):
        if mime in data:
            b64 = ''.join(data[mime]).replace('\n', '')
            return raw_html(f'<figure class="cell-output"><img src="data:{mime};base64,{b64}" alt="figure"></figure>')
    if 'image/svg+xml' in data: return raw_html(''.join(data['image/svg+xml']))
    if 'text/markdown' in data and asis: return '\n' + ''.join(data['text/markdown']) + '\n'
    if 'text/html' in data: return raw_html(''.join(data['text/html']))
    if 'text/markdown' in data: return '\n' + ''.join(data['text/markdown']) + '\n'
    if 'text/plain' in data:
        text = ''.join(data['text/plain'])
        if re.fullmatch(r'<Figure size .*>', text.strip()): return ''
        return raw_html(f'<pre class="cell-output">{html.escape(text.rstrip())}</pre>')
    return ''


def render_code_cell(c):
    opts, code = cell_options(''.join(c.get('source', '')))
    if opts.get('include') == 'false': return ''
    asis = opts.get('output') == 'asis'
    parts = []
    if code.strip() and opts.get('echo', 'true') != 'false':
        block = f'\n```python\n{code}\n```\n'
        fold = opts.get('code-fold')
        if fold in ('true', 'show'):
            summary = html.escape(opts.get('code-summary', 'Code'))
            block = raw_html(f'<details class="code-fold"{" open" if fold == "show" else ""}><summary>{summary}</summary>') + block + raw_html('</details>')
        parts.append(block)
    if opts.get('output', 'true') != 'false':
        parts += [render_output(o, asis) for o in c.get('outputs', [])]
    return '\n'.join(p for p in parts if p)


def number_equations(md):
    "Quarto's equation labels: `$$...$$ {#eq-x}` numbered in page order, `@eq-x` becomes a link 'Equation n'."
    labels = {}
    def label(m):
        labels[m.group(2)] = n = len(labels) + 1
        return f'\n::: {{#{m.group(2)} .equation}}\n$${m.group(1)}\\tag{{{n}}}$$\n:::\n'
    md = _re_eq_label.sub(label, md)
    def ref(m):
        if m.group(1) not in labels: die(f'reference @{m.group(1)} to an equation label this page does not define')
        return f'[Equation {labels[m.group(1)]}](#{m.group(1)})'
    return _re_eq_ref.sub(ref, md), len(labels)


def notebook_markdown(nb, out_names, doc_url):
    "A processed notebook as (front matter, pandoc markdown)."
    fm, parts = {}, []
    for c in nb['cells']:
        src = ''.join(c.get('source', ''))
        if c['cell_type'] == 'raw' and src.startswith('---'):
            fm = yaml.safe_load(src.strip().strip('-')) or {}
        elif c['cell_type'] == 'markdown':
            if src.startswith('<!-- WARNING'): continue
            parts.append(src)
        elif c['cell_type'] == 'code':
            parts.append(render_code_cell(c))
    md = '\n\n'.join(p for p in parts if p.strip())
    md, _ = number_equations(md)
    # links: notebook names -> their pages; the public doc site's absolute URLs -> relative ones
    md = re.sub(r'\(([\w-]+)\.ipynb(#[\w-]*)?\)', lambda m: f'({out_names.get(m.group(1), m.group(1) + ".html")}{m.group(2) or ""})', md)
    md = md.replace(doc_url, '')
    return fm, md


# ---------------------------------------------------------------- build
def build():
    if shutil.which('pandoc') is None: die('pandoc not found: apt-get install pandoc')
    try: import nbdev  # noqa: F401
    except ImportError: die('nbdev not found: pip install -e ".[dev]"')
    if not MATHJAX.exists(): die(f'{MATHJAX} not found: apt-get install libjs-mathjax')
    cfg = settings()
    doc_url = cfg['doc_host'].rstrip('/') + cfg['doc_baseurl'].rstrip('/') + '/'
    t0 = time.time()
    # nbdev's processors, as `nbdev_proc_nbs` runs them but without its first step, which downloads and installs
    # Quarto when it is missing (with sudo and `pip install -e`). Any warning (e.g. a cell that mixes imports with
    # other code, which nbdev executes out of context) fails the build: it would make `nbdev_docs` fragile.
    code = ('from nbdev.quarto import refresh_quarto_yml; import nbdev.doclinks; from nbdev.serve import proc_nbs; '
            'refresh_quarto_yml(); nbdev.doclinks._build_modidx(); proc_nbs(n_workers=2)')
    r = subprocess.run([sys.executable, '-c', code], cwd=root, capture_output=True, text=True)
    noise = [l for l in (r.stdout + r.stderr).splitlines() if l.strip() and 'torch.jit.script' not in l and 'warnings.warn(' not in l]
    if r.returncode or noise: die('nbdev processing failed or warned:\n' + '\n'.join(noise[-40:]))
    print(f'nbdev processors: {time.time() - t0:.1f} s')
    order = page_order()
    missing = sorted(set(notebooks()) - set(order))
    if missing: die(f'notebooks missing from nbs/sidebar.yml (they would have no page in the sidebar): {missing}')
    nbooks = {name: json.loads((proc / name).read_text()) for name in order}
    fms = {}
    for name, nb in nbooks.items():
        raw = next((c for c in nb['cells'] if c['cell_type'] == 'raw'), None)
        fms[name] = yaml.safe_load(''.join(raw['source']).strip().strip('-')) if raw else {}
    out = {Path(n).stem: (fms[n].get('output-file') or Path(n).stem + '.html') for n in order}
    out['index'] = 'index.html'
    if site.exists(): shutil.rmtree(site)
    site.mkdir()
    for part in MATHJAX_PARTS:
        src, dst = MATHJAX / part, site / 'mathjax' / part
        dst.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if src.is_dir() else shutil.copy2)(src, dst)
    shutil.copy2(root / '.ci' / 'site.css', site / 'site.css')
    shutil.copy2(nbs / 'styles.css', site / 'styles.css')
    sidebar = '\n'.join(f'<li><a href="{out[Path(n).stem]}" data-page="{out[Path(n).stem]}">{html.escape(fms[n].get("title", n))}</a></li>'
                        for n in order)
    manifest = {}
    for name in order:
        fm, md = notebook_markdown(nbooks[name], out, doc_url)
        target = out[Path(name).stem]
        src = proc / (Path(name).stem + '.md')
        src.write_text(md, encoding='utf-8')
        meta = dict(pagetitle=fm.get('title', name), title=fm.get('title', name))
        if fm.get('description'): meta['description'] = fm['description']
        variables = dict(sidebar=sidebar, current=target, source=f'nbs/{name}', sitetitle=cfg['title'])
        args = ['pandoc', str(src), '-f', 'markdown+tex_math_dollars+fenced_divs+link_attributes+raw_attribute',
                '-t', 'html5', '-s', '--toc', '--toc-depth=2', '--mathjax=mathjax/MathJax.js?config=TeX-AMS_CHTML-full',
                '--template', str(root / '.ci' / 'site-template.html'), '--highlight-style=tango', '-o', str(site / target)]
        for k, v in meta.items(): args += ['-M', f'{k}={v}']
        for k, v in variables.items(): args += ['-V', f'{k}={v}']
        r = subprocess.run(args, capture_output=True, text=True)
        if r.returncode: die(f'pandoc failed on {name}:\n{r.stderr}')
        if r.stderr.strip(): print(f'pandoc on {name}: {r.stderr.strip()}')
        manifest[target] = name
    (site / 'pages.json').write_text(json.dumps(manifest, indent=1))
    print(f'built {len(manifest)} pages into {site.relative_to(root)}/ in {time.time() - t0:.1f} s')


# ---------------------------------------------------------------- check
# Injected into a copy of each page: records JavaScript errors from the first moment, and once MathJax has
# finished, writes what the page looks like to the reader into the DOM for --dump-dom to read.
PROBE_HEAD = """<script>window.__errors = [];
window.addEventListener('error', function (e) { window.__errors.push(String(e.message || (e.target && (e.target.src || e.target.href)) || e)); }, true);
window.addEventListener('unhandledrejection', function (e) { window.__errors.push('unhandled rejection: ' + e.reason); });
</script>"""
PROBE_BODY = """<script>(function () {
  function report() {
    var main = (document.querySelector('main') || document.body).cloneNode(true);
    main.querySelectorAll('pre, code, script, style').forEach(function (e) { e.remove(); });   // code may show TeX
    var text = main.textContent;
    var imgs = Array.prototype.slice.call(document.images);
    var out = {errors: window.__errors,
      math_rendered: document.querySelectorAll('.MathJax_CHTML').length,
      displays: document.querySelectorAll('.MJXc-display').length,
      math_sources: document.querySelectorAll('script[type^="math/tex"]').length,
      math_errors: document.querySelectorAll('.MathJax_CHTML merror, .mjx-merror, .MathJax_Error').length,
      raw_tex: ['$$', '\\\\(', '\\\\['].filter(function (s) { return text.indexOf(s) >= 0; })
               .concat(text.match(/\\\\[a-zA-Z]+/g) || []).slice(0, 8),   // any TeX macro left in the text
      broken_images: imgs.filter(function (i) { return !(i.complete && i.naturalWidth > 0); }).map(function (i) { return (i.src || '').slice(0, 80); }),
      images: imgs.length, text_length: text.length};
    var pre = document.createElement('pre'); pre.id = '__site_check'; pre.textContent = JSON.stringify(out);
    document.body.appendChild(pre);
  }
  if (window.MathJax && MathJax.Hub) MathJax.Hub.Queue(report); else window.addEventListener('load', report);
})();</script>"""


def _internal_links(page_html):
    return re.findall(r'<(?:a|link)\b[^>]*\bhref="([^"]*)"', page_html) + re.findall(r'<(?:img|script)\b[^>]*\bsrc="([^"]*)"', page_html)


# The derivation pages: each exported function, class and method is shown, open, where its equation is (issue 19).
DERIVATIONS = ('00_lagrangians.ipynb', '01_ham.ipynb', '02_mixer_ham.ipynb', '06_layers.ipynb')


def exported_names(nb_path):
    "The functions and classes defined at the top of a notebook's exported cells (imports-only cells have none)."
    import ast
    names = []
    for c in json.loads(Path(nb_path).read_text())['cells']:
        src = ''.join(c.get('source', ''))
        if c['cell_type'] != 'code' or not re.search(r'^#\|\s*export', src, re.M): continue
        tree = ast.parse('\n'.join(l for l in src.splitlines() if not l.startswith('#|')))
        names += [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
    return names


def shown_code(page_html):
    "The code a reader sees without opening anything: every <pre> outside a closed fold and other than `show_doc`'s signatures, as text."
    visible = re.sub(r'<details class="code-fold">.*?</details>', '', page_html, flags=re.S)
    visible = re.sub(r'(</h[2-4]>)\s*<div class="sourceCode"[^>]*><pre.*?</pre></div>', r'\1', visible, flags=re.S)   # a signature under its heading
    return html.unescape(re.sub(r'<[^>]+>', '', '\n'.join(re.findall(r'<pre[^>]*>(.*?)</pre>', visible, re.S))))


def check(shots=True):
    if shutil.which(CHROMIUM) is None: die('chromium not found: apt-get install chromium')
    if not (site / 'pages.json').exists(): die('no built site: run `bash .ci/site` first')
    manifest = json.loads((site / 'pages.json').read_text())
    problems = []
    for nbname in notebooks():
        if nbname not in manifest.values(): problems.append(f'{nbname}: no page in _site/')
    ids = {p: set(re.findall(r'\bid="([^"]+)"', (site / p).read_text())) for p in manifest}
    (site / '_shots').mkdir(exist_ok=True)
    t0, rows = time.time(), []
    for page in manifest:
        text = (site / page).read_text()
        if manifest[page] in DERIVATIONS:
            code = shown_code(text)
            hidden = [n for n in exported_names(nbs / manifest[page]) if not re.search(rf'^\s*(def|class) {n}\b', code, re.M)]
            if hidden: problems.append(f'{page}: exported code not shown open on the page: {", ".join(hidden)}')
        # links and sources: every relative target exists, every #anchor exists on its page
        for href in _internal_links(text):
            if re.match(r'^(https?:|mailto:|data:)', href): continue
            path, _, anchor = href.partition('#')
            path = path.split('?')[0]
            target = page if not path else path
            if path and not (site / path).exists(): problems.append(f'{page}: broken link {href}'); continue
            if anchor and target in ids and anchor not in ids[target]: problems.append(f'{page}: link to a missing anchor {href}')
        probe = site / f'.probe-{page}'
        probe.write_text(text.replace('<head>', '<head>\n' + PROBE_HEAD, 1).replace('</body>', PROBE_BODY + '\n</body>', 1))
        try:
            r = subprocess.run([CHROMIUM, '--headless', '--no-sandbox', '--disable-gpu', '--virtual-time-budget=30000',
                                '--dump-dom', probe.as_uri()], capture_output=True, text=True, timeout=120)
        finally: probe.unlink()
        m = re.search(r'<pre id="__site_check">(.*?)</pre>', r.stdout, re.S)
        if not m: problems.append(f'{page}: the browser never finished rendering it (no report; stderr: {r.stderr[-300:]})'); continue
        rep = json.loads(html.unescape(m.group(1)))
        if rep['errors']: problems.append(f'{page}: JavaScript errors {rep["errors"]}')
        if rep['raw_tex']: problems.append(f'{page}: math left unrendered, visible text contains {rep["raw_tex"]}')
        if rep['math_errors']: problems.append(f'{page}: {rep["math_errors"]} MathJax errors')
        if rep['math_rendered'] < rep['math_sources']: problems.append(f'{page}: {rep["math_sources"]} formulas but {rep["math_rendered"]} typeset')
        if rep['broken_images']: problems.append(f'{page}: broken images {rep["broken_images"]}')
        if rep['text_length'] < 200: problems.append(f'{page}: almost no text ({rep["text_length"]} characters)')
        rows.append((page, manifest[page], rep['displays'], rep['math_rendered'], rep['images']))
        if shots:
            subprocess.run([CHROMIUM, '--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', '--virtual-time-budget=30000',
                            '--window-size=1280,1600', f'--screenshot={site / "_shots" / (Path(page).stem + ".png")}', (site / page).as_uri()],
                           capture_output=True, timeout=120)
    print(f"{'page':<20} {'notebook':<26} {'display eqs':>11} {'all formulas':>12} {'figures':>8}")
    for page, nbname, n_disp, n_eq, n_img in rows: print(f'{page:<20} {nbname:<26} {n_disp:>11} {n_eq:>12} {n_img:>8}')
    print(f'browser check of {len(rows)} pages: {time.time() - t0:.1f} s; screenshots in _site/_shots/')
    if problems:
        print(f'{len(problems)} problems:'); print('\n'.join('  ' + p for p in problems)); sys.exit(1)
    print('site check passed: every notebook has a page; no raw math, broken link or image, or JavaScript error')


if __name__ == '__main__':
    cmd = sys.argv[1] if len(sys.argv) > 1 else 'build'
    if cmd == 'build': build()
    elif cmd == 'check': check()
    else: die(f'unknown command {cmd!r}: use build or check')
