"""One package per command: its Typer command and rendering in ``__init__.py``, its core beside it."""
