"""Runtime configuration, read once from the environment and `.env`.

Provider variables keep their standard names (LIVEKIT_URL, OPENAI_API_KEY, ...) so existing
deployments and LiveKit tooling work unchanged; the runtime's own knobs are prefixed MB_.
A missing key for a chosen cloud engine stops start-up with one sentence naming the variable
(`Settings.check_engines`), instead of a stack trace from deep inside a plugin.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


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
    stt: Literal["auto", "offline", "deepgram"] = Field("auto", validation_alias=_env("MB_STT"))
    llm: Literal["auto", "offline", "openai"] = Field("auto", validation_alias=_env("MB_LLM"))
    tts: Literal["auto", "offline", "openai"] = Field("auto", validation_alias=_env("MB_TTS"))

    # --- runtime ---
    mode: Literal["dev", "production"] = Field("dev", validation_alias=_env("MB_MODE"))
    data_dir: Path = Field(Path("data"), validation_alias=_env("MB_DATA_DIR"))
    flow: Literal["real_estate", "insurance"] = Field("real_estate", validation_alias=_env("MB_FLOW"))
    today: date | None = Field(None, validation_alias=_env("MB_TODAY"))
    journal_url: str | None = Field(None, validation_alias=_env("MB_JOURNAL_URL"))
    """sqlite:///path.db (default: <data_dir>/journal.db) or postgresql://user@host:port/db."""
    journal_key: SecretStr | None = Field(None, validation_alias=_env("MB_JOURNAL_KEY"))
    agent_name: str = Field("mediabloom", validation_alias=_env("MB_AGENT_NAME"))
    worker_host: str = Field("127.0.0.1", validation_alias=_env("MB_WORKER_HOST"))
    worker_port: int = Field(8081, validation_alias=_env("MB_WORKER_PORT"))
    worker_max_calls: int = Field(2, validation_alias=_env("MB_WORKER_MAX_CALLS"))
    """Concurrent calls a worker takes before telling LiveKit it is full (offline engines: ~1 per core)."""
    worker_drain_timeout: int = Field(300, validation_alias=_env("MB_WORKER_DRAIN_TIMEOUT"))
    sandbox_faults: str = Field("", validation_alias=_env("MB_SANDBOX_FAULTS"))
    """Test hook: faults armed in the sandbox at call start, e.g. `payments.capture:kill`."""
    otlp_endpoint: str | None = Field(None, validation_alias=_env("MB_OTLP_ENDPOINT"))
    log_level: str = Field("INFO", validation_alias=_env("MB_LOG_LEVEL"))
    log_json: bool = Field(False, validation_alias=_env("MB_LOG_JSON"))

    # --- turn taking (seconds) ---
    vad_min_silence: float = Field(0.45, validation_alias=_env("MB_VAD_MIN_SILENCE"))
    endpointing_min_delay: float = Field(0.05, validation_alias=_env("MB_ENDPOINTING_MIN_DELAY"))
    endpointing_max_delay: float = Field(3.0, validation_alias=_env("MB_ENDPOINTING_MAX_DELAY"))
    interrupt_min_duration: float = Field(0.4, validation_alias=_env("MB_INTERRUPT_MIN_DURATION"))
    false_interruption_timeout: float = Field(2.5, validation_alias=_env("MB_FALSE_INTERRUPTION_TIMEOUT"))
    """After a barge-in with no words recognised yet, wait this long before resuming the reply."""
    stt_interim_interval: float = Field(0.8, validation_alias=_env("MB_STT_INTERIM_INTERVAL"))
    whisper_threads: int = Field(1, validation_alias=_env("MB_WHISPER_THREADS"))

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
    frontend_dir: Path = Field(Path("frontend/dist"), validation_alias=_env("MB_FRONTEND_DIR"))
    """Served at / by `mediabloom serve` when it holds an index.html."""

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
    """Load settings; keyword overrides win over the environment (used by the CLI and tests)."""
    return Settings(**overrides)  # type: ignore[arg-type]
