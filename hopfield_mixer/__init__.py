__version__ = "0.0.1"

# With timm installed, the models' names are registered with timm's registry (hopfield_mixer.zoo registers them when
# it is imported) as soon as both packages are imported: now if timm already is, else right after `import timm`
# finishes. So `import hopfield_mixer` itself stays light: the command line checks its arguments before torch loads.
import importlib as _importlib  # noqa: E402
import importlib.abc as _abc  # noqa: E402
import importlib.util as _util  # noqa: E402
import sys as _sys  # noqa: E402


class _ZooAfterTimm(_abc.MetaPathFinder):
    "Imports hopfield_mixer.zoo (which registers the models) right after timm's own import has finished."
    def find_spec(self, name, path=None, target=None):
        if name != 'timm': return None
        _sys.meta_path.remove(self)                  # once; and so that the search below finds timm's own spec
        spec = _util.find_spec('timm')
        if spec is None or spec.loader is None or not hasattr(spec.loader, 'exec_module'): return spec
        run = spec.loader.exec_module
        def exec_module(module):
            run(module)
            _importlib.import_module('hopfield_mixer.zoo')
        spec.loader.exec_module = exec_module
        return spec


if 'timm' in _sys.modules: _importlib.import_module('hopfield_mixer.zoo')
elif _util.find_spec('timm') is not None: _sys.meta_path.insert(0, _ZooAfterTimm())
