__version__ = "0.0.1"

# With timm installed, importing the package registers the models' names with timm (hopfield_mixer.zoo).
import importlib.util as _util  # noqa: E402
import os as _os  # noqa: E402

if _util.find_spec('timm') is not None:
    from hopfield_mixer import zoo as _zoo  # noqa: E402
    _zoo.register_timm_models(_os.environ.get(_zoo.CONFLICT_ENV, 'raise'))
