__version__ = "0.0.1"

# Importing the models registers their named factories with timm when timm is installed.
from hopfield_mixer import models as _models  # noqa: E402,F401
