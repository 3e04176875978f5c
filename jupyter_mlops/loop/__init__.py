"""The loop: triggers (a schedule, new data, a monitor alert, a hand) start a release cycle that
calls the same build, register, validate and promote a person calls. ``spec.py`` reads mlops.yaml's
``loop:`` section."""
