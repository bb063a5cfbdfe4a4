//! `llmring.lock`: profiles of aliases with ordered fallback models, and the lock digest.
//!
//! The format is the reference system's TOML:
//!
//! ```toml
//! default_profile = "default"          # optional, "default" when absent
//!
//! [[profiles.default.bindings]]
//! alias = "fast"
//! models = ["openai:gpt-4o-mini", "anthropic:claude-haiku-4-5-20251001"]  # tried in order
//!
//! [[profiles.default.bindings]]        # the older single-model form is accepted too
//! alias = "summarizer"
//! provider = "anthropic"
//! model = "claude-3-5-haiku-20241022"
//! ```
//!
//! Other keys the reference writes (`version`, `created_at`, `updated_at`, `metadata`,
//! `name`, `registry_versions`, `constraints`, ...) are ignored.
//!
//! **Discovery** ([`Lockfile::discover`]): the configured path, else `LLMRING_LOCKFILE_PATH`,
//! else `./llmring.lock`, else the built-in defaults. **Profile** ([`Lockfile::select_profile`]):
//! the request's, else the configuration's, else `LLMRING_PROFILE`, else `default_profile`.
//! Environment values are passed in through [`LockfileEnv`] ([`LockfileEnv::from_process`]
//! reads the real environment).
//!
//! **Lock digest**: `sha256:` + lowercase hex SHA-256 of the lockfile's bytes exactly as read,
//! so `sha256sum llmring.lock` shows the same hex. For the **built-in defaults** the digest is
//! the SHA-256 of the embedded text [`BUILT_IN_LOCKFILE`] (the file `src/lockfile/default.lock`
//! of the library's source at the version in use): it changes whenever the defaults change, and
//! an auditor can check it against that file.
//!
//! Built-in aliases (profile `default`): `fast` (`openai:gpt-4o-mini` first), `balanced`,
//! `deep`, `low_cost`, `long_context`, `reasoning`, `local` (Ollama). Profile `local` binds the
//! same aliases to local Ollama models.

mod discover;
mod model_ref;
mod parse;
mod resolve;

pub use discover::{BUILT_IN_LOCKFILE, LockfileEnv};
pub use model_ref::ModelRef;
pub use parse::{Binding, Lockfile, LockfileSource, Profile, lock_digest};
pub use resolve::Resolution;
