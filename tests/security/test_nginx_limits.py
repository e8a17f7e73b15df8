"""The nginx sample limits one client address (issue 18, item 2) and passes the client's
address to onestop from every location, and nginx accepts it (``nginx -t``)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from tests.conftest import need_service

SAMPLE = Path(__file__).resolve().parents[2] / "systemd" / "nginx-onestop.conf"


def _locations(conf: str) -> dict[str, str]:
    found = re.finditer(r"^    location ([^{\n]+?) \{(.*?)\n    \}", conf, re.S | re.M)
    return {m.group(1): m.group(2) for m in found}


def test_the_sample_limits_connections_and_requests_per_address() -> None:
    conf = SAMPLE.read_text()
    assert re.search(r"limit_conn_zone \$binary_remote_addr zone=onestop_conn:", conf)
    assert re.search(r"^\s+limit_conn onestop_conn \d+;", conf, re.M)
    assert re.search(r"^\s+client_header_timeout \d+s;", conf, re.M)
    locations = _locations(conf)
    assert "limit_req zone=onestop_sio" in locations["/socket.io/"]
    assert "limit_req zone=onestop_api" in locations["/api/"]
    for name, body in locations.items():
        if "proxy_pass" in body:
            # a location with its own proxy_set_header inherits none from the server block
            for header in ("Host", "X-Forwarded-For", "X-Forwarded-Proto"):
                assert f"proxy_set_header {header} " in body, (name, header)


def test_nginx_accepts_the_sample(tmp_path: Path) -> None:
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    openssl = shutil.which("openssl")
    if nginx is None or openssl is None:
        need_service("services", "nginx is not installed (apt-get install nginx-light)")
        return
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=motcua.example.gov.vn", "-keyout", str(tmp_path / "k.pem"),
                    "-out", str(tmp_path / "c.pem")], check=True, capture_output=True)
    site = SAMPLE.read_text().replace("/etc/onestop/tls/onestop.crt", str(tmp_path / "c.pem")).replace(
        "/etc/onestop/tls/onestop.key", str(tmp_path / "k.pem"))
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log stderr;\nevents {{}}\n"
        f"http {{\n  access_log off;\n  include {tmp_path}/site.conf;\n}}\n")
    result = subprocess.run([nginx, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr
