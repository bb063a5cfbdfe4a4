//! Lockfile parsing (`llmring.lock`, TOML): never panics; every alias of every profile of a
//! parsed lockfile resolves to at least one candidate, and so does a direct `provider:model`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use llmring::lockfile::{Lockfile, LockfileSource, lock_digest};

fuzz_target!(|data: &[u8]| {
    let Ok(lock) = Lockfile::parse(data, LockfileSource::BuiltIn) else {
        return;
    };
    assert_eq!(lock.digest, lock_digest(data));
    let text = String::from_utf8_lossy(data);
    for (name, profile) in &lock.profiles {
        assert_eq!(lock.profile(name).expect("a listed profile"), profile);
        for alias in profile.aliases() {
            let r = lock.resolve(alias, name).expect("a bound alias resolves");
            assert!(!r.candidates.is_empty());
        }
        let _ = lock.resolve(&text, name);
    }
    let _ = lock.resolve(&text, &lock.default_profile);
});
