//! A build context as the docker CLI sends it: the directory as a tar,
//! less what its `.dockerignore` leaves out (the Dockerfile and
//! `.dockerignore` always in), symlinks as links, modes kept, owners root.

use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use thiserror::Error;

use super::ignore::Ignore;

/// Why a build context could not be archived.
#[derive(Debug, Error)]
pub enum ContextError {
    /// A file or directory of the context could not be read.
    #[error("cannot read {}: {error}", path.display())]
    Read {
        /// What could not be read.
        path: PathBuf,
        /// The system's words.
        #[source]
        error: io::Error,
    },
}

fn read_error(path: &Path) -> impl FnOnce(io::Error) -> ContextError + '_ {
    move |error| ContextError::Read {
        path: path.to_path_buf(),
        error,
    }
}

/// The context `dir` as a tar archive; `dockerfile` is the Dockerfile's
/// path inside it (`/`-separated), sent whatever `.dockerignore` says.
pub fn context_tar(dir: &Path, dockerfile: &str) -> Result<Vec<u8>, ContextError> {
    let ignore_file = dir.join(".dockerignore");
    let mut ignore = match std::fs::read_to_string(&ignore_file) {
        Ok(text) => Ignore::parse(&text),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ignore::default(),
        Err(error) => return Err(read_error(&ignore_file)(error)),
    };
    ignore.keep(".dockerignore");
    ignore.keep(dockerfile);
    let mut builder = tar::Builder::new(Vec::new());
    add_dir(&mut builder, dir, "", &ignore)?;
    builder.into_inner().map_err(read_error(dir))
}

/// Adds what `dir` (at `prefix` in the archive) holds, in name order so that
/// the same tree always makes the same archive.
fn add_dir(
    builder: &mut tar::Builder<Vec<u8>>,
    dir: &Path,
    prefix: &str,
    ignore: &Ignore,
) -> Result<(), ContextError> {
    let mut entries = std::fs::read_dir(dir)
        .and_then(|entries| entries.collect::<Result<Vec<_>, _>>())
        .map_err(read_error(dir))?;
    entries.sort_by_key(|entry| entry.file_name());
    for entry in entries {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let relative = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}/{name}")
        };
        let metadata = std::fs::symlink_metadata(&path).map_err(read_error(&path))?;
        let kind = metadata.file_type();
        if ignore.excludes(&relative) {
            // An excluded directory is still walked when an exception
            // names something under it; it is not sent itself.
            if kind.is_dir() && ignore.reopens(&relative) {
                add_dir(builder, &path, &relative, ignore)?;
            }
            continue;
        }
        let mut header = tar::Header::new_gnu();
        header.set_mode(metadata.permissions().mode() & 0o7777);
        header.set_uid(0);
        header.set_gid(0);
        let mtime = metadata
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs());
        header.set_mtime(mtime);
        let added = if kind.is_symlink() {
            let target = std::fs::read_link(&path).map_err(read_error(&path))?;
            header.set_entry_type(tar::EntryType::Symlink);
            header.set_size(0);
            builder.append_link(&mut header, &relative, &target)
        } else if kind.is_dir() {
            header.set_entry_type(tar::EntryType::Directory);
            header.set_size(0);
            builder
                .append_data(&mut header, format!("{relative}/"), io::empty())
                .map_err(read_error(&path))?;
            add_dir(builder, &path, &relative, ignore)?;
            continue;
        } else if kind.is_file() {
            let bytes = std::fs::read(&path).map_err(read_error(&path))?;
            header.set_entry_type(tar::EntryType::Regular);
            header.set_size(bytes.len() as u64);
            builder.append_data(&mut header, &relative, bytes.as_slice())
        } else {
            // Sockets, fifos and devices: the docker CLI sends none either.
            continue;
        };
        added.map_err(read_error(&path))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn entries(tar: &[u8]) -> BTreeMap<String, (tar::EntryType, u32, String)> {
        let mut archive = tar::Archive::new(tar);
        let mut found = BTreeMap::new();
        for entry in archive.entries().unwrap() {
            let mut entry = entry.unwrap();
            let path = entry.path().unwrap().to_string_lossy().into_owned();
            let header = entry.header().clone();
            let mut body = String::new();
            if header.entry_type() == tar::EntryType::Symlink {
                body = entry
                    .link_name()
                    .unwrap()
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
            } else {
                io::Read::read_to_string(&mut entry, &mut body).unwrap();
            }
            found.insert(
                path,
                (header.entry_type(), header.mode().unwrap() & 0o777, body),
            );
        }
        found
    }

    #[test]
    fn the_context_is_sent_less_what_dockerignore_leaves_out() {
        let dir = std::env::temp_dir().join(format!("stevedore-context-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("docs")).unwrap();
        std::fs::create_dir_all(dir.join("cache/deep")).unwrap();
        std::fs::write(dir.join("Dockerfile"), "FROM scratch\n").unwrap();
        std::fs::write(
            dir.join(".dockerignore"),
            "*.secret\ncache\ndocs\n!docs/keep.md\nDockerfile\n.dockerignore\n",
        )
        .unwrap();
        std::fs::write(dir.join("run.sh"), "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(dir.join("run.sh"), std::fs::Permissions::from_mode(0o755))
            .unwrap();
        std::fs::write(dir.join("key.secret"), "no").unwrap();
        std::fs::write(dir.join("cache/deep/blob"), "no").unwrap();
        std::fs::write(dir.join("docs/keep.md"), "yes").unwrap();
        std::fs::write(dir.join("docs/drop.md"), "no").unwrap();
        std::os::unix::fs::symlink("run.sh", dir.join("link")).unwrap();

        let found = entries(&context_tar(&dir, "Dockerfile").unwrap());
        let names: Vec<&str> = found.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            [
                ".dockerignore",
                "Dockerfile",
                "docs/keep.md",
                "link",
                "run.sh"
            ]
        );
        assert_eq!(found["run.sh"].1, 0o755, "the mode is kept");
        assert_eq!(found["link"].0, tar::EntryType::Symlink);
        assert_eq!(found["link"].2, "run.sh", "a link is sent as a link");
        assert_eq!(found["docs/keep.md"].2, "yes");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_context_that_cannot_be_read_names_the_path() {
        let missing = Path::new("/nonexistent/stevedore-context");
        let error = context_tar(missing, "Dockerfile").unwrap_err();
        assert!(
            error.to_string().contains("/nonexistent/stevedore-context"),
            "{error}"
        );
    }
}
