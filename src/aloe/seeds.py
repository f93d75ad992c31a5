"""Seeds derived from what a request is, never from when it runs.

Every request's seed is a hash of (run seed, persona, turn, role, attempt), so a
rerun, a resumed run and a run with other batch sizes send the same requests,
and the response cache replays what a killed run already paid for.
"""

from __future__ import annotations

import hashlib


def derive_seed(*parts) -> int:
    return int.from_bytes(hashlib.sha256("/".join(map(str, parts)).encode()).digest()[:4], "little") >> 1
