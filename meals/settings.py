"""Service settings, read from the environment by a factory (never at import time)."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

REPO_ROOT = Path(__file__).resolve().parent.parent
ENV_PREFIX = "WARMMEAL_"


def _default_database_url(var_dir: Path) -> str:
    return f"sqlite+aiosqlite:///{var_dir / 'warmmeal.sqlite3'}"


def _load_or_create_secret(var_dir: Path) -> str:
    """A stable secret shared by all workers: kept in var/ so sessions survive restarts."""
    path = var_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_hex(32)
    path.write_text(secret)
    path.chmod(0o600)
    return secret


def _aware(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"{ENV_PREFIX}FROZEN_NOW needs a UTC offset, e.g. 2026-11-23T07:00+08:00")
    return moment


@dataclass(frozen=True)
class EquipmentSetting:
    """Units of one kind of kitchen equipment and the portions one batch holds."""

    kind: str
    units: int
    portions_per_batch: int


DEFAULT_KITCHEN_EQUIPMENT = (
    EquipmentSetting("wok", units=8, portions_per_batch=60),
    EquipmentSetting("braising_pan", units=6, portions_per_batch=150),
    EquipmentSetting("steamer", units=6, portions_per_batch=300),
    EquipmentSetting("soup_kettle", units=4, portions_per_batch=400),
    EquipmentSetting("cold_prep", units=2, portions_per_batch=200),
)


@dataclass(frozen=True)
class Settings:
    """Everything configurable about one running service."""

    database_url: str
    secret_key: str
    var_dir: Path = REPO_ROOT / "var"
    templates_dir: Path = REPO_ROOT / "templates"
    debug: bool = False
    default_timezone: str = "Asia/Shanghai"
    sqlite_busy_timeout_ms: int = 10_000
    # Above the requests a worker has in flight, or overflow connections are opened and closed
    # on every request.
    db_pool_size: int = 20
    db_max_overflow: int = 20
    # PostgreSQL: bookings a worker receives while this many booking statements are already on
    # their way are sent together, one statement and one commit for up to `booking_batch_rows`
    # of them (0 writers: every booking is sent on its own).
    booking_batch_writers: int = 2
    booking_batch_rows: int = 64
    login_max_failures: int = 5
    login_failure_window: timedelta = timedelta(minutes=15)
    session_max_age: timedelta = timedelta(days=30)
    # Rendered sheets (PDF) kept in var/sheets, newest first, so a re-print is instant.
    pdf_cache_files: int = 200
    # An unchanged session cookie is re-sent (its expiry slid forward) once this old.
    session_renew_after: timedelta = timedelta(hours=1)
    # Decrypted session cookies each worker remembers, so a busy caller's is not opened anew
    # for every request (0 decrypts every one).
    session_cache_entries: int = 10_000
    secure_cookies: bool = False
    food_safety_limit: timedelta = timedelta(hours=2)
    hot_holding_limit: timedelta = timedelta(hours=4)
    hot_holding_min_celsius: float = 60.0
    kitchen_equipment: tuple[EquipmentSetting, ...] = DEFAULT_KITCHEN_EQUIPMENT
    kitchen_box_capacity_portions: int = 12
    kitchen_packing_lead: timedelta = timedelta(minutes=15)
    kitchen_van_holding_celsius: float | None = 65.0
    kitchen_sample_grams: int = 125
    kitchen_sample_retention: timedelta = timedelta(hours=48)
    kitchen_lunch_departures: tuple[time, ...] = (time(10, 15), time(11, 0), time(12, 45))
    kitchen_dinner_departures: tuple[time, ...] = (time(16, 15), time(17, 0))
    kitchen_site_drop_lead: timedelta = timedelta(minutes=20)
    kitchen_home_delivery_lead: timedelta = timedelta(minutes=45)
    delivery_solver_seconds: float = 5.0
    delivery_solver_seed: int = 0
    delivery_osrm_url: str | None = None
    delivery_van_fixed_cost: int = 1_000_000
    delivery_lunch_shift: tuple[time, time] = (time(9, 30), time(14, 30))
    delivery_dinner_shift: tuple[time, time] = (time(15, 30), time(20, 0))
    delivery_site_earliest_before_serving: timedelta = timedelta(minutes=90)
    delivery_site_latest_before_serving: timedelta = timedelta(minutes=10)
    delivery_home_earliest_before_serving: timedelta = timedelta(minutes=30)
    delivery_home_latest_after_serving: timedelta = timedelta(minutes=60)
    delivery_site_service: timedelta = timedelta(minutes=10)
    delivery_home_service: timedelta = timedelta(minutes=3)
    delivery_reload: timedelta = timedelta(minutes=15)
    # A re-plan lists a stop whose arrival moved at least this much, even on the same van.
    delivery_eta_shift_reported: timedelta = timedelta(minutes=10)
    last_mile_enabled: bool = True
    last_mile_speed_metres_per_second: float = 1.2
    last_mile_detour_factor: float = 1.3
    last_mile_handover_service: timedelta = timedelta(minutes=2)
    last_mile_solver_seconds: float = 0.5
    welfare_alert_categories: tuple[str, ...] = ("lives_alone", "disabled")
    welfare_webhook_url: str | None = None
    welfare_webhook_attempts: int = 3
    welfare_webhook_backoff_seconds: float = 0.5
    welfare_webhook_timeout_seconds: float = 5.0
    welfare_escalation_after: timedelta = timedelta(minutes=30)
    page_size_max: int = 500
    reference_cache_seconds: float = 30.0
    reference_cache_entries: int = 10_000
    profile_cache_entries: int = 100_000
    advanced_age_years: int = 80
    # A counter check-in is taken from this long before serving starts until this long after
    # it ends (site's own clock); outside that a scan is refused, so "served" means served.
    checkin_grace: timedelta = timedelta(minutes=30)
    # Age bands the settlement counts meals in: each number starts a band, the last is open.
    settlement_age_bands: tuple[int, ...] = (60, 70, 80, 90)
    # Monthly satisfaction callbacks: this share of each site's seniors served in the month,
    # drawn per stratum (category), plus everyone who rated a meal this low or had a failed
    # delivery.
    callback_share: float = 0.1
    callback_low_rating: int = 2
    # The supervision board asks for fresh figures this often (seconds).
    board_refresh_seconds: int = 10
    # A van stop still open this long after its planned arrival counts as late on the board.
    board_late_after: timedelta = timedelta(minutes=15)
    # Map tiles behind the board's site map (e.g. https://tile.example/{z}/{x}/{y}.png);
    # none: the map is drawn from the sites' coordinates alone.
    board_tile_url: str | None = None
    frozen_now: datetime | None = None

    @property
    def district_zone(self) -> ZoneInfo:
        """The time zone of the central kitchen and of district-wide days (sites keep their own)."""
        return ZoneInfo(self.default_timezone)

    def district_today(self, now: datetime) -> date:
        return now.astimezone(self.district_zone).date()

    @property
    def pdf_cache_dir(self) -> Path:
        return self.var_dir / "sheets"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: object) -> Settings:
        """Build settings from WARMMEAL_* variables; explicit overrides win."""
        env = dict(os.environ if environ is None else environ)
        var_dir = Path(env.get(f"{ENV_PREFIX}VAR_DIR", REPO_ROOT / "var"))
        values: dict[str, object] = {
            "var_dir": var_dir,
            "database_url": env.get(f"{ENV_PREFIX}DATABASE_URL") or _default_database_url(var_dir),
            "debug": env.get(f"{ENV_PREFIX}DEBUG", "") in {"1", "true", "yes"},
            "secure_cookies": env.get(f"{ENV_PREFIX}SECURE_COOKIES", "") in {"1", "true", "yes"},
        }
        if env.get(f"{ENV_PREFIX}FROZEN_NOW"):
            values["frozen_now"] = _aware(env[f"{ENV_PREFIX}FROZEN_NOW"])
        if env.get(f"{ENV_PREFIX}WELFARE_WEBHOOK_URL"):
            values["welfare_webhook_url"] = env[f"{ENV_PREFIX}WELFARE_WEBHOOK_URL"]
        if env.get(f"{ENV_PREFIX}OSRM_URL"):
            values["delivery_osrm_url"] = env[f"{ENV_PREFIX}OSRM_URL"]
        if env.get(f"{ENV_PREFIX}CHECKIN_GRACE_MINUTES"):
            values["checkin_grace"] = timedelta(
                minutes=int(env[f"{ENV_PREFIX}CHECKIN_GRACE_MINUTES"])
            )
        if env.get(f"{ENV_PREFIX}CALLBACK_SHARE"):
            values["callback_share"] = float(env[f"{ENV_PREFIX}CALLBACK_SHARE"])
        if env.get(f"{ENV_PREFIX}BOARD_TILE_URL"):
            values["board_tile_url"] = env[f"{ENV_PREFIX}BOARD_TILE_URL"]
        if env.get(f"{ENV_PREFIX}DELIVERY_SOLVER_SECONDS"):
            values["delivery_solver_seconds"] = float(env[f"{ENV_PREFIX}DELIVERY_SOLVER_SECONDS"])
        for name in (
            "db_pool_size",
            "db_max_overflow",
            "booking_batch_writers",
            "booking_batch_rows",
            "profile_cache_entries",
            "session_cache_entries",
            "board_refresh_seconds",
        ):
            if env.get(f"{ENV_PREFIX}{name.upper()}"):
                values[name] = int(env[f"{ENV_PREFIX}{name.upper()}"])
        if f"{ENV_PREFIX}SECRET_KEY" in env:
            values["secret_key"] = env[f"{ENV_PREFIX}SECRET_KEY"]
        values.update(overrides)
        if "secret_key" not in values:
            values["secret_key"] = _load_or_create_secret(Path(str(values["var_dir"])))
        return cls(**values)  # type: ignore[arg-type]
