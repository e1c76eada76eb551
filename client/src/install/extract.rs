//! Unpacking a checked content layer into a fresh staging directory.
//!
//! The archive has passed [`govstore_core::tarball::check_tarball`] already; this code
//! does not rely on it alone. It writes only files, directories and symbolic links
//! (hard links become copies of the earlier file), refuses any other entry type,
//! refuses a path with `..`, an absolute path or a path through a symbolic link, and
//! creates every file with `create_new`, which never follows a link at the final
//! component. Link targets are written as they are; the check guaranteed they resolve
//! inside the package. Modes keep only the permission bits `0o755` allows.

use std::fs::{self, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::{OpenOptionsExt, symlink};
use std::path::{Component, Path, PathBuf};

use flate2::read::GzDecoder;
use tar::EntryType;

/// Why unpacking stopped.
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    #[error("entry `{path}`: {reason}")]
    Refused { path: String, reason: &'static str },
    #[error("cannot unpack `{path}`: {source}")]
    Io { path: String, source: io::Error },
}

fn io_at(path: &Path) -> impl FnOnce(io::Error) -> ExtractError + '_ {
    move |source| ExtractError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Unpacks the gzip-compressed tar archive `archive` into `dest`, which must be a new,
/// empty directory. Returns the number of entries written.
pub fn unpack(archive: impl Read, dest: &Path) -> Result<u64, ExtractError> {
    let mut tar = tar::Archive::new(GzDecoder::new(archive));
    let entries = tar.entries().map_err(io_at(dest))?;
    let mut count = 0u64;
    for entry in entries {
        let mut entry = entry.map_err(io_at(dest))?;
        let raw = entry.path().map_err(io_at(dest))?.into_owned();
        let shown = raw.display().to_string();
        let refuse = |reason| ExtractError::Refused {
            path: shown.clone(),
            reason,
        };
        let rel = relative(&raw).ok_or_else(|| refuse("the path leaves the package directory"))?;
        if rel.as_os_str().is_empty() {
            continue; // `./`
        }
        let target = dest.join(&rel);
        no_links_on_the_way(dest, &rel).map_err(|_| refuse("the path goes through a symbolic link"))?;
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent).map_err(io_at(parent))?;
        }
        let mode = entry.header().mode().unwrap_or(0o644) & 0o755;
        match entry.header().entry_type() {
            EntryType::Directory => match fs::create_dir(&target) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && is_real_dir(&target) => {}
                Err(e) => return Err(io_at(&target)(e)),
            },
            EntryType::Regular => {
                let mut file = OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(mode | 0o600)
                    .open(&target)
                    .map_err(io_at(&target))?;
                io::copy(&mut entry, &mut file).map_err(io_at(&target))?;
                file.sync_all().map_err(io_at(&target))?;
            }
            EntryType::Symlink => {
                let link = entry
                    .link_name()
                    .map_err(io_at(&target))?
                    .ok_or_else(|| refuse("the symbolic link has no target"))?
                    .into_owned();
                if link.is_absolute() {
                    return Err(refuse("the symbolic link is absolute"));
                }
                symlink(&link, &target).map_err(io_at(&target))?;
            }
            EntryType::Link => {
                let link = entry
                    .link_name()
                    .map_err(io_at(&target))?
                    .ok_or_else(|| refuse("the hard link has no target"))?
                    .into_owned();
                let from = relative(&link).ok_or_else(|| refuse("the hard link leaves the package directory"))?;
                no_links_on_the_way(dest, &from).map_err(|_| refuse("the hard link goes through a symbolic link"))?;
                let source = dest.join(&from);
                let meta = fs::symlink_metadata(&source).map_err(io_at(&source))?;
                if !meta.file_type().is_file() {
                    return Err(refuse("the hard link does not point to a file"));
                }
                // A copy, not a link: the installed tree holds no hard links to share inodes.
                let mut input = fs::File::open(&source).map_err(io_at(&source))?;
                let mut file = OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(meta_mode(&meta))
                    .open(&target)
                    .map_err(io_at(&target))?;
                io::copy(&mut input, &mut file).map_err(io_at(&target))?;
                file.sync_all().map_err(io_at(&target))?;
            }
            EntryType::XGlobalHeader | EntryType::XHeader | EntryType::GNULongName | EntryType::GNULongLink => continue,
            _ => return Err(refuse("only files, directories and links may be unpacked")),
        }
        count += 1;
    }
    Ok(count)
}

fn meta_mode(meta: &fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o755 | 0o600
}

fn is_real_dir(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_dir())
}

/// The path with `.` components dropped, or `None` if it is absolute or has `..`.
fn relative(path: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::Normal(part) => out.push(part),
            Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(out)
}

/// Fails if a directory on the way from `root` to `root/rel` (not `rel` itself) is a
/// symbolic link or not a directory.
fn no_links_on_the_way(root: &Path, rel: &Path) -> Result<(), ()> {
    let mut cur = root.to_path_buf();
    let parts: Vec<_> = rel.components().collect();
    for part in parts.iter().take(parts.len().saturating_sub(1)) {
        cur.push(part);
        match fs::symlink_metadata(&cur) {
            Ok(m) if m.file_type().is_dir() => {}
            Ok(_) => return Err(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(_) => return Err(()),
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    type Entry<'a> = (&'a str, EntryType, &'a [u8], &'a str);

    fn archive(entries: &[Entry<'_>]) -> Vec<u8> {
        let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let mut tar = tar::Builder::new(gz);
        for (path, kind, data, link) in entries {
            let mut h = tar::Header::new_ustar();
            h.set_size(data.len() as u64);
            h.set_mode(0o4755);
            h.set_entry_type(*kind);
            if !link.is_empty() {
                let l = link.as_bytes();
                h.as_old_mut().linkname[..l.len()].copy_from_slice(l);
            }
            let name = path.as_bytes();
            h.as_old_mut().name[..name.len()].copy_from_slice(name);
            h.set_cksum();
            tar.append(&h, *data).unwrap();
        }
        tar.into_inner().unwrap().finish().unwrap()
    }

    #[test]
    fn files_directories_and_links() {
        let dir = tempfile::tempdir().unwrap();
        let bytes = archive(&[
            ("deploy/", EntryType::Directory, b"", ""),
            ("deploy/values.yaml", EntryType::Regular, b"replicas: 1\n", ""),
            ("deploy/current", EntryType::Symlink, b"", "values.yaml"),
            ("deploy/copy.yaml", EntryType::Link, b"", "deploy/values.yaml"),
            ("docs/a/b.md", EntryType::Regular, b"# b\n", ""),
        ]);
        assert_eq!(unpack(&bytes[..], dir.path()).unwrap(), 5);
        let read = |p: &str| fs::read_to_string(dir.path().join(p)).unwrap();
        assert_eq!(read("deploy/values.yaml"), "replicas: 1\n");
        assert_eq!(read("deploy/copy.yaml"), "replicas: 1\n");
        assert_eq!(read("docs/a/b.md"), "# b\n");
        assert_eq!(
            fs::read_link(dir.path().join("deploy/current")).unwrap(),
            PathBuf::from("values.yaml")
        );
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(dir.path().join("deploy/values.yaml"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o7777, 0o755, "no setuid bit survives");
    }

    #[test]
    fn hostile_entries_are_refused() {
        let cases: [(&str, Vec<Entry<'_>>); 5] = [
            ("dotdot", vec![("../evil", EntryType::Regular, b"x", "")]),
            ("absolute link", vec![("l", EntryType::Symlink, b"", "/etc")]),
            (
                "through a link",
                vec![
                    ("l", EntryType::Symlink, b"", "."),
                    ("l/x", EntryType::Regular, b"x", ""),
                ],
            ),
            ("device", vec![("sda", EntryType::Block, b"", "")]),
            ("fifo", vec![("f", EntryType::Fifo, b"", "")]),
        ];
        for (label, entries) in cases {
            let dir = tempfile::tempdir().unwrap();
            let dest = dir.path().join("pkg");
            fs::create_dir(&dest).unwrap();
            let err = unpack(&archive(&entries)[..], &dest).unwrap_err();
            assert!(matches!(err, ExtractError::Refused { .. }), "{label}: {err}");
            assert!(!dir.path().join("evil").exists());
        }
    }
}
