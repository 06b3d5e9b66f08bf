"""Production settings (SPEC section 6): ``manage.py check --deploy`` is clean with the settings
README.md documents for production, and is not without them (so the test can fail)."""

import secrets

from cryptography.fernet import Fernet

from tests.security.helpers import ROOT, run_with_real_settings

# README.md, "PostgreSQL and Redis (production)": the variables it has you export.
README_PRODUCTION = {
    "DEBUG": "false",
    "HTTPS": "true",
    "ALLOWED_HOSTS": "hooks.example.com",
}


def _check_deploy(**env):
    return run_with_real_settings(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        drop=("DEBUG", "HTTPS", "WEBHOOKS_DEMO", "DATABASE_URL"),
        SECRET_KEY=secrets.token_urlsafe(50),
        FIELD_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        **env,
    )


def test_the_readme_production_settings_pass_check_deploy():
    readme = (ROOT / "README.md").read_text()
    for name, value in README_PRODUCTION.items():
        assert f"{name}={value}" in readme, f"README.md no longer documents {name}={value}"

    result = _check_deploy(**README_PRODUCTION)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_without_https_check_deploy_is_not_clean():
    """The control: the same check fails when the HTTPS settings are left out."""
    result = _check_deploy(DEBUG="false", ALLOWED_HOSTS="hooks.example.com")
    assert result.returncode != 0
    assert "security.W004" in result.stderr + result.stdout  # HSTS
    assert "security.W008" in result.stderr + result.stdout  # SSL redirect
