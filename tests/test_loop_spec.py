"""The ``loop:`` section of mlops.yaml: triggers and the cycle, checked like the rest."""

from __future__ import annotations

import textwrap

import pytest

from jupyter_mlops.errors import ConfigError
from jupyter_mlops.loop.spec import ALIAS_ORDER, load_loop_spec
from jupyter_mlops.workspace import Workspace

STEPS = """
steps:
  prepare: {notebook: prepare.ipynb}
  train: {notebook: train.ipynb, needs: [prepare]}
release:
  model: churn
  rollout: {canary_weight: 15}
"""


def spec_of(tmp_path, loop: str):
    (tmp_path / "mlops.yaml").write_text(STEPS + textwrap.dedent(loop))
    return load_loop_spec(Workspace(tmp_path))


def test_every_trigger_kind_and_the_cycle_are_read(tmp_path):
    spec = spec_of(
        tmp_path,
        """
        loop:
          poll: 10s
          triggers:
            nightly: {schedule: "0 3 * * *", timezone: Europe/Paris}
            new-data: {watch: [data/raw.csv, data/extra/]}
            new-version: {dataset: transactions}
            fresh: {command: "python count.py", timeout: 20s}
            drift: {alert: input_drift, threshold: 0.3, window: 2h, sustained: 10m}
            quality: {alert: quality, metric: accuracy, threshold: 0.8}
          cycle: {steps: [train], promote: [staging, canary], canary_weight: 5, watch: 1m}
        """,
    )
    t = spec.triggers
    assert spec.model == "churn" and spec.poll == 10
    assert (t["nightly"].kind, t["nightly"].cron, t["nightly"].timezone) == (
        "schedule",
        "0 3 * * *",
        "Europe/Paris",
    )
    assert t["new-data"].paths == ("data/raw.csv", "data/extra/")
    assert t["new-version"].dataset == "transactions"
    assert (t["fresh"].command, t["fresh"].timeout) == ("python count.py", 20)
    assert (t["drift"].signal, t["drift"].threshold, t["drift"].window, t["drift"].sustained) == (
        "input_drift",
        0.3,
        7200,
        600,
    )
    assert (t["quality"].metric, t["quality"].sustained) == ("accuracy", 0)
    assert [x.name for x in spec.scheduled()] == ["nightly"]
    assert spec.cycle.steps == ("train",) and spec.cycle.promote == ("staging", "canary")
    assert (spec.cycle.canary_weight, spec.cycle.watch) == (5, 60)


def test_defaults_without_a_loop_section(tmp_path):
    spec = spec_of(tmp_path, "")
    assert spec.model == "churn" and spec.triggers == {}
    assert spec.cycle.promote == ALIAS_ORDER and spec.cycle.steps == ()


@pytest.mark.parametrize(
    ("loop", "message"),
    [
        ("loop: {trigers: {}}", "loop.trigers: unknown key (did you mean 'triggers'?)"),
        ("loop: {triggers: {a: {schedule: 'every day'}}}", "is not a cron expression"),
        ("loop: {triggers: {a: {}}}", "a trigger needs exactly one of"),
        ("loop: {triggers: {a: {watch: x, schedule: '* * * * *'}}}", "found schedule, watch"),
        ("loop: {triggers: {a: {watch: [../secret]}}}", "must be a path inside the project"),
        ("loop: {triggers: {a: {alert: drfit}}}", "unknown alert 'drfit'"),
        ("loop: {triggers: {a: {alert: quality, metric: accuracy}}}", "needs a threshold"),
        ("loop: {triggers: {a: {alert: input_drift, window: soon}}}", "is not a duration"),
        ("loop: {triggers: {a: {schedule: '0 3 * * *', timezone: Mars/Olympus}}}", "time zone"),
        ("loop: {cycle: {steps: [trian]}}", "unknown step 'trian' (did you mean 'train'?)"),
        ("loop: {cycle: {promote: [champion, staging]}}", "in the order staging, canary"),
        ("loop: {cycle: {canary_weight: 140}}", "must be between 0 and 100"),
    ],
)
def test_mistakes_name_the_key_and_line(tmp_path, loop, message):
    with pytest.raises(ConfigError) as err:
        spec_of(tmp_path, loop)
    assert message in str(err.value)
    assert err.value.path and err.value.path.endswith("mlops.yaml") and err.value.line
