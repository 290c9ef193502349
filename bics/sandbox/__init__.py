"""A fake BICS CPaaS API server for development, tests and benchmarks (loopback only).

``from bics.sandbox import SandboxServer``; ``python -m bics.sandbox --port 8099``.
See bics/sandbox/README.md.
"""

from bics.sandbox.server import SandboxServer, main

__all__ = ["SandboxServer", "main"]
