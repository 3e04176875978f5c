"""``make demo`` and its parts: the example project end to end, as a person would run it.

Demos are a front end: like the CLI they may import any layer, and nothing imports them.
``python -m jupyter_mlops.demo`` runs every stage; ``python -m jupyter_mlops.demo.release`` and
``python -m jupyter_mlops.demo.monitor`` run one.
"""
