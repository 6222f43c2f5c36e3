"""The ChatVista stack in miniature, on this machine, for the tests and the benchmarks alike.

``deployment``: PostgreSQL databases, redis-servers and API instances as App Platform runs them.
``netns``: a network namespace with only loopback, and the ingress that reaches the API from inside it.
``chromium``: Debian's Chromium under Playwright, with a fake camera and microphone.
``frontend``: the users' Next.js frontend under ``next start``, and the API as its image runs it.
``coturn``: Debian's coturn with the Droplet's configuration (``infra.coturn``).
``mesh_lab``: pages that run the browser mesh client (``clients/web``) against a deployment.

Benchmarks import these; they import nothing from ``tests/``.
"""
