"""The team-mode services the other suites run on: PostgreSQL, `mlflow server`, its auth app."""

from __future__ import annotations

import urllib.error

import pytest
import team_server


def test_cluster_runs_on_loopback_as_a_non_root_user(pg_cluster):
    with pg_cluster.connect() as con:
        user = con.execute("SELECT current_user").fetchone()[0]
        listen = con.execute("SHOW listen_addresses").fetchone()[0]
        port = con.execute("SHOW port").fetchone()[0]
    assert (user, listen, int(port)) == ("postgres", "127.0.0.1", pg_cluster.port)


def test_cloning_the_migrated_template_gives_mlflow_schema(pg_cluster, mlflow_template_db):
    uri = pg_cluster.create_database("clone_check", template=mlflow_template_db)
    with pg_cluster.connect("clone_check") as con:
        version = con.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    assert version
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    store = SqlAlchemyStore(uri, "file:///unused")
    try:
        assert [e.name for e in store.search_experiments()] == ["Default"]
    finally:
        store.engine.dispose()


def test_server_proxies_artifacts_and_is_emptied_between_tests(team_tracking, pg_cluster, tmp_path):
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=team_tracking.url)
    exp = client.create_experiment("first")
    run = client.create_run(exp)
    client.log_metric(run.info.run_id, "loss", 0.5)
    (tmp_path / "note.txt").write_text("hello")
    client.log_artifact(run.info.run_id, str(tmp_path / "note.txt"))
    assert run.info.artifact_uri.startswith("mlflow-artifacts:")
    stored = list(team_tracking.artifacts_dir.rglob("note.txt"))
    assert [p.read_text() for p in stored] == ["hello"]

    team_server.reset_tracking_db(pg_cluster, team_tracking.database)
    assert [e.name for e in client.search_experiments()] == ["Default"]
    assert client.create_experiment("again") == exp  # ids restart as in a new store


def test_auth_server_knows_two_users_and_refuses_strangers(auth_server):
    from mlflow import MlflowClient

    alice, bob = (("alice", auth_server.users["alice"]), ("bob", auth_server.users["bob"]))
    for user in (alice, bob):
        answer = team_server.auth_request(
            auth_server.url, f"/api/2.0/mlflow/users/get?username={user[0]}", {}, user, "GET"
        )
        assert answer["user"]["username"] == user[0]
    with pytest.raises(urllib.error.HTTPError) as denied:
        team_server.auth_request(
            auth_server.url,
            "/api/2.0/mlflow/experiments/search",
            {"max_results": 1},
            ("alice", "wrong-password"),
        )
    assert denied.value.code == 401
    with pytest.MonkeyPatch.context() as env:
        env.setenv("MLFLOW_TRACKING_USERNAME", "alice")
        env.setenv("MLFLOW_TRACKING_PASSWORD", alice[1])
        exp = MlflowClient(tracking_uri=auth_server.url).create_experiment("alice-only")
    with pytest.raises(urllib.error.HTTPError) as forbidden:
        team_server.auth_request(
            auth_server.url,
            "/api/2.0/mlflow/experiments/update",
            {"experiment_id": exp, "new_name": "taken-by-bob"},
            bob,
        )
    assert forbidden.value.code == 403
