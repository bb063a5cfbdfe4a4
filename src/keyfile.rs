//! Key files on disk. A private key file is created with mode 0600 and refused when group or
//! others may read it; its contents are zeroized after use.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::Path;

use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::receipt::keys::{self, KeyFormat, SigningKey, VerifyingKey};

/// Writes `key` to a new file at `path` (mode 0600). An existing file is not overwritten.
pub fn write_private(path: &Path, key: &SigningKey, format: KeyFormat) -> Result<()> {
    let text = keys::encode_private(key, format)?;
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .map_err(|e| Error::key(format!("cannot create key file {}: {e}", path.display())))?;
    file.write_all(text.as_bytes())
        .and_then(|_| file.write_all(b"\n"))
        .and_then(|_| file.sync_all())
        .map_err(|e| Error::key(format!("cannot write key file {}: {e}", path.display())))
}

/// Reads a private key file, refusing one that group or others can read.
pub fn read_private(path: &Path) -> Result<SigningKey> {
    let meta = fs::metadata(path)
        .map_err(|e| Error::key(format!("cannot read key file {}: {e}", path.display())))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(Error::key(format!(
                "private key file {} is readable by group or others (mode {mode:o}); \
                 run chmod 600 on it",
                path.display()
            )));
        }
    }
    if !meta.is_file() {
        return Err(Error::key(format!("{} is not a file", path.display())));
    }
    let text = Zeroizing::new(
        fs::read_to_string(path)
            .map_err(|e| Error::key(format!("cannot read key file {}: {e}", path.display())))?,
    );
    keys::parse_private(&text)
        .map_err(|e| Error::key(format!("key file {}: {}", path.display(), e.message)))
}

/// Reads a public key given either as key text or as the path of a file holding it.
pub fn read_public(key_or_path: &str) -> Result<VerifyingKey> {
    match keys::parse_public(key_or_path) {
        Ok(key) => Ok(key),
        Err(parse_error) => {
            let path = Path::new(key_or_path.trim());
            if path.is_file() {
                let text = fs::read_to_string(path).map_err(|e| {
                    Error::key(format!("cannot read key file {}: {e}", path.display()))
                })?;
                keys::parse_public(&text)
                    .map_err(|e| Error::key(format!("key file {}: {}", path.display(), e.message)))
            } else {
                Err(parse_error)
            }
        }
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn private_key_file_is_0600_and_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        let key = keys::generate().unwrap();
        write_private(&path, &key, KeyFormat::Pem).unwrap();
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(read_private(&path).unwrap().to_bytes(), key.to_bytes());
        // Never overwritten.
        assert!(write_private(&path, &key, KeyFormat::Pem).is_err());
    }

    #[test]
    fn readable_private_key_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        write_private(&path, &keys::generate().unwrap(), KeyFormat::Hex).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        let err = read_private(&path).unwrap_err();
        assert!(err.message.contains("readable by group or others"), "{err}");
        assert!(err.message.contains("640"), "{err}");
    }

    #[test]
    fn public_key_from_text_or_file() {
        let dir = tempfile::tempdir().unwrap();
        let key = keys::generate().unwrap().verifying_key();
        let text = keys::encode_public(&key, KeyFormat::Pem).unwrap();
        let path = dir.path().join("pub.pem");
        fs::write(&path, &text).unwrap();
        assert_eq!(read_public(&text).unwrap(), key);
        assert_eq!(read_public(path.to_str().unwrap()).unwrap(), key);
        assert!(read_public(dir.path().join("missing").to_str().unwrap()).is_err());
    }
}
