"""Every table. Importing this module registers all model modules with ``Base.metadata``.

Feature areas that add tables keep them in their own ``warding/db/models_<area>.py``
and add one import line here; the migrations and the schema test read ``metadata``.
"""

from __future__ import annotations

from warding.db import models
from warding.db import models_matching  # noqa: F401
from warding.db.models import Base

metadata = Base.metadata

__all__ = ["metadata", "models"]
