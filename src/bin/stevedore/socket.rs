//! Where a namespace's control socket lives, and taking it: a stale socket
//! of a dead `up` is replaced, a live one is never stolen.

use std::io::ErrorKind;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};

use crate::Failure;

/// The socket of `namespace`: `/run/stevedore/<ns>.sock` as root, else
/// `$XDG_RUNTIME_DIR/stevedore/<ns>.sock`, else
/// `/tmp/stevedore-<uid>/<ns>.sock`.
pub fn default_path(namespace: &str) -> PathBuf {
    let uid = user_id();
    let runtime = std::env::var_os("XDG_RUNTIME_DIR").filter(|dir| !dir.is_empty());
    directory_for(uid, runtime.as_deref().map(Path::new)).join(format!("{namespace}.sock"))
}

/// The directory of the sockets for a user (pure: tested as a table).
pub fn directory_for(uid: u32, runtime_dir: Option<&Path>) -> PathBuf {
    match (uid, runtime_dir) {
        (0, _) => PathBuf::from("/run/stevedore"),
        (_, Some(dir)) => dir.join("stevedore"),
        (uid, None) => PathBuf::from(format!("/tmp/stevedore-{uid}")),
    }
}

/// The effective user id, read from `/proc/self` (owned by it).
fn user_id() -> u32 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").map_or(u32::MAX, |meta| meta.uid())
}

/// The path given with `--socket`, else the namespace's.
pub fn path_of(socket: Option<PathBuf>, namespace: &str) -> PathBuf {
    socket.unwrap_or_else(|| default_path(namespace))
}

/// Whether an `up` answers on `path`.
pub fn is_live(path: &Path) -> bool {
    UnixStream::connect(path).is_ok()
}

/// Takes `path` for this `up`: its directory made (0700) when missing, a
/// stale socket removed, a live one refused; the new socket is 0600.
pub fn bind(path: &Path) -> Result<UnixListener, Failure> {
    if let Some(dir) = path.parent()
        && !dir.as_os_str().is_empty()
        && !dir.exists()
    {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|error| Failure::runtime(format!("cannot make {}: {error}", dir.display())))?;
    }
    match std::fs::symlink_metadata(path) {
        Ok(_) if is_live(path) => {
            return Err(Failure::runtime(format!(
                "{} is the socket of a running stevedore up; stop it first, or give --socket",
                path.display()
            )));
        }
        Ok(meta) if meta.file_type().is_dir() => {
            return Err(Failure::runtime(format!(
                "{} is a directory, not a socket",
                path.display()
            )));
        }
        // What a dead `up` left behind.
        Ok(_) => std::fs::remove_file(path).map_err(|error| {
            Failure::runtime(format!("cannot replace {}: {error}", path.display()))
        })?,
        Err(error) if error.kind() == ErrorKind::NotFound => {}
        Err(error) => {
            return Err(Failure::runtime(format!(
                "cannot use {}: {error}",
                path.display()
            )));
        }
    }
    let listener = UnixListener::bind(path).map_err(|error| {
        Failure::runtime(format!("cannot listen on {}: {error}", path.display()))
    })?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(|error| {
        Failure::runtime(format!("cannot restrict {}: {error}", path.display()))
    })?;
    Ok(listener)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_uses_run_and_users_their_runtime_directory() {
        assert_eq!(
            directory_for(0, Some(Path::new("/run/user/0"))),
            Path::new("/run/stevedore")
        );
        assert_eq!(
            directory_for(1000, Some(Path::new("/run/user/1000"))),
            Path::new("/run/user/1000/stevedore")
        );
        assert_eq!(directory_for(1000, None), Path::new("/tmp/stevedore-1000"));
    }

    #[test]
    fn a_stale_socket_is_replaced_and_a_live_one_refused() {
        let dir =
            std::env::temp_dir().join(format!("stevedore-socket-test-{}", std::process::id()));
        let path = dir.join("ns.sock");
        let first = bind(&path).expect("a fresh socket");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert!(bind(&path).is_err(), "a live socket is never stolen");
        drop(first); // the process that held it is gone; the file stays
        assert!(path.exists());
        let _second = bind(&path).expect("a stale socket is replaced");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
