"""Sandbox configuration: one dataclass, settable from the CLI, the constructor or
``POST /_sandbox/config``."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

FAULT_KINDS = ("latency", "error", "rate_limit", "timeout", "drop")


@dataclass
class FaultRule:
    """One fault: applies to requests whose route name matches ``routes`` (fnmatch patterns,
    empty = every route), with probability ``rate`` (seeded RNG), at most ``count`` times.

    * latency: sleep ``seconds`` before answering;
    * error: answer ``status`` (default 503) without processing;
    * rate_limit: answer 429 with ``Retry-After`` without processing;
    * timeout: process the request, then sleep ``seconds`` (past the client's read timeout)
      before answering (or close without answering if ``then_drop``);
    * drop: close the socket without answering; ``after`` (default True) processes first,
      so the client cannot know whether the request took effect.
    """

    kind: str
    rate: float = 1.0
    routes: tuple[str, ...] = ()
    count: int | None = None
    seconds: float = 0.0
    status: int = 503
    after: bool = True
    then_drop: bool = False  # timeout: close without answering after the silence

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r} (one of {', '.join(FAULT_KINDS)})")
        if isinstance(self.routes, str):
            self.routes = (self.routes,)
        self.routes = tuple(self.routes)
        if not 0.0 <= float(self.rate) <= 1.0:
            raise ValueError("fault rate must be within 0..1")
        if self.kind == "timeout" and not self.seconds:
            self.seconds = 10.0

    @classmethod
    def from_any(cls, value: FaultRule | dict) -> FaultRule:
        if isinstance(value, FaultRule):
            return value
        names = {f.name for f in fields(cls)}
        bad = sorted(set(value) - names)
        if bad:
            raise ValueError(f"unknown fault field(s): {', '.join(bad)}")
        return cls(**value)


DEFAULT_RATIOS = {"delivered": 0.9, "failed": 0.08, "dlt": 0.02}


SIGN_MODES = ("events", "all", "none")


@dataclass
class SandboxConfig:
    tokens: tuple[str, ...] = ()  # empty: any non-empty token is an account of its own
    seed: int = 0
    time_zone: str = "UTC"  # zone of BICS's naive timestamps: pass BICS_TIME_ZONE (never the host's local zone)
    approval_delay: float = 2.0  # seconds until pending senders/templates are decided
    dlr_delay: float = 1.0  # seconds until a DLR is final (after the scheduled time)
    dlr_ratios: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_RATIOS))
    dlr_rules: dict[str, str] = field(default_factory=dict)  # number or cid -> status/code
    dlr_pending_visible: bool = True  # DLR pull lists not-yet-final messages as SUBMITTED
    approval_rules: dict[str, str] = field(default_factory=dict)  # name -> approved|rejected
    webhook_key: str = "id"  # Signature HMAC key: "id" (webhook id) or "secret"
    webhook_format: str = "envelope"  # DLR callbacks: {"event","payload"} or "flat"
    # Signature header (optional in the documentation): "events" signs event deliveries but
    # not the verification handshake; "all" signs both; "none" emulates unsigned callbacks
    webhook_sign: str = "events"
    webhook_timeout: float = 3.0
    webhook_retry_delays: tuple[float, ...] = (10.0, 100.0)  # 3 attempts in all
    webhook_allow_external: bool = False  # only loopback receivers unless allowed
    get_limit: int = 1000  # GETs per minute per account
    page_size: int = 15  # default per_page
    max_page_size: int = 1000
    otp_ttl: float = 100.0  # seconds (the sample: created 08:59:52, expires 09:01:32)
    otp_failing_channels: tuple[str, ...] = ()  # failover: these channels fail
    require_approved_sender: bool = False  # 422 on sends whose sender is not approved
    balance: float = 1000.0
    enforce_balance: bool = False  # when on, messages past the balance get NO-CREDITS (401)
    currency: str = "EUR"
    price_per_unit: float = 0.05
    faults: list[FaultRule] = field(default_factory=list)
    route_overrides: dict[str, Any] = field(default_factory=dict)

    def update(self, changes: dict[str, Any]) -> None:
        names = {f.name for f in fields(self)}
        bad = sorted(set(changes) - names)
        if bad:
            raise ValueError(f"unknown config key(s): {', '.join(bad)}")
        for key, value in changes.items():
            if key == "faults":
                value = [FaultRule.from_any(v) for v in (value or [])]
            elif key == "dlr_ratios":
                value = parse_ratios(value)
            elif key == "webhook_key" and value not in ("id", "secret"):
                raise ValueError("webhook_key must be 'id' or 'secret'")
            elif key == "webhook_format" and value not in ("envelope", "flat"):
                raise ValueError("webhook_format must be 'envelope' or 'flat'")
            elif key == "webhook_sign" and value not in SIGN_MODES:
                raise ValueError(f"webhook_sign must be one of {', '.join(SIGN_MODES)}")
            elif key in ("tokens", "otp_failing_channels", "webhook_retry_delays"):
                value = tuple(value or ())
            setattr(self, key, value)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["tokens"] = [t[:4] + "…" for t in self.tokens]  # never echo whole tokens
        return data


def parse_ratios(value: str | dict[str, float]) -> dict[str, float]:
    """``"delivered=0.9,failed=0.08,dlt=0.02"`` (or a dict): groups delivered/failed/dlt or
    exact DLR statuses (``EXPIRED=0.1``). Normalised to sum 1."""
    if isinstance(value, str):
        pairs = {}
        for part in value.split(","):
            if not part.strip():
                continue
            key, _, number = part.partition("=")
            pairs[key.strip()] = float(number)
        value = pairs
    ratios = {str(k): float(v) for k, v in dict(value).items() if float(v) > 0}
    total = sum(ratios.values())
    if not ratios or total <= 0:
        raise ValueError("dlr_ratios needs at least one positive ratio")
    return {k: v / total for k, v in ratios.items()}
