"""MediaBloom's typed business actions, their sandbox backends and the exactly-once journal.

The import name is the generic ``tools`` because the project layout names the folder so;
``worker/__init__.py`` explains the choice and checks at import time that the ``tools`` it sees
is this one. :data:`DISTRIBUTION` is the marker that check reads.
"""

DISTRIBUTION = "mediabloom"
