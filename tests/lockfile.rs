//! Lockfile parsing, discovery, profile selection, resolution and digests.

use std::path::{Path, PathBuf};

use llmring::ErrorKind;
use llmring::lockfile::{
    BUILT_IN_LOCKFILE, Lockfile, LockfileEnv, LockfileSource, ModelRef, lock_digest,
};
use llmring::registry::Registry;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/lockfiles")
        .join(name)
}

fn refs(models: &[&str]) -> Vec<ModelRef> {
    models.iter().map(|m| m.parse().unwrap()).collect()
}

fn config_error(name: &str) -> String {
    let err = Lockfile::from_path(&fixture(name)).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Config, "{name}: {err}");
    assert!(err.message.contains(name), "error names the file: {err}");
    err.message
}

#[test]
fn reads_the_reference_format_ignoring_unknown_keys() {
    let lock = Lockfile::from_path(&fixture("reference.lock")).unwrap();
    assert_eq!(lock.default_profile, "default");
    assert_eq!(
        lock.profiles.keys().collect::<Vec<_>>(),
        ["default", "dev", "prod"]
    );
    assert_eq!(lock.source, LockfileSource::File(fixture("reference.lock")));
    let default = lock.profile("default").unwrap();
    assert_eq!(default.aliases(), ["fast", "summarizer", "local"]);
    let local = default.binding("local").unwrap();
    assert_eq!(local.models, [ModelRef::new("ollama", "llama3.2:3b")]);
}

#[test]
fn fallbacks_keep_their_order() {
    let lock = Lockfile::from_path(&fixture("reference.lock")).unwrap();
    let r = lock.resolve("fast", "default").unwrap();
    assert_eq!(r.alias, "fast");
    assert_eq!(r.profile, "default");
    assert!(!r.direct);
    assert_eq!(
        r.candidates,
        refs(&[
            "openai:gpt-4o-mini",
            "anthropic:claude-3-5-haiku-20241022",
            "google:gemini-2.5-flash"
        ])
    );
    let r = lock.resolve("fast", "prod").unwrap();
    assert_eq!(
        r.candidates,
        refs(&["anthropic:claude-haiku-4-5-20251001", "openai:gpt-4o-mini"])
    );
}

#[test]
fn accepts_the_older_provider_model_binding() {
    let lock = Lockfile::from_path(&fixture("old_form.lock")).unwrap();
    assert_eq!(lock.default_profile, "staging");
    let r = lock.resolve("advisor", "staging").unwrap();
    assert_eq!(r.candidates, refs(&["anthropic:claude-opus-4-20250514"]));
}

#[test]
fn default_profile_defaults_to_default() {
    let lock = Lockfile::from_path(&fixture("no_default_profile.lock")).unwrap();
    assert_eq!(lock.default_profile, "default");
    let env = LockfileEnv::default();
    assert_eq!(lock.select_profile(None, None, &env), "default");
}

#[test]
fn profile_selection_order() {
    let lock = Lockfile::from_path(&fixture("reference.lock")).unwrap();
    let env = LockfileEnv {
        profile: Some("dev".into()),
        ..LockfileEnv::default()
    };
    let none = LockfileEnv::default();
    assert_eq!(lock.select_profile(Some("prod"), Some("dev"), &env), "prod");
    assert_eq!(lock.select_profile(None, Some("prod"), &env), "prod");
    assert_eq!(lock.select_profile(None, None, &env), "dev");
    assert_eq!(lock.select_profile(None, None, &none), "default");
    assert_eq!(lock.select_profile(Some(""), None, &env), "dev");
}

#[test]
fn provider_model_bypasses_aliases() {
    let lock = Lockfile::from_path(&fixture("reference.lock")).unwrap();
    let r = lock
        .resolve("anthropic:claude-3-5-haiku-20241022", "default")
        .unwrap();
    assert!(r.direct);
    assert_eq!(r.alias, "anthropic:claude-3-5-haiku-20241022");
    assert_eq!(r.candidates, refs(&["anthropic:claude-3-5-haiku-20241022"]));
    // A direct model does not need the profile to exist.
    let r = lock.resolve("openai:gpt-4o", "no-such-profile").unwrap();
    assert_eq!(r.profile, "no-such-profile");
    assert_eq!(
        lock.resolve("openai:", "default").unwrap_err().kind,
        ErrorKind::InvalidArgument
    );
    assert_eq!(
        lock.resolve("  ", "default").unwrap_err().kind,
        ErrorKind::InvalidArgument
    );
}

#[test]
fn unknown_alias_and_profile_list_what_exists() {
    let lock = Lockfile::from_path(&fixture("reference.lock")).unwrap();
    let err = lock.resolve("turbo", "default").unwrap_err();
    assert_eq!(err.kind, ErrorKind::Config);
    assert!(err.message.contains("\"turbo\""), "{err}");
    assert!(err.message.contains("fast, summarizer, local"), "{err}");
    let err = lock.resolve("fast", "qa").unwrap_err();
    assert_eq!(err.kind, ErrorKind::Config);
    assert!(err.message.contains("\"qa\""), "{err}");
    assert!(err.message.contains("default, dev, prod"), "{err}");
}

#[test]
fn digest_is_sha256_of_the_file_bytes() {
    let lock = Lockfile::from_path(&fixture("reference.lock")).unwrap();
    // `sha256sum tests/fixtures/lockfiles/reference.lock`
    assert_eq!(
        lock.digest,
        "sha256:efacda1dbccea2f3a4af9ac2387c9926e230741c41e9a61ccbdc6f73bf77a328"
    );
    // The same text with one more space is another lockfile.
    let mut bytes = std::fs::read(fixture("reference.lock")).unwrap();
    bytes.push(b' ');
    let other = Lockfile::parse(&bytes, LockfileSource::BuiltIn).unwrap();
    assert_ne!(other.digest, lock.digest);
    assert_eq!(
        lock_digest(b"abc"),
        "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}

#[test]
fn malformed_lockfiles_give_clear_errors() {
    assert!(config_error("bad_toml.lock").contains("invalid TOML"));
    let msg = config_error("missing_alias.lock");
    assert!(msg.contains("binding #2") && msg.contains("alias"), "{msg}");
    let msg = config_error("missing_models.lock");
    assert!(msg.contains("\"deep\"") && msg.contains("models"), "{msg}");
    let msg = config_error("empty_models.lock");
    assert!(msg.contains("empty `models`"), "{msg}");
    let msg = config_error("bad_model.lock");
    assert!(
        msg.contains("\"gpt-4o\"") && msg.contains("provider:model"),
        "{msg}"
    );
    let msg = config_error("duplicate_alias.lock");
    assert!(
        msg.contains("\"fast\"") && msg.contains("more than once"),
        "{msg}"
    );
    let err = Lockfile::from_path(&fixture("does_not_exist.lock")).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Config);
    assert!(err.message.contains("does_not_exist.lock"), "{err}");
}

#[test]
fn discovery_order() {
    let dir = tempfile::tempdir().unwrap();
    let in_cwd = dir.path().join("llmring.lock");
    std::fs::copy(fixture("old_form.lock"), &in_cwd).unwrap();
    let env = LockfileEnv {
        lockfile_path: Some(fixture("reference.lock")),
        profile: None,
        current_dir: Some(dir.path().to_owned()),
    };
    let configured = fixture("no_default_profile.lock");

    let lock = Lockfile::discover(Some(&configured), &env).unwrap();
    assert_eq!(lock.source, LockfileSource::File(configured.clone()));

    let lock = Lockfile::discover(None, &env).unwrap();
    assert_eq!(lock.source, LockfileSource::File(fixture("reference.lock")));

    let env = LockfileEnv {
        lockfile_path: None,
        ..env
    };
    let lock = Lockfile::discover(None, &env).unwrap();
    assert_eq!(lock.source, LockfileSource::File(in_cwd.clone()));

    std::fs::remove_file(&in_cwd).unwrap();
    let lock = Lockfile::discover(None, &env).unwrap();
    assert_eq!(lock.source, LockfileSource::BuiltIn);

    // A named file that is missing is an error, never a silent fallback.
    let missing = dir.path().join("missing.lock");
    assert!(Lockfile::discover(Some(&missing), &env).is_err());
    let env = LockfileEnv {
        lockfile_path: Some(missing),
        ..env
    };
    let err = Lockfile::discover(None, &env).unwrap_err();
    assert!(err.message.contains("LLMRING_LOCKFILE_PATH"), "{err}");
}

#[test]
fn built_in_defaults() {
    let lock = Lockfile::built_in();
    assert_eq!(lock.source, LockfileSource::BuiltIn);
    assert_eq!(lock.digest, lock_digest(BUILT_IN_LOCKFILE.as_bytes()));
    assert_eq!(
        lock.digest,
        lock_digest(
            &std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lockfile/default.lock"))
                .unwrap()
        )
    );
    let fast = lock.resolve("fast", &lock.default_profile).unwrap();
    assert_eq!(fast.candidates[0], ModelRef::new("openai", "gpt-4o-mini"));
    for alias in [
        "fast",
        "balanced",
        "deep",
        "low_cost",
        "long_context",
        "local",
    ] {
        let r = lock.resolve(alias, "default").unwrap();
        assert!(!r.candidates.is_empty(), "{alias}");
    }
    assert!(lock.resolve("deep", "default").unwrap().candidates.len() > 1);
    assert_eq!(
        lock.resolve("local", "default").unwrap().candidates[0].provider,
        "ollama"
    );
    assert!(
        lock.resolve("fast", "local")
            .unwrap()
            .candidates
            .iter()
            .all(|m| m.provider == "ollama")
    );
}

#[test]
fn bundled_registry_prices_every_built_in_model() {
    let lock = Lockfile::built_in();
    let registry = Registry::bundled();
    for profile in lock.profiles.values() {
        for binding in &profile.bindings {
            for model in &binding.models {
                let info = registry.model(model).unwrap_or_else(|| {
                    panic!("{model} ({}) is not in the bundled registry", binding.alias)
                });
                assert!(
                    info.pricing.input.is_some() && info.pricing.output.is_some(),
                    "{model}"
                );
            }
        }
    }
}
