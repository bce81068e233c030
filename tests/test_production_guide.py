"""The production guide (docs/production.md, issue 22) stays true to the code: every environment
variable the app reads is in its table (and nothing else is), its systemd units pass
`systemd-analyze verify` (or, without it, parse with the keys they need), its nginx block
passes `nginx -t` where nginx is installed (CI installs it) and holds the directives it
promises, and every `flask` command a unit runs exists."""

import ast
import configparser
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "production.md"
APP = ROOT / "app"
# A file of the guide: its path in backticks, a few words, then its fenced block.
FILE_BLOCK = re.compile(r"`(/etc/[^`\s]+)`(?:(?!```).)*?```(ini|nginx)\n(.*?)```", re.S)
UNITS = {
    "bro.service",
    "bro-daily.service",
    "bro-daily.timer",
    "bro-outbox.service",
    "bro-outbox.timer",
    "bro-rotate-keys.service",
    "bro-rotate-keys.timer",
    "bro-backup.service",
    "bro-backup.timer",
}


def guide() -> str:
    return GUIDE.read_text(encoding="utf-8")


def guide_files() -> dict[str, str]:
    return {path: body for path, _kind, body in FILE_BLOCK.findall(guide())}


def units() -> dict[str, str]:
    return {
        Path(path).name: body
        for path, body in guide_files().items()
        if path.startswith("/etc/systemd/system/")
    }


# --- environment variables -----------------------------------------------------------------


def is_environ_read(node: ast.AST) -> ast.AST | None:
    """The key expression of os.environ.get(KEY), os.getenv(KEY) or os.environ[KEY]."""
    if isinstance(node, ast.Call) and node.args:
        func = ast.unparse(node.func)
        if func in ("os.environ.get", "os.getenv", "environ.get"):
            return node.args[0]
    if isinstance(node, ast.Subscript) and ast.unparse(node.value) in ("os.environ", "environ"):
        return node.slice
    return None


def environment_variables_read() -> set[str]:
    """Every name the app reads from the environment: literal keys; names a loop over a tuple of
    literals reads (configure_app); and literals passed to a helper whose parameter it reads
    (app/auth/sso.py's setting("OIDC_…"))."""
    names: set[str] = set()
    for path in APP.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        helpers: dict[str, int] = {}  # function name -> index of the parameter it reads
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef):
                params = [a.arg for a in node.args.args]
                for inner in ast.walk(node):
                    key = is_environ_read(inner)
                    if isinstance(key, ast.Name) and key.id in params:
                        helpers[node.name] = params.index(key.id)
            if isinstance(node, ast.For) and isinstance(node.target, ast.Name):
                if isinstance(node.iter, ast.Tuple | ast.List):
                    reads_target = any(
                        isinstance(k := is_environ_read(inner), ast.Name) and k.id == node.target.id
                        for inner in ast.walk(node)
                    )
                    if reads_target:
                        names.update(
                            e.value
                            for e in node.iter.elts
                            if isinstance(e, ast.Constant) and isinstance(e.value, str)
                        )
            key = is_environ_read(node)
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                names.add(key.value)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in helpers
                and len(node.args) > helpers[node.func.id]
            ):
                arg = node.args[helpers[node.func.id]]
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    names.add(arg.value)
    return names


def guide_table_variables() -> set[str]:
    """The first column of the table under "## Environment variables"."""
    section = guide().split("## Environment variables", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    return {re.match(r"\| `([^`]+)`", row).group(1) for row in rows}


def test_the_scan_finds_what_configure_app_and_sso_read():
    """The collector itself: if a refactor hid the reads from it, this says so first."""
    found = environment_variables_read()
    for name in ("DATABASE_URL", "SECRET_KEY", "TRUST_PROXY", "SMTP_PORT", "METRICS_TOKEN"):
        assert name in found  # configure_app's literal and its loops
    assert {"OIDC_ISSUER", "OIDC_TIMEOUT"} <= found  # through sso.setting(name)
    assert "PROMETHEUS_MULTIPROC_DIR" in found  # app/metrics.py, app/gunicorn_config.py


def test_every_environment_variable_the_app_reads_is_in_the_guide_table():
    missing = environment_variables_read() - guide_table_variables()
    assert not missing, f"docs/production.md's table lacks: {sorted(missing)}"


def test_the_guide_table_names_only_variables_the_app_reads():
    stale = guide_table_variables() - environment_variables_read()
    assert not stale, f"docs/production.md's table names variables nothing reads: {sorted(stale)}"


def test_the_example_environment_file_uses_only_variables_the_app_reads():
    section = guide().split("## Environment variables", 1)[1].split("\n## ", 1)[0]
    example = re.search(r"```sh\n(DATABASE_URL=.*?)```", section, re.S).group(1)
    names = {line.split("=", 1)[0] for line in example.splitlines() if "=" in line}
    assert names <= environment_variables_read()
    assert {"SECRET_KEY", "SESSION_COOKIE_SECURE", "TRUST_PROXY", "CONTACT_KEY_FILE"} <= names


# --- systemd ----------------------------------------------------------------------------------


def parse_unit(body: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    parser.optionxform = str  # keys are case-sensitive

    # Repeated keys (ExecStart= of a oneshot) are legal in systemd: keep the last for the parse.
    parser.read_string(body)
    return parser


def unit_values(body: str, section: str, key: str) -> list[str]:
    """Every value of a key in a section (systemd allows repeats, configparser does not)."""
    values, current = [], None
    for line in body.splitlines():
        if line.startswith("["):
            current = line.strip("[]")
        elif current == section and line.startswith(f"{key}="):
            values.append(line.split("=", 1)[1])
    return values


def test_the_guide_has_every_unit_and_each_parses_with_the_keys_it_needs():
    found = units()
    assert set(found) == UNITS
    for name, body in found.items():
        unit = parse_unit(body)
        assert unit.has_section("Unit"), name
        if name.endswith(".timer"):
            assert unit.get("Timer", "OnCalendar"), name
            assert unit.get("Timer", "Persistent") == "true", name
            assert unit.get("Install", "WantedBy") == "timers.target", name
            assert name.replace(".timer", ".service") in found, name
            continue
        service = unit["Service"]
        assert service["User"] == "bro", name
        assert service["EnvironmentFile"] == "/etc/bro/bro.env", name
        assert service["NoNewPrivileges"] == "yes", name
        assert service["ProtectSystem"] == "strict", name
        assert service["PrivateTmp"] == "yes", name
        assert service.get("ReadWritePaths"), name
        if name != "bro.service":
            assert service["Type"] == "oneshot", name
    web = parse_unit(found["bro.service"])["Service"]
    assert web["WorkingDirectory"] == "/srv/bro"
    assert web["RuntimeDirectory"] == "bro"
    assert web.get("RuntimeDirectoryPreserve", "no") == "no"  # emptied at each (re)start
    assert web["Environment"] == "PROMETHEUS_MULTIPROC_DIR=/run/bro"
    assert "/srv/bro/instance" in web["ReadWritePaths"].split()
    assert web["Restart"] == "on-failure"
    assert "-c python:app.gunicorn_config" in web["ExecStart"]
    assert "access-log" not in web["ExecStart"]  # the app logs each request, without queries
    # The outbox runs every few minutes, the daily jobs every day.
    assert parse_unit(found["bro-outbox.timer"])["Timer"]["OnCalendar"] == "*:0/2"
    assert parse_unit(found["bro-daily.timer"])["Timer"]["OnCalendar"] == "*-*-* 03:30:00"


def test_the_gunicorn_config_the_unit_names_exists():
    from app import gunicorn_config

    assert callable(gunicorn_config.child_exit)  # clears a dead worker's metrics


def test_the_units_pass_systemd_analyze_verify(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (the parse test above still runs)")
    # The units name /srv/bro's executables, which verify checks: a fake tree stands in.
    fake = tmp_path / "srv-bro"
    (fake / ".venv" / "bin").mkdir(parents=True)
    for tool in ("gunicorn", "flask"):
        stub = fake / ".venv" / "bin" / tool
        stub.write_text("#!/bin/sh\n")
        stub.chmod(0o755)
    unit_dir = tmp_path / "units"
    unit_dir.mkdir()
    for name, body in units().items():
        (unit_dir / name).write_text(body.replace("/srv/bro", str(fake)))
    names = sorted(str(unit_dir / name) for name in units())
    result = subprocess.run(
        [analyze, "verify", "--man=no", *names],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "SYSTEMD_LOG_LEVEL": "warning"},
    )
    ours = [line for line in result.stderr.splitlines() if str(unit_dir) in line]
    assert result.returncode == 0 and not ours, result.stderr


def test_the_commands_the_units_run_exist_as_flask_commands(app):
    """Each `flask X` in an ExecStart is a command of the app (and so is the upgrade's)."""
    run = []
    for body in units().values():
        for command in unit_values(body, "Service", "ExecStart"):
            match = re.search(r"/flask (?:--app \S+ )?([a-z-]+)", command)
            if match:
                run.append(match.group(1))
    assert {"purge-expired", "audit-verify", "send-digests", "send-outbox", "rotate-keys"} <= set(
        run
    )
    listed = app.test_cli_runner().invoke(args=["--help"])
    assert listed.exit_code == 0, listed.output
    commands = set(re.findall(r"^  ([a-z][a-z-]+)\s", listed.output, re.M))
    assert "purge-expired" in commands  # the parse itself works
    assert set(run) | {"db"} <= commands, sorted(set(run) - commands)


# --- nginx ------------------------------------------------------------------------------------


def nginx_files() -> tuple[str, str]:
    files = guide_files()
    return files["/etc/nginx/sites-available/bro"], files["/etc/nginx/bro_proxy.conf"]


def test_the_nginx_block_says_what_the_guide_promises(app):
    site, proxy = nginx_files()
    assert site.count("{") == site.count("}")
    for line in (site + proxy).splitlines():
        code = line.split("#", 1)[0].strip()
        # Each directive ends; a quoted string may go on over lines (log_format).
        assert not code or code.endswith((";", "{", "}", "'")), line
    # TLS, HSTS, compression
    assert "ssl_protocols TLSv1.2 TLSv1.3;" in site
    assert 'add_header Strict-Transport-Security "max-age=' in site
    assert re.search(r"^\s*gzip on;", site, re.M) and re.search(r"^\s*brotli on;", site, re.M)
    for kind in ("text/css", "application/javascript", "image/svg+xml", "application/json"):
        assert re.search(rf"gzip_types [^;]*{re.escape(kind)}", site), kind
    # /static/: a year, immutable, from the same folder the app serves
    static = re.search(r"location /static/ \{(.*?)\}", site, re.S).group(1)
    assert "expires 1y;" in static and "immutable" in static
    assert f"alias /srv/bro/{Path(app.static_folder).name}/;" in static
    with app.test_request_context():
        from app.templating import static_url

        assert "?v=" in static_url("css/app.css")  # the content hash that makes it safe
    # The headers TRUST_PROXY=1 reads, overwritten (not appended) for one trusted hop
    for header in ("X-Forwarded-For $remote_addr", "X-Forwarded-Proto $scheme"):
        assert f"proxy_set_header {header};" in proxy
    assert "proxy_set_header X-Forwarded-Host $host;" in proxy
    assert site.count("include /etc/nginx/bro_proxy.conf;") == 2
    # No query strings in the access log
    log_format = re.search(r"log_format bro (.*?);", site, re.S).group(1)
    assert "$uri" in log_format
    assert not re.search(r"\$(request_uri|args|query_string|request)\b", log_format)
    # The body limit is the app's
    mib = app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)
    assert re.search(rf"client_max_body_size {mib}m;", site)
    # /metrics: one address, everyone else refused; the same address in the app's allow-list
    metrics_block = re.search(r"location = /metrics \{(.*?)\}", site, re.S).group(1)
    allowed = re.search(r"allow (\S+);", metrics_block).group(1)
    assert "deny all;" in metrics_block
    assert f"METRICS_ALLOWED_IPS={allowed}" in guide()


def test_the_nginx_block_passes_nginx_t(tmp_path):
    nginx = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if nginx is None:
        if os.environ.get("REQUIRE_E2E"):  # CI (.ci/run) installs nginx and sets this
            pytest.fail("nginx is not installed, and CI should have installed it")
        pytest.skip("nginx is not installed (apt-get install nginx-light)")
    site, proxy = nginx_files()
    modules = sorted(Path("/etc/nginx/modules-enabled").glob("*.conf"))
    if not any("brotli" in m.name for m in modules):
        site = "\n".join(
            line for line in site.splitlines() if not line.strip().startswith("brotli")
        )
    # A throwaway certificate where the guide names the real one.
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
         "/CN=bro.example.se", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    site = site.replace("/etc/ssl/bro/fullchain.pem", str(cert))
    site = site.replace("/etc/ssl/bro/privkey.pem", str(key))
    site = site.replace("/var/log/nginx/", f"{tmp_path}/")
    (tmp_path / "bro_proxy.conf").write_text(proxy)
    site = site.replace("/etc/nginx/bro_proxy.conf", str(tmp_path / "bro_proxy.conf"))
    (tmp_path / "bro.conf").write_text(site)
    mime = "include /etc/nginx/mime.types;" if Path("/etc/nginx/mime.types").exists() else ""
    (tmp_path / "nginx.conf").write_text(
        "".join(f"include {m};\n" for m in modules)
        + f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\n"
        + "events {}\n"
        + f"http {{\n{mime}\naccess_log off;\ninclude {tmp_path}/bro.conf;\n}}\n"
    )
    result = subprocess.run(
        [nginx, "-t", "-q", "-c", str(tmp_path / "nginx.conf")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


# --- the rest of the guide ------------------------------------------------------------------------


def test_the_guide_covers_what_issue_22_asks_and_links_to_the_readme():
    text = guide()
    for heading in (
        "## Environment variables",
        "## PostgreSQL: two roles",
        "## Redis for the rate limits",
        "## gunicorn under systemd",
        "## The jobs: two timers",
        "## nginx in front",
        "## Backups",
        "## Upgrades",
        "## What to monitor",
        "## Logs",
    ):
        assert heading in text, heading
    assert "../README.md#production-deployment" in text
    assert "flask --app app:create_app db upgrade" in text
    assert "/readyz" in text and "/healthz" in text
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert (
        "(docs/production.md)" in readme.split("## Production deployment", 1)[1].split("\n## ")[0]
    )


def test_the_guide_names_every_metric_the_app_exports():
    from prometheus_client import Counter, Gauge, Histogram, Summary

    from app import metrics

    exported = {
        collector._name
        for collector in vars(metrics).values()
        if isinstance(collector, Counter | Histogram | Gauge | Summary)
    }
    source = (APP / "metrics.py").read_text(encoding="utf-8")
    exported |= set(re.findall(r'GaugeMetricFamily\(\s*"([a-z_]+)"', source))
    assert {"bro_http_requests", "bro_referrals"} <= {
        name.removesuffix("_total") for name in exported
    }
    monitor = guide().split("## What to monitor", 1)[1]
    for name in exported:  # a counter's _name lacks its "_total"
        assert re.search(rf"`{re.escape(name)}(_total)?`", monitor), name
