import pytest

from core.ops import health

pytestmark = pytest.mark.django_db


def test_healthz_answers_json_with_each_check(client, settings):
    settings.BICS_API_TOKEN = "secret-token-must-not-show-123"
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True
    assert set(body) == {"status", "database", "redis", "bics"}
    assert "secret-token-must-not-show-123" not in response.content.decode()


def test_healthz_is_503_when_the_database_does_not_answer(client, monkeypatch):
    monkeypatch.setattr(health, "check_database", lambda: {"ok": False, "error": "OperationalError"})
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "error"


def test_healthz_reports_unreachable_bics_without_failing(client, settings):
    settings.BICS_API_TOKEN = "t" * 20
    settings.BICS_API_BASE_URL = "http://127.0.0.1:9/api/v2/"  # discard port: nothing listens
    settings.BICS_RETRIES = 0
    settings.BICS_CONNECT_TIMEOUT = 0.5
    response = client.get("/healthz")
    assert response.status_code == 200
    bics = response.json()["bics"]
    assert bics["reachable"] is False
    assert "unreachable" in bics["error"]


def test_healthz_caches_the_bics_check(client, settings, monkeypatch):
    calls = []
    monkeypatch.setattr(health, "_probe_bics", lambda: calls.append(1) or {"reachable": True})
    client.get("/healthz")
    second = client.get("/healthz").json()
    assert len(calls) == 1
    assert second["bics"]["cached"] is True

