"""Every table. Importing this module registers all model modules with ``Base.metadata``.

Feature areas that add tables keep them in their own ``warding/db/models_<area>.py``
and add one import line here; the migrations and the schema test read ``metadata``.
"""

from __future__ import annotations

from warding.db import (
    models,
    models_analytics,  # noqa: F401  (issue 6)
    models_incidents,  # noqa: F401  (issue 20: incident response)
    models_intake,  # noqa: F401  (issue 13: live intake)
    models_legal,  # noqa: F401  (issue 14: legal workflows)
    models_legal_tdb,  # noqa: F401  (issue 14: DSA Transparency Database)
    models_matching,  # noqa: F401
    models_ocr,  # noqa: F401  (issue 21: text in images)
    models_review,  # noqa: F401  (issue 5: review console, actions)
    models_semantic,  # noqa: F401  (issue 4: semantic matching)
)
from warding.db.models import Base

metadata = Base.metadata

__all__ = ["metadata", "models"]
