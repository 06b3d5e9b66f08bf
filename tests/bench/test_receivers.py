"""Which receiver the benchmark measures against: nginx when installed (its generated config), else its own."""

from pathlib import Path

import pytest
import requests

from bench import harness


def test_the_nginx_config_keeps_every_file_in_its_temp_dir_and_answers_any_method(tmp_path):
    conf = harness.nginx_config(port=18123, tmp=tmp_path)
    assert "daemon off;" in conf
    assert "worker_processes auto;" in conf
    assert "access_log off;" in conf
    assert "listen 127.0.0.1:18123" in conf
    assert 'location / { default_type text/plain; return 200 "ok"; }' in conf
    assert "client_body_buffer_size 1m;" in conf  # an envelope's body is never written to disk
    # every path nginx writes is under the temp dir, none at the package's defaults
    for directive in (
        "pid",
        "error_log",
        *(f"{k}_temp_path" for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")),
    ):
        lines = [line.strip() for line in conf.splitlines() if line.strip().startswith(directive + " ")]
        assert lines and lines[0].split()[1].startswith(str(tmp_path)), directive
    assert "limit_except" not in conf  # POST, PUT, GET: all answered


def test_nginx_is_chosen_only_when_its_binary_is_executable(tmp_path):
    assert harness.nginx_binary(str(tmp_path / "absent")) is None
    plain = tmp_path / "not-executable"
    plain.write_text("")
    assert harness.nginx_binary(str(plain)) is None
    plain.chmod(0o755)
    assert harness.nginx_binary(str(plain)) == str(plain)


@pytest.mark.integration  # starts the benchmark's processes
def test_without_nginx_the_bench_receiver_serves_every_scenario(tmp_path, monkeypatch):
    monkeypatch.setattr(harness, "NGINX", str(tmp_path / "no-nginx"))
    with harness.receivers(tmp_path) as (fast, bench, label):
        assert label == "bench"
        assert fast is bench and fast.kind == "bench"


@pytest.mark.integration  # starts nginx
@pytest.mark.skipif(harness.nginx_binary() is None, reason="nginx is not installed")
def test_nginx_answers_200_to_posts_and_counts_them_without_its_own_polls(tmp_path):
    with harness.receivers(tmp_path) as (fast, bench, label):
        assert label.startswith("nginx 1.")
        assert fast.kind == "nginx" and bench.kind == "bench"
        body = b"x" * 300_000  # larger than nginx's default body buffer
        with requests.Session() as session:
            for path in ("/a", "/b/c"):
                response = session.post(f"{fast.url}{path}", data=body, timeout=10)
                assert (response.status_code, response.text) == (200, "ok")
            assert session.put(f"{fast.url}/d", data=b"{}", timeout=10).status_code == 200
        assert fast.count() == 3
        assert fast.count() == 3  # polling does not count
        # a client in another process (a scenario's) starts from its own baseline; one polls at a time
        other = harness.receiver_client("nginx", fast.url)
        assert other.count() == 0
        requests.post(f"{fast.url}/e", data=b"{}", timeout=10)
        assert other.count() == 1
        fast.reset()
        assert fast.count() == 0
        assert bench.count() == 0  # nothing reached the bench receiver
        body_temp = Path(fast.proc.args[2]) / "body"  # nginx -p <temp dir>
        assert not body_temp.exists() or not any(body_temp.iterdir())
