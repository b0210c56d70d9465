"""Runtime configuration, read once from the environment and `.env`.

Provider variables keep their standard names (LIVEKIT_URL, OPENAI_API_KEY, ...) so existing
deployments and LiveKit tooling work unchanged; the runtime's own knobs are prefixed MB_.
A missing key for a chosen cloud engine stops start-up with one sentence naming the variable
(`Settings.check_engines`), instead of a stack trace from deep inside a plugin; so does any
value that does not parse (`load_settings` turns pydantic's report into one `ConfigError`
sentence naming the variable, and never repeats the value of a secret).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

LOG_LEVELS = ("TRACE", "DEBUG", "INFO", "SUCCESS", "WARNING", "ERROR", "CRITICAL")
MIN_TOKEN_SECRET_LENGTH = 32
"""Token-endpoint credentials are compared, not throttled, once valid (a valid key is never locked
out by someone else's failures): they must be long enough that guessing is hopeless."""


class ConfigError(RuntimeError):
    """A configuration problem the operator must fix; the message is one clear sentence."""


def _env(name: str) -> AliasChoices:
    return AliasChoices(name, name.lower())


class Settings(BaseSettings):
    """Every setting of the runtime; `.env.example` documents each one."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True)

    # --- LiveKit (standard names) ---
    livekit_url: str = Field("ws://127.0.0.1:7880", validation_alias=_env("LIVEKIT_URL"))
    livekit_api_key: str | None = Field(None, validation_alias=_env("LIVEKIT_API_KEY"))
    livekit_api_secret: SecretStr | None = Field(None, validation_alias=_env("LIVEKIT_API_SECRET"))

    # --- cloud providers (standard names) ---
    deepgram_api_key: SecretStr | None = Field(None, validation_alias=_env("DEEPGRAM_API_KEY"))
    openai_api_key: SecretStr | None = Field(None, validation_alias=_env("OPENAI_API_KEY"))
    openai_base_url: str | None = Field(None, validation_alias=_env("OPENAI_BASE_URL"))
    openai_model: str = Field("gpt-4o-mini", validation_alias=_env("MB_OPENAI_MODEL"))
    openai_tts_voice: str = Field("alloy", validation_alias=_env("MB_OPENAI_TTS_VOICE"))

    # --- engine choice per part ---
    stt: Literal["auto", "offline", "deepgram", "instant"] = Field("auto", validation_alias=_env("MB_STT"))
    llm: Literal["auto", "offline", "openai"] = Field("auto", validation_alias=_env("MB_LLM"))
    tts: Literal["auto", "offline", "openai", "instant"] = Field("auto", validation_alias=_env("MB_TTS"))
    """`instant` (STT and TTS): engines that answer at once, for load tests (`worker/engines/instant.py`)."""

    # --- runtime ---
    mode: Literal["dev", "production"] = Field("dev", validation_alias=_env("MB_MODE"))
    data_dir: Path = Field(Path("data"), validation_alias=_env("MB_DATA_DIR"))
    flow: Literal["real_estate", "insurance"] = Field("real_estate", validation_alias=_env("MB_FLOW"))
    today: date | None = Field(None, validation_alias=_env("MB_TODAY"))
    journal_url: str | None = Field(None, validation_alias=_env("MB_JOURNAL_URL"))
    """sqlite:///path.db (default: <data_dir>/journal.db) or postgresql://user@host:port/db."""
    journal_key: SecretStr | None = Field(None, validation_alias=_env("MB_JOURNAL_KEY"))
    journal_anchor_dir: Path | None = Field(None, validation_alias=_env("MB_JOURNAL_ANCHOR_DIR"))
    """Signed per-call anchors kept outside the journal database (default: <data_dir>/journal_anchors)."""
    agent_name: str = Field("mediabloom", validation_alias=_env("MB_AGENT_NAME"))
    worker_host: str = Field("127.0.0.1", validation_alias=_env("MB_WORKER_HOST"))
    worker_port: int = Field(8081, validation_alias=_env("MB_WORKER_PORT"))
    worker_max_calls: int = Field(2, validation_alias=_env("MB_WORKER_MAX_CALLS"))
    """Concurrent calls a worker takes before telling LiveKit it is full (offline engines: ~1 per core)."""
    worker_drain_timeout: int = Field(300, validation_alias=_env("MB_WORKER_DRAIN_TIMEOUT"))
    resume_sweep_seconds: float = Field(30.0, ge=0, validation_alias=_env("MB_RESUME_SWEEP_SECONDS"))
    """How often a running worker takes over tool calls a dead worker left (0: only at start)."""
    journal_lease_seconds: float = Field(30.0, ge=1, validation_alias=_env("MB_JOURNAL_LEASE_SECONDS"))
    """How long a running tool call's claim stays owned without a renewal (renewed every third
    of it while the call runs). A dead worker's calls on another host are taken over only
    after it ran out; on the same host as soon as its process is seen gone."""
    sandbox_faults: str = Field("", validation_alias=_env("MB_SANDBOX_FAULTS"))
    """Test hook: faults armed in the sandbox at call start, e.g. `payments.capture:kill`."""
    otlp_endpoint: str | None = Field(None, validation_alias=_env("MB_OTLP_ENDPOINT"))
    log_level: str = Field("INFO", validation_alias=_env("MB_LOG_LEVEL"))
    log_json: bool = Field(False, validation_alias=_env("MB_LOG_JSON"))

    # --- turn taking (seconds) ---
    turn_detection: Literal["rule", "livekit", "vad"] = Field("rule", validation_alias=_env("MB_TURN_DETECTION"))
    """What ends the caller's turn after a pause (worker/call/turn_end.py): a rule over the words,
    livekit's local turn-detector model, or the VAD's silence alone."""
    vad_min_silence: float | None = Field(None, gt=0, validation_alias=_env("MB_VAD_MIN_SILENCE"))
    """The session VAD's end-of-speech silence; unset: 0.25 s for the livekit detector (its least: livekit-agents
    1.8.9 refuses a shorter one), else 0.45 s."""
    endpointing_min_delay: float = Field(0.05, validation_alias=_env("MB_ENDPOINTING_MIN_DELAY"))
    endpointing_max_delay: float = Field(1.2, validation_alias=_env("MB_ENDPOINTING_MAX_DELAY"))
    """How long after the caller's last word an incomplete-sounding turn is awaited."""
    interrupt_min_duration: float = Field(0.05, validation_alias=_env("MB_INTERRUPT_MIN_DURATION"))
    """Caller speech over the agent that pauses its audio (the words decide after: `worker.call.barge_in`)."""
    false_interruption_timeout: float = Field(1.5, validation_alias=_env("MB_FALSE_INTERRUPTION_TIMEOUT"))
    """After a barge-in, resume the reply this long after the caller's end of speech if the
    recogniser has said nothing by then (its empty or backchannel verdict resumes it at once)."""
    echo_cancellation: bool = Field(True, validation_alias=_env("MB_ECHO_CANCELLATION"))
    """Simulated calls whose line has echo (a speakerphone): cancel the agent's own voice (WebRTC
    AEC3) before the VAD."""
    stt_interim_interval: float = Field(0.8, validation_alias=_env("MB_STT_INTERIM_INTERVAL"))
    stt_level_pause: bool = Field(True, validation_alias=_env("MB_STT_LEVEL_PAUSE"))
    """Count the caller's pause from the audio's level as well as the VAD's, which lags it by ~135 ms
    (`worker/engines/quiet_tail.py`); off: the VAD alone."""
    stt_complete_pause: float = Field(0.40, ge=0.2, le=2.0, validation_alias=_env("MB_STT_COMPLETE_PAUSE"))
    """Seconds of pause after which a finished-sounding utterance ends the turn (the floor that keeps
    comma pauses whole; `worker.engines.whisper_turn_end.COMPLETE_PAUSE_S`, `bench turns`)."""
    whisper_threads: int = Field(1, validation_alias=_env("MB_WHISPER_THREADS"))
    piper_threads: int = Field(1, ge=1, validation_alias=_env("MB_PIPER_THREADS"))
    """ONNX Runtime threads of the agent's Piper voice (one measured faster on 2 shared cores)."""
    whisper_model: str = Field("tiny.en", validation_alias=_env("MB_WHISPER_MODEL"))
    """Offline Whisper weights: tiny.en, base (docs/recognition.md compares them), or a CTranslate2 directory."""
    stt_hints: bool = Field(True, validation_alias=_env("MB_STT_HINTS"))
    """Bias offline decoding by the question just asked (slot prompt; digits only after a digit question)."""

    @property
    def vad_silence(self) -> float:
        """The VAD's end-of-speech silence in effect (see `vad_min_silence`)."""
        if self.vad_min_silence is not None:
            return self.vad_min_silence
        return 0.25 if self.turn_detection == "livekit" else 0.45

    # --- bad input ---
    silence_reprompt_after: float = Field(8.0, validation_alias=_env("MB_SILENCE_REPROMPT_AFTER"))
    silence_max_reprompts: int = Field(1, validation_alias=_env("MB_SILENCE_MAX_REPROMPTS"))

    # --- token backend (`mediabloom serve`, worker/serve/); it dispatches `agent_name` (above) ---
    token_api_key: SecretStr | None = Field(None, validation_alias=_env("MB_TOKEN_API_KEY"))
    """Bearer key a deployment's backend presents to POST /api/token."""
    token_signing_secret: SecretStr | None = Field(None, validation_alias=_env("MB_TOKEN_SIGNING_SECRET"))
    """Shared secret for HMAC-signed token requests (X-MB-Timestamp / X-MB-Signature)."""
    token_ttl_seconds: int = Field(600, ge=1, le=86_400, validation_alias=_env("MB_TOKEN_TTL_SECONDS"))
    token_rate_burst: int = Field(10, ge=1, validation_alias=_env("MB_TOKEN_RATE_BURST"))
    token_rate_per_minute: float = Field(30.0, gt=0, validation_alias=_env("MB_TOKEN_RATE_PER_MINUTE"))
    """Per credential (the API key, the signing secret); failed requests have a per-address bucket of the same size."""
    token_body_timeout_seconds: float = Field(10.0, gt=0, le=300, validation_alias=_env("MB_TOKEN_BODY_TIMEOUT_SECONDS"))
    """A request body must arrive whole within this time (a trickled body would hold its connection)."""
    token_max_connections_per_address: int = Field(32, ge=1, validation_alias=_env("MB_TOKEN_MAX_CONNECTIONS_PER_ADDRESS"))
    """Open connections one address may hold; behind a reverse proxy that is the proxy's pool."""
    frontend_dir: Path = Field(Path("frontend/dist"), validation_alias=_env("MB_FRONTEND_DIR"))
    """Served at / by `mediabloom serve` when it holds an index.html."""

    @field_validator("log_level")
    @classmethod
    def _known_log_level(cls, value: str) -> str:
        if value.upper() not in LOG_LEVELS:
            raise ValueError(f"use one of {', '.join(LOG_LEVELS)}")
        return value.upper()

    @field_validator("journal_url")
    @classmethod
    def _supported_journal_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        lowered = value.lower()
        if lowered.startswith("sqlite:///") and len(value) > len("sqlite:///"):
            return value
        if lowered.startswith(("postgresql://", "postgres://")):
            return value
        raise ValueError("use sqlite:///path/to.db or postgresql://user@host:port/db")

    @field_validator("journal_anchor_dir", mode="before")
    @classmethod
    def _anchor_dir_or_default(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value  # empty: the default

    @field_validator("token_api_key", "token_signing_secret")
    @classmethod
    def _long_token_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None  # empty, as in .env.example: not configured
        if len(value.get_secret_value()) < MIN_TOKEN_SECRET_LENGTH:
            raise ValueError(f"it must be at least {MIN_TOKEN_SECRET_LENGTH} characters long (for example the output "
                             "of `openssl rand -hex 32`)")
        return value

    def prepared_data_dir(self) -> Path:
        """The data dir, created if needed; ConfigError (one sentence) when it cannot be."""
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"MB_DATA_DIR={str(self.data_dir)!r} cannot be used as the data directory: "
                              f"{exc.strerror or exc}.") from None
        return self.data_dir

    def resolved_today(self) -> date:
        """The sandbox's and planner's reference date (pinned in tests for determinism)."""
        return self.today or date.today()

    def engine(self, part: Literal["stt", "llm", "tts"]) -> str:
        """Resolve `auto`: a cloud engine when its key is configured, else offline."""
        choice = getattr(self, part)
        if choice != "auto":
            return choice
        if part == "stt":
            return "deepgram" if self.deepgram_api_key else "offline"
        return "openai" if self.openai_api_key else "offline"

    def check_engines(self) -> None:
        """Refuse to start with a cloud engine chosen but its key missing."""
        needs = {
            ("stt", "deepgram"): ("DEEPGRAM_API_KEY", self.deepgram_api_key),
            ("llm", "openai"): ("OPENAI_API_KEY", self.openai_api_key),
            ("tts", "openai"): ("OPENAI_API_KEY", self.openai_api_key),
        }
        for part in ("stt", "llm", "tts"):
            engine = self.engine(part)  # type: ignore[arg-type]
            var, value = needs.get((part, engine), (None, "ok"))
            if var and not value:
                raise ConfigError(
                    f"MB_{part.upper()}={engine} needs {var}, which is not set "
                    f"(add it to .env or the environment, or choose MB_{part.upper()}=offline)."
                )


def load_settings(**overrides: object) -> Settings:
    """Load settings; keyword overrides win over the environment (used by the CLI and tests).

    A value that does not parse raises ConfigError naming its variable, in one sentence.
    """
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise ConfigError(_one_sentence(exc)) from None


def _field_names() -> dict[str, tuple[str, str]]:
    """Field name and every alias → (field name, the variable an operator sets: its first alias)."""
    names: dict[str, tuple[str, str]] = {}
    for field, info in Settings.model_fields.items():
        choices = [c for c in getattr(info.validation_alias, "choices", []) if isinstance(c, str)]
        for name in [field, *choices]:
            names[name] = (field, choices[0] if choices else field.upper())
    return names


_NEVER_ECHOED = {"journal_url"}
"""Not SecretStr, but may carry a password (postgresql://user:password@host/db)."""


def _one_sentence(exc: ValidationError) -> str:
    """The first problem of a settings ValidationError as one line; secrets are named, never shown."""
    errors = exc.errors(include_url=False)
    first: dict[str, Any] = dict(errors[0])
    loc = str(first["loc"][0]) if first["loc"] else ""
    field, variable = _field_names().get(loc, (loc, loc.upper()))
    info = Settings.model_fields.get(field)
    hidden = field in _NEVER_ECHOED or (info is not None and "SecretStr" in repr(info.annotation))
    value = "" if hidden or isinstance(first.get("input"), dict) else f"={str(first.get('input'))[:60]!r}"
    reason = str(first["msg"]).removeprefix("Value error, ").rstrip(".")
    more = f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})" if len(errors) > 1 else ""
    return f"{variable}{value} is not valid: {reason}{more}."
