"""Activity kinds, one module each (design 5.4). The registry (``registry.py``) lists them and
loads them lazily; ``base.py`` states the contract, ``options.py`` the option schemas."""
