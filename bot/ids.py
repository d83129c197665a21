"""Short random ids for requests and answers (log correlation, buttons, share-once keys).

They need to be unique, not secret: Slack and Discord sign what reaches us, so nobody can
forge a button. A per-process generator seeded from the OS is several times cheaper than
`uuid4()` on every command, and seeding each process separately keeps replicas apart.
"""

from __future__ import annotations

import random

_ids = random.Random()  # seeded from os.urandom


def new_id(hex_digits: int = 16) -> str:
    """`hex_digits` random hex digits."""
    return f"{_ids.getrandbits(hex_digits * 4):0{hex_digits}x}"
