"""Service settings, read from the environment by a factory (never at import time)."""

from __future__ import annotations

import hmac
import math
import os
import secrets
import zlib
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

REPO_ROOT = Path(__file__).resolve().parent.parent
ENV_PREFIX = "WARMMEAL_"


def _default_database_url(var_dir: Path) -> str:
    return f"sqlite+aiosqlite:///{var_dir / 'warmmeal.sqlite3'}"


SECRET_MIN_BYTES = 32
# Estimated from the secret itself, which underestimates a random one: 32 random hex digits
# (128 bits) measure about 115, "abab..." 64, a repeated "0123456789" about 80.
SECRET_MIN_BITS = 100
ZLIB_OVERHEAD_BYTES = 11
PLACEHOLDER_WORDS = ("change-me", "changeme", "change_me", "placeholder", "example", "secret")
TRUE_WORDS = frozenset({"1", "true", "yes", "on"})


class InsecureSecret(ValueError):
    """The secret key cannot protect sessions and meal cards: the service must not start."""


def check_secret(secret: str) -> None:
    """Refuse a secret anyone could guess: missing, short, a placeholder or low in entropy.

    The entropy is estimated twice from the secret itself, and the lower figure counts: from
    its character frequencies (Shannon), and from how far zlib can compress it, so a repeated
    pattern such as "abab..." or "0123456789" * 4 is refused even when it is long.
    """
    raw = secret.encode()
    if len(raw) < SECRET_MIN_BYTES:
        raise InsecureSecret(
            f"{ENV_PREFIX}SECRET_KEY must be at least {SECRET_MIN_BYTES} bytes of random text, "
            f"e.g. the output of `python -c 'import secrets; print(secrets.token_hex(32))'`."
        )
    lowered = secret.lower()
    if any(word in lowered for word in PLACEHOLDER_WORDS):
        raise InsecureSecret(
            f"{ENV_PREFIX}SECRET_KEY is a placeholder; set it to a long random string."
        )
    counts = Counter(raw)
    shannon = -sum(n * math.log2(n / len(raw)) for n in counts.values())
    bits = min(shannon, 8 * (len(zlib.compress(raw, 9)) - ZLIB_OVERHEAD_BYTES))
    if bits < SECRET_MIN_BITS:
        raise InsecureSecret(
            f"{ENV_PREFIX}SECRET_KEY is too predictable (about {int(bits)} bits); "
            "set it to a long random string."
        )


def derive_key(secret: str, purpose: str) -> bytes:
    """A 32-byte key for one purpose (sessions, CSRF, meal cards), so one leak is not all."""
    return hmac.new(secret.encode(), f"warmmeal:{purpose}".encode(), "sha256").digest()


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


# A central kitchen for ~1,700 lunches: large tilting braising pans, kettles and steamer
# cabinets for the regular food, and a row of small pots / induction woks for the small
# special-diet batches (low-salt, low-sugar, halal, allergen-free: cooked apart from the
# regular pot, often under 40 portions), which would otherwise each hold a 300-portion pan
# for a whole braise (see Settings.kitchen_small_batch_equipment).
DEFAULT_KITCHEN_EQUIPMENT = (
    EquipmentSetting("wok", units=16, portions_per_batch=60),
    EquipmentSetting("braising_pan", units=14, portions_per_batch=300),
    EquipmentSetting("steamer", units=6, portions_per_batch=300),
    EquipmentSetting("soup_kettle", units=6, portions_per_batch=400),
    EquipmentSetting("cold_prep", units=2, portions_per_batch=200),
    EquipmentSetting("small_pot", units=24, portions_per_batch=40),
)


DEFAULT_MENU_VARIANTS = ("low_salt", "low_sugar", "soft", "minced", "puree", "allergen_free")


@dataclass(frozen=True)
class Settings:
    """Everything configurable about one running service."""

    database_url: str
    secret_key: str
    # The local demo (`make run`): a secret generated into var/ is fine, cookies may go over HTTP.
    demo: bool = False
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
    # Logins back off instead of locking out: after the free failures (per account from one
    # address, per account from everywhere, per address over all accounts) each further one
    # doubles the wait from `login_backoff_base`, up to `login_backoff_max`; an address that
    # tries more than `login_ip_max_accounts` accounts in the window waits the window out.
    login_failure_window: timedelta = timedelta(minutes=15)
    login_free_failures: int = 3
    login_account_free_failures: int = 10
    login_ip_free_failures: int = 5
    login_ip_max_accounts: int = 10
    login_backoff_base: timedelta = timedelta(seconds=2)
    login_backoff_max: timedelta = timedelta(minutes=15)
    # Password checks (argon2) each worker runs at once, in threads off the event loop.
    login_hash_threads: int = 2
    # Rendered sheets (PDF) kept in var/sheets, newest first, so a re-print is instant.
    pdf_cache_files: int = 200
    # A server-side session ends after this long unused, and this long after login at most.
    session_idle_timeout: timedelta = timedelta(hours=12)
    session_absolute_lifetime: timedelta = timedelta(days=7)
    # A session's last use is written at most this often (not on every request).
    session_touch_interval: timedelta = timedelta(minutes=1)
    secure_cookies: bool = True
    food_safety_limit: timedelta = timedelta(hours=2)
    hot_holding_limit: timedelta = timedelta(hours=4)
    hot_holding_min_celsius: float = 60.0
    kitchen_equipment: tuple[EquipmentSetting, ...] = DEFAULT_KITCHEN_EQUIPMENT
    kitchen_small_batch_equipment: str | None = "small_pot"
    """The kind that cooks a diet batch (no regular portions: low-salt, halal, puréed...)
    when its portions fit one of its batches; None (or a kind not in kitchen_equipment):
    every batch on its recipe's kind."""
    kitchen_box_capacity_portions: int = 12
    kitchen_cold_box_capacity_portions: int = 12
    plan_reroute_attempts: int = 5
    """Times the plan of the day routes again when the kitchen's shared equipment finishes
    some of a departure wave's food earlier than the wave's packing lead: that wave's food
    budget is counted from when its food really finishes cooking."""
    kitchen_packing_lead: timedelta = timedelta(minutes=15)
    kitchen_van_holding_celsius: float | None = None
    """Set only where vans and boxes really hold food at ≥ hot_holding_min_celsius: then
    hot boxes earn hot_holding_limit; otherwise every box has food_safety_limit."""
    kitchen_sample_grams: int = 125
    kitchen_sample_retention: timedelta = timedelta(hours=48)
    kitchen_sample_fridge_celsius: tuple[float, float] = (0.0, 8.0)
    """The fridge a 留样 sample is kept in reads within this range (°C), or it is refused."""
    kitchen_margin_warning: timedelta = timedelta(minutes=15)
    """A box eaten within this much of its food-safety limit is warned about before cooking."""
    kitchen_lunch_departures: tuple[time, ...] = (time(10, 15), time(11, 0), time(12, 45))
    kitchen_dinner_departures: tuple[time, ...] = (time(16, 15), time(17, 0))
    kitchen_site_drop_lead: timedelta = timedelta(minutes=20)
    kitchen_home_delivery_lead: timedelta = timedelta(minutes=45)
    delivery_solver_seconds: float = 5.0
    # At most this many search steps per route plan (None: the time limit alone): the same
    # plan on any machine, as tests and benchmarks need.
    delivery_solver_steps: int | None = None
    # What a background plan takes beyond the router's limit (worker start, travel
    # times, walking lists, storing): the dispatch page's progress counts on it.
    planning_overhead: timedelta = timedelta(seconds=4)
    planning_refresh_seconds: int = 2
    # A planning job's worker writes a heartbeat every third of this; a job running whose
    # heartbeat is older (its worker died) is failed so the dispatcher can plan again.
    planning_lease: timedelta = timedelta(seconds=30)
    delivery_solver_seed: int = 0
    delivery_osrm_url: str | None = None
    delivery_van_fixed_cost: int = 1_000_000
    delivery_lunch_shift: tuple[time, time] = (time(9, 30), time(14, 30))
    delivery_dinner_shift: tuple[time, time] = (time(15, 30), time(20, 0))
    delivery_site_earliest_before_serving: timedelta = timedelta(minutes=90)
    delivery_site_latest_before_serving: timedelta = timedelta(minutes=10)
    delivery_home_earliest_before_serving: timedelta = timedelta(minutes=30)
    # The menu says "only N left" when a set meal has this many portions or fewer left.
    few_portions_left: int = 10
    # Where the district sends SMS: a webhook taking {"phone", "text"}; none: no SMS codes.
    sms_webhook_url: str | None = None
    # A one-time login code by SMS lasts this long; one code per phone number this often.
    sms_code_lifetime: timedelta = timedelta(minutes=10)
    sms_code_interval: timedelta = timedelta(minutes=1)
    # Families' notices: a webhook (e.g. an SMS gateway) and Web Push, sent after commit.
    family_webhook_url: str | None = None
    notify_attempts: int = 4
    notify_backoff_seconds: float = 1.0
    notify_timeout_seconds: float = 5.0
    # A notifier loop per worker also picks up sends left over (e.g. by a restart) this often.
    notify_poll_seconds: float = 30.0
    # Web Push: the VAPID key pair is made once into var/vapid_private.pem unless given here.
    vapid_private_key_path: Path | None = None
    vapid_subject: str = "mailto:ops@warmmeal.invalid"

    @property
    def vapid_key_file(self) -> Path:
        return self.vapid_private_key_path or Path(self.var_dir) / "vapid_private.pem"

    delivery_home_latest_after_serving: timedelta = timedelta(minutes=60)
    delivery_site_service: timedelta = timedelta(minutes=10)
    delivery_home_service: timedelta = timedelta(minutes=3)
    delivery_reload: timedelta = timedelta(minutes=15)
    # A driver's action may be stamped at most this far from now (a phone offline a while).
    action_time_window: timedelta = timedelta(days=2)
    # A re-plan lists a stop whose arrival moved at least this much, even on the same van.
    delivery_eta_shift_reported: timedelta = timedelta(minutes=10)
    last_mile_enabled: bool = True
    last_mile_speed_metres_per_second: float = 1.2
    last_mile_detour_factor: float = 1.3
    last_mile_handover_service: timedelta = timedelta(minutes=2)
    last_mile_solver_seconds: float = 0.5
    # A walking list may take this share of the time the food-safety limit leaves after the
    # drop; homes further along it go by van.
    last_mile_walk_share: float = 0.7
    # Categories whose failed home delivery raises a welfare alert; advanced_age is 80+ (see
    # advanced_age_years), derived from the birth date.
    welfare_alert_categories: tuple[str, ...] = (
        "lives_alone",
        "disabled",
        "semi_disabled",
        "advanced_age",
    )
    welfare_webhook_url: str | None = None
    welfare_webhook_attempts: int = 3
    welfare_webhook_backoff_seconds: float = 0.5
    welfare_webhook_timeout_seconds: float = 5.0
    welfare_escalation_after: timedelta = timedelta(minutes=30)
    page_size_max: int = 500
    # Bearer token a Prometheus scraper shows at /metrics (none: only from this machine).
    metrics_token: str | None = None
    # Meal-card QR codes printed from now on stop working this many days later (None: never,
    # until the card is re-issued).
    card_valid_days: int | None = None
    # JSON request bodies on the API: refused before parsing beyond these.
    json_max_bytes: int = 256 * 1024
    json_max_depth: int = 32
    reference_cache_seconds: float = 30.0
    reference_cache_entries: int = 10_000
    profile_cache_entries: int = 100_000
    advanced_age_years: int = 80
    # Kitchen runs and route plans are made for days this close to today, no others.
    planning_days_back: int = 7
    planning_days_ahead: int = 14
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
    # Menus are published from their cycle this many weeks ahead (today's week counts as 0).
    menu_publish_weeks_ahead: int = 2
    # Diet and texture variants every published set meal offers (the kitchen cooks them all).
    menu_variants: tuple[str, ...] = DEFAULT_MENU_VARIANTS
    # A month is closed by the worker this many days after it ended (if the operator has not).
    settlement_close_after_days: int = 5
    # The worker freezes and plans a date and slot this long after its last site's cutoff
    # (unless the kitchen froze it already), then renders its sheets.
    auto_freeze_delay: timedelta = timedelta(0)
    # The worker's periodic jobs run every this many minutes (and once when it starts).
    job_interval_minutes: int = 5
    # How often an idle worker looks for new jobs (PostgreSQL is also woken by NOTIFY).
    job_poll_seconds: float = 2.0
    # A welfare webhook that failed every try is tried again by the worker, at most this many
    # more rounds, each after `welfare_webhook_retry_after`.
    welfare_webhook_retry_rounds: int = 3
    welfare_webhook_retry_after: timedelta = timedelta(minutes=5)
    frozen_now: datetime | None = None

    @property
    def district_zone(self) -> ZoneInfo:
        """The time zone of the central kitchen and of district-wide days (sites keep their own)."""
        return ZoneInfo(self.default_timezone)

    def district_today(self, now: datetime) -> date:
        return now.astimezone(self.district_zone).date()

    def planning_days(self, now: datetime) -> tuple[date, date]:
        """The first and last day a kitchen run or a route plan may be made for."""
        today = self.district_today(now)
        return (
            today - timedelta(days=self.planning_days_back),
            today + timedelta(days=self.planning_days_ahead),
        )

    @property
    def pdf_cache_dir(self) -> Path:
        return self.var_dir / "sheets"

    def __post_init__(self) -> None:
        check_secret(self.secret_key)

    def key_for(self, purpose: str) -> bytes:
        """The key derived from the secret for one purpose (see `derive_key`)."""
        return derive_key(self.secret_key, purpose)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: object) -> Settings:
        """Build settings from WARMMEAL_* variables; explicit overrides win."""
        env = dict(os.environ if environ is None else environ)
        var_dir = Path(env.get(f"{ENV_PREFIX}VAR_DIR", REPO_ROOT / "var"))
        demo = env.get(f"{ENV_PREFIX}DEMO", "").lower() in TRUE_WORDS
        secure = env.get(f"{ENV_PREFIX}SECURE_COOKIES", "").lower()
        values: dict[str, object] = {
            "var_dir": var_dir,
            "database_url": env.get(f"{ENV_PREFIX}DATABASE_URL") or _default_database_url(var_dir),
            "debug": env.get(f"{ENV_PREFIX}DEBUG", "").lower() in TRUE_WORDS,
            "demo": demo,
            "secure_cookies": secure in TRUE_WORDS if secure else not demo,
        }
        if env.get(f"{ENV_PREFIX}FROZEN_NOW"):
            values["frozen_now"] = _aware(env[f"{ENV_PREFIX}FROZEN_NOW"])
        if env.get(f"{ENV_PREFIX}WELFARE_WEBHOOK_URL"):
            values["welfare_webhook_url"] = env[f"{ENV_PREFIX}WELFARE_WEBHOOK_URL"]
        for name in ("sms_webhook_url", "family_webhook_url", "vapid_subject"):
            if env.get(f"{ENV_PREFIX}{name.upper()}"):
                values[name] = env[f"{ENV_PREFIX}{name.upper()}"]
        if env.get(f"{ENV_PREFIX}VAPID_PRIVATE_KEY_PATH"):
            values["vapid_private_key_path"] = Path(env[f"{ENV_PREFIX}VAPID_PRIVATE_KEY_PATH"])
        if env.get(f"{ENV_PREFIX}WELFARE_ALERT_CATEGORIES") is not None:
            values["welfare_alert_categories"] = tuple(
                part.strip()
                for part in env[f"{ENV_PREFIX}WELFARE_ALERT_CATEGORIES"].split(",")
                if part.strip()
            )
        if env.get(f"{ENV_PREFIX}NOTIFY_POLL_SECONDS"):
            values["notify_poll_seconds"] = float(env[f"{ENV_PREFIX}NOTIFY_POLL_SECONDS"])
        if env.get(f"{ENV_PREFIX}METRICS_TOKEN"):
            values["metrics_token"] = env[f"{ENV_PREFIX}METRICS_TOKEN"]
        if env.get(f"{ENV_PREFIX}OSRM_URL"):
            values["delivery_osrm_url"] = env[f"{ENV_PREFIX}OSRM_URL"]
        for name in (
            "session_idle_timeout",
            "session_absolute_lifetime",
            "session_touch_interval",
            "login_failure_window",
            "login_backoff_base",
            "login_backoff_max",
        ):
            if env.get(f"{ENV_PREFIX}{name.upper()}_SECONDS"):
                values[name] = timedelta(seconds=float(env[f"{ENV_PREFIX}{name.upper()}_SECONDS"]))
        if env.get(f"{ENV_PREFIX}CHECKIN_GRACE_MINUTES"):
            values["checkin_grace"] = timedelta(
                minutes=int(env[f"{ENV_PREFIX}CHECKIN_GRACE_MINUTES"])
            )
        if env.get(f"{ENV_PREFIX}CALLBACK_SHARE"):
            values["callback_share"] = float(env[f"{ENV_PREFIX}CALLBACK_SHARE"])
        if env.get(f"{ENV_PREFIX}BOARD_TILE_URL"):
            values["board_tile_url"] = env[f"{ENV_PREFIX}BOARD_TILE_URL"]
        if env.get(f"{ENV_PREFIX}JOB_POLL_SECONDS"):
            values["job_poll_seconds"] = float(env[f"{ENV_PREFIX}JOB_POLL_SECONDS"])
        if env.get(f"{ENV_PREFIX}WELFARE_WEBHOOK_RETRY_AFTER_SECONDS"):
            values["welfare_webhook_retry_after"] = timedelta(
                seconds=float(env[f"{ENV_PREFIX}WELFARE_WEBHOOK_RETRY_AFTER_SECONDS"])
            )
        if env.get(f"{ENV_PREFIX}KITCHEN_VAN_HOLDING_CELSIUS"):
            values["kitchen_van_holding_celsius"] = float(
                env[f"{ENV_PREFIX}KITCHEN_VAN_HOLDING_CELSIUS"]
            )
        if env.get(f"{ENV_PREFIX}KITCHEN_MARGIN_WARNING_MINUTES"):
            values["kitchen_margin_warning"] = timedelta(
                minutes=int(env[f"{ENV_PREFIX}KITCHEN_MARGIN_WARNING_MINUTES"])
            )
        if env.get(f"{ENV_PREFIX}KITCHEN_SAMPLE_RETENTION_HOURS"):
            values["kitchen_sample_retention"] = timedelta(
                hours=float(env[f"{ENV_PREFIX}KITCHEN_SAMPLE_RETENTION_HOURS"])
            )
        if env.get(f"{ENV_PREFIX}PLANNING_LEASE_SECONDS"):
            values["planning_lease"] = timedelta(
                seconds=float(env[f"{ENV_PREFIX}PLANNING_LEASE_SECONDS"])
            )
        if env.get(f"{ENV_PREFIX}DELIVERY_SOLVER_SECONDS"):
            values["delivery_solver_seconds"] = float(env[f"{ENV_PREFIX}DELIVERY_SOLVER_SECONDS"])
        if env.get(f"{ENV_PREFIX}DELIVERY_SOLVER_STEPS"):
            values["delivery_solver_steps"] = int(env[f"{ENV_PREFIX}DELIVERY_SOLVER_STEPS"])
        for name in (
            "db_pool_size",
            "db_max_overflow",
            "booking_batch_writers",
            "booking_batch_rows",
            "profile_cache_entries",
            "login_free_failures",
            "login_account_free_failures",
            "login_ip_free_failures",
            "login_ip_max_accounts",
            "login_hash_threads",
            "json_max_bytes",
            "json_max_depth",
            "card_valid_days",
            "board_refresh_seconds",
            "menu_publish_weeks_ahead",
            "settlement_close_after_days",
            "job_interval_minutes",
            "welfare_webhook_retry_rounds",
            "few_portions_left",
            "notify_attempts",
            "kitchen_box_capacity_portions",
            "kitchen_cold_box_capacity_portions",
            "plan_reroute_attempts",
            "kitchen_sample_grams",
        ):
            if env.get(f"{ENV_PREFIX}{name.upper()}"):
                values[name] = int(env[f"{ENV_PREFIX}{name.upper()}"])
        if env.get(f"{ENV_PREFIX}SECRET_KEY") is not None:
            values["secret_key"] = env[f"{ENV_PREFIX}SECRET_KEY"]
        values.update(overrides)
        if "secret_key" not in values:
            if not values["demo"]:
                raise InsecureSecret(
                    f"{ENV_PREFIX}SECRET_KEY is not set. Set it to a long random string "
                    f"(or {ENV_PREFIX}DEMO=1 for the local demo, which makes its own)."
                )
            values["secret_key"] = _load_or_create_secret(Path(str(values["var_dir"])))
        return cls(**values)  # type: ignore[arg-type]
