"""Settings, read from ``PILOT_*`` environment variables and an optional ``.env`` file."""

from __future__ import annotations

import ipaddress
import os
from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

VAR_DIR = Path("var")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PILOT_", env_file=".env", extra="ignore")

    # Storage
    var_dir: Path = VAR_DIR
    database_url: str = ""  # default: sqlite:///<var_dir>/pilot.db
    uploads_dir: Path | None = None  # archive of every file received, unchanged
    inbox_dir: Path | None = None  # one sub-folder per ministry code
    site_dir: Path | None = None  # the published static panorama
    draft_dir: Path | None = None  # the draft panorama: DINUM's, never under site_dir

    # Limits (documented in the README)
    max_upload_bytes: int = Field(default=20 * 1024 * 1024, ge=1)
    max_uncompressed_bytes: int = Field(default=200 * 1024 * 1024, ge=1)
    max_rows_per_sheet: int = Field(default=200_000, ge=1)
    max_columns: int = Field(default=200, ge=1)
    max_cell_chars: int = Field(default=10_000, ge=1)
    max_zip_entries: int = Field(default=1_000, ge=1)
    max_compression_ratio: int = Field(default=200, ge=1)
    max_sheets: int = Field(default=50, ge=1)  # sheets a workbook may declare
    max_sheet_cells: int = Field(default=4_000_000, ge=1)  # rows × columns a sheet spans
    max_shared_strings: int = Field(default=2_000_000, ge=1)  # entries of sharedStrings.xml
    max_findings_per_kind: int = Field(default=200, ge=1)  # then one summary finding
    # The isolated reader (importers/isolation.py): limits the OS enforces on the child
    # process that parses an untrusted file.
    reader_memory_bytes: int = Field(default=1024 * 1024 * 1024, ge=64 * 1024 * 1024)
    reader_cpu_seconds: int = Field(default=60, ge=1)
    reader_wall_seconds: float = Field(default=90, gt=0)
    reader_result_bytes: int = Field(default=512 * 1024 * 1024, ge=1024)
    max_request_bytes: int = Field(default=25 * 1024 * 1024, ge=1)
    graphql_max_depth: int = Field(default=12, ge=1)
    graphql_max_aliases: int = Field(default=30, ge=1)
    graphql_max_tokens: int = Field(default=5_000, ge=1)
    graphql_max_page_size: int = Field(default=1_000, ge=1)
    graphql_default_page_size: int = Field(default=50, ge=1)
    # What one GraphQL request may cost (pilot/api/graphql/cost.py): the estimated number
    # of values in its response, per role; lists without ``first`` are counted as this
    # long; list arguments (literal or variables) and ``search`` are bounded.
    graphql_cost_budget_public: int = Field(default=200_000, ge=1)
    graphql_cost_budget_ministry: int = Field(default=1_000_000, ge=1)
    graphql_cost_budget_dinum: int = Field(default=2_000_000, ge=1)  # and admin
    graphql_cost_list_size: int = Field(default=10, ge=1)
    graphql_max_list_length: int = Field(default=1_000, ge=1)
    graphql_max_search_length: int = Field(default=200, ge=1)
    # answers of queries cached by data version, per worker (bytes of JSON); 0: off
    graphql_cache_bytes: int = Field(default=64 * 1024 * 1024, ge=0)
    # GraphQL requests executed at once per process (they hold a database connection);
    # keep it below the connection pool (5 + 10 overflow): the others wait their turn.
    graphql_max_concurrency: int = Field(default=8, ge=1)
    # Workbook imports run at once per process (a worker thread and a connection each;
    # SQLite writes one at a time anyway); the others wait their turn up to
    # ``import_wait_seconds``, then get 503 (pilot/api/turns.py).
    import_max_concurrency: int = Field(default=2, ge=1)
    import_wait_seconds: float = Field(default=120, gt=0)

    # API
    auth_max_failures: int = Field(default=10, ge=1)  # failed authentications per client IP…
    auth_failure_window_seconds: int = Field(default=60, ge=1)  # …within this sliding window
    debug: bool = False
    graphiql: bool = True
    introspection: bool = True

    # Serving (`pilot serve`; documented in the README and SECURITY.md)
    # A client must send its request line and headers within this time, else the
    # connection is closed; a kept-alive connection waiting for its next request is closed
    # after the same time (1 ms steps, at most 60 s: the HTTP server's own bounds).
    header_timeout_seconds: float = Field(default=10, ge=0.001, le=60)
    # A request's whole body must arrive within this time after its headers, else 408.
    body_timeout_seconds: float = Field(default=120, gt=0)
    keep_alive: bool = True  # false: every connection is closed after its response
    # Connections served at once; the next ones wait in the listen backlog for a place.
    max_connections: int = Field(default=1_000, ge=1)
    # Addresses or networks (comma-separated) of the reverse proxies whose X-Forwarded-For
    # and Forwarded headers are believed; none by default: the peer address is the client.
    trusted_proxies: str = ""

    # Web spaces and login (README "Se connecter avec ProConnect", SECURITY.md)
    # OpenID Connect provider (ProConnect): its issuer URL (discovery at
    # <issuer>/.well-known/openid-configuration) and PILOT's client credentials.
    oidc_issuer: str = ""
    oidc_client_id: str = ""
    oidc_client_secret: str = ""
    oidc_scopes: str = "openid email given_name usual_name"
    # The address people reach PILOT at (https://… in production): redirect URIs are made
    # from it, and the session cookie is marked Secure when it is https. Empty: the
    # request's own address (development).
    public_url: str = ""
    # Signs the session cookies; the same on every web worker. Empty: a random secret made
    # once and kept in <var_dir>/session-secret (embedded default).
    session_secret: str = ""
    session_lifetime_seconds: int = Field(default=8 * 3600, ge=60)  # fixed, from the login
    # The demo's login without ProConnect: only when this is true AND the database is SQLite
    # AND the request comes to and from the loopback address (pilot/web/demo.py).
    demo_login: bool = False
    # Operations (pilot/api/observability.py; README "Production")
    log_json: bool = False  # log lines as JSON objects (JSON Lines), with the request id
    # Addresses or networks (comma-separated) allowed to read /metrics; 404 for others.
    metrics_allowed: str = "127.0.0.1,::1"

    # Scheduler
    inbox_interval_seconds: int = Field(default=60, ge=1)
    publish_interval_seconds: int = Field(default=0, ge=0)  # 0: draft republishing off
    # Published editions without a site (loaded from the open data, or whose writing failed)
    # are written at start, then this often; 0: only by `pilot render`.
    render_interval_seconds: int = Field(default=600, ge=0)
    scheduler_in_serve: bool = True

    # Publication: processes that draw the scorecards and lay out the PDF booklet (a pool
    # created per publication, `scorecards/drawing.py`); default one per CPU, at most 8
    # (each holds matplotlib, a few hundred MB; the booklet's about 1 GB at 1 000 projects).
    drawing_workers: int = Field(default_factory=lambda: min(os.cpu_count() or 1, 8), ge=1)
    # Publication: a new edition less than this many days after the nearest published one
    # (or bearing the same title) is refused unless forced (`pilot publish --force`).
    min_days_between_editions: int = Field(default=30, ge=0)

    # Reporting period: a project with no report for this many days is "stale"
    reporting_period_days: int = Field(default=183, ge=1)

    # Campaigns, e-mail and alerts (README, "Campagnes"). No SMTP host: messages wait
    # in the outbox until one is configured.
    smtp_host: str = ""
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_starttls: bool = False
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_timeout_seconds: float = Field(default=30, gt=0)
    mail_from: str = "pilot@numerique.gouv.fr"
    reminder_days: str = "7,2"  # days before the deadline a reminder is sent
    late_reminder_every_days: int = Field(default=7, ge=1)  # then while late, every N days
    alert_emails: str = ""  # DINUM's subscribers to alerts, comma-separated
    webhooks: str = ""  # URLs alerts are posted to, comma-separated
    webhook_secret: str = ""  # HMAC-SHA256 key of the X-Pilot-Signature header
    webhook_timeout_seconds: float = Field(default=10, gt=0)
    outbox_interval_seconds: int = Field(default=60, ge=1)  # delivery of the outbox
    outbox_backoff_seconds: int = Field(default=60, ge=1)  # first retry; doubles, up to 6 h
    # The job queue (pilot/jobs: the follow-up of each import): run every N seconds
    jobs_interval_seconds: int = Field(default=10, ge=1)
    jobs_backoff_seconds: int = Field(default=60, ge=1)  # first retry; doubles, up to 6 h

    # DINUM's opinion (docs/opinions.md): the cost (€ TTC, complete cost) from which a
    # project needs it, and the bounds of a request's file of documents.
    opinion_threshold_eur: int = Field(default=9_000_000, ge=0)
    opinion_max_document_bytes: int = Field(default=20 * 1024 * 1024, ge=1)
    opinion_max_documents: int = Field(default=30, ge=1)

    @field_validator("trusted_proxies", "metrics_allowed")
    @classmethod
    def _proxies_are_addresses(cls, value: str) -> str:
        _networks(value)  # refuses a value that is not a list of addresses at start
        return value

    @property
    def trusted_proxy_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        return _networks(self.trusted_proxies)

    @property
    def metrics_allowed_networks(
        self,
    ) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        return _networks(self.metrics_allowed)

    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.var_dir / 'pilot.db'}"

    @property
    def uploads_path(self) -> Path:
        return self.uploads_dir or self.var_dir / "uploads"

    @property
    def inbox_path(self) -> Path:
        return self.inbox_dir or self.var_dir / "inbox"

    @property
    def site_path(self) -> Path:
        return self.site_dir or self.var_dir / "site"

    @property
    def draft_path(self) -> Path:
        return self.draft_dir or self.var_dir / "brouillon"


def _networks(value: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(
        ipaddress.ip_network(part.strip(), strict=False)
        for part in value.split(",")
        if part.strip()
    )


@lru_cache
def get_settings() -> Settings:
    return Settings()
