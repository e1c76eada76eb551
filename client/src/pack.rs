//! Packing a package directory into its content layer, `content.tar.gz`.
//!
//! The output is deterministic: the same files give the same bytes, on any machine.
//!
//! - Entries are the files and symbolic links (no directory entries), sorted by their
//!   `/`-separated path relative to the package directory, byte order.
//! - Every header has mtime 0, uid and gid 0, empty user and group names; a file's mode
//!   is 0755 if any execute bit is set, else 0644; a link's is 0777.
//! - The gzip header carries no file name and mtime 0; the compression level is fixed.
//!
//! What goes in: every file, unless `package.include` is set, in which case only what
//! its patterns match; minus what `package.exclude` matches. Patterns are globs matched
//! against the path relative to the package directory: `*` and `?` stay inside one
//! path component, `**` crosses them, and a pattern that matches a directory covers
//! everything inside it (`include = ["charts"]` equals `include = ["charts/**"]`).
//! `.git` directories are always left out.
//!
//! Refused, naming the path: symbolic links whose target is absolute, dangling, or
//! outside the package directory; sockets, FIFOs and devices; non-UTF-8 names; more
//! files or bytes than the [`TarLimits`] allow. The finished archive is run through
//! [`check_tarball`], the check the registry runs on every upload, before it is
//! returned.

use std::fs::{self, File};
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use flate2::{Compression, GzBuilder};
use globset::{Glob, GlobBuilder, GlobSet, GlobSetBuilder};
use govstore_core::Digest;
use govstore_core::tarball::{TarLimits, TarSummary, TarballError, check_tarball};
use sha2::{Digest as _, Sha256};
use tempfile::NamedTempFile;

/// The content layer's file name, as titled in the OCI manifest.
pub const CONTENT_FILE_NAME: &str = "content.tar.gz";

/// Why a directory could not be packed.
#[derive(Debug, thiserror::Error)]
pub enum PackError {
    #[error("cannot read `{path}`: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("cannot write the packed content: {0}")]
    Write(io::Error),
    #[error("`{path}` is a symbolic link to `{target}`, outside the package directory")]
    SymlinkOutside { path: String, target: String },
    #[error("`{path}` is a symbolic link to `{target}`, which does not exist")]
    SymlinkDangling { path: String, target: String },
    #[error("`{path}` is a {kind}; a package may hold only files, directories and symbolic links")]
    SpecialFile { path: String, kind: &'static str },
    #[error("`{path}` has a name that is not UTF-8")]
    NotUtf8 { path: PathBuf },
    #[error("package.{field} pattern `{pattern}` is not a valid glob: {message}")]
    BadGlob {
        field: &'static str,
        pattern: String,
        message: String,
    },
    #[error("`{path}` is longer than {max} bytes")]
    PathTooLong { path: String, max: usize },
    #[error("the package has more than {max} files")]
    TooManyFiles { max: u64 },
    #[error("the package's files add up to more than {max} bytes (at `{path}`)")]
    TooLarge { path: String, max: u64 },
    #[error("`{path}` changed while it was being packed")]
    Changed { path: String },
    #[error("no files to pack")]
    Empty,
    #[error("the packed content fails the registry's check: {0}")]
    Check(#[from] TarballError),
}

/// One file or link to pack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackEntry {
    /// `/`-separated, relative to the package directory.
    pub path: String,
    pub kind: EntryKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    File { size: u64, executable: bool },
    Symlink { target: String },
}

/// A packed content layer in a temporary file, removed when this is dropped.
#[derive(Debug)]
pub struct Packed {
    file: NamedTempFile,
    pub digest: Digest,
    /// The compressed size.
    pub size: u64,
    pub entries: Vec<PackEntry>,
    pub summary: TarSummary,
}

impl Packed {
    pub fn path(&self) -> &Path {
        self.file.path()
    }

    /// Moves the archive to `to` (on the same file system as the temporary directory).
    pub fn persist(self, to: &Path) -> Result<(), PackError> {
        self.file.persist(to).map(|_| ()).map_err(|e| PackError::Write(e.error))
    }
}

/// The include and exclude patterns, compiled.
#[derive(Debug, Clone)]
pub struct Filter {
    include: Option<GlobSet>,
    exclude: GlobSet,
}

impl Filter {
    pub fn new(include: &[String], exclude: &[String]) -> Result<Self, PackError> {
        let include = if include.is_empty() {
            None
        } else {
            Some(globs("include", include)?)
        };
        Ok(Self {
            include,
            exclude: globs("exclude", exclude)?,
        })
    }

    fn excluded(&self, path: &str) -> bool {
        self.exclude.is_match(path)
    }

    fn included(&self, path: &str) -> bool {
        self.include.as_ref().is_none_or(|set| set.is_match(path))
    }
}

fn globs(field: &'static str, patterns: &[String]) -> Result<GlobSet, PackError> {
    let mut set = GlobSetBuilder::new();
    for p in patterns {
        let glob: Glob = GlobBuilder::new(p.trim_end_matches('/'))
            .literal_separator(true)
            .build()
            .map_err(|e| PackError::BadGlob {
                field,
                pattern: p.clone(),
                message: e.kind().to_string(),
            })?;
        set.add(glob);
    }
    set.build().map_err(|e| PackError::BadGlob {
        field,
        pattern: patterns.join(", "),
        message: e.to_string(),
    })
}

/// Lists what [`pack`] would put in the archive, in archive order.
pub fn list(dir: &Path, filter: &Filter, limits: &TarLimits) -> Result<Vec<PackEntry>, PackError> {
    let root = fs::canonicalize(dir).map_err(|source| PackError::Io {
        path: dir.to_owned(),
        source,
    })?;
    let mut out = Vec::new();
    walk(&root, &root, "", false, filter, &mut out)?;
    out.sort_by(|a, b| a.path.cmp(&b.path));
    if out.is_empty() {
        return Err(PackError::Empty);
    }
    if out.len() as u64 > limits.max_entries {
        return Err(PackError::TooManyFiles {
            max: limits.max_entries,
        });
    }
    let mut total = 0u64;
    for e in &out {
        if e.path.len() > limits.max_path_bytes {
            return Err(PackError::PathTooLong {
                path: e.path.clone(),
                max: limits.max_path_bytes,
            });
        }
        if let EntryKind::File { size, .. } = e.kind {
            total = total.saturating_add(size);
            if total > limits.max_unpacked_bytes {
                return Err(PackError::TooLarge {
                    path: e.path.clone(),
                    max: limits.max_unpacked_bytes,
                });
            }
        }
    }
    Ok(out)
}

fn walk(
    root: &Path,
    dir: &Path,
    rel: &str,
    included_above: bool,
    filter: &Filter,
    out: &mut Vec<PackEntry>,
) -> Result<(), PackError> {
    let io_err = |path: &Path| {
        let path = path.to_owned();
        move |source| PackError::Io { path, source }
    };
    for item in fs::read_dir(dir).map_err(io_err(dir))? {
        let item = item.map_err(io_err(dir))?;
        let full = item.path();
        let name = item.file_name();
        let Some(name) = name.to_str() else {
            return Err(PackError::NotUtf8 { path: full });
        };
        if name == ".git" {
            continue;
        }
        let path = if rel.is_empty() {
            name.to_owned()
        } else {
            format!("{rel}/{name}")
        };
        if filter.excluded(&path) {
            continue;
        }
        let included = included_above || filter.included(&path);
        let meta = fs::symlink_metadata(&full).map_err(io_err(&full))?;
        let ft = meta.file_type();
        if ft.is_dir() {
            walk(root, &full, &path, included, filter, out)?;
            continue;
        }
        if !included {
            continue;
        }
        if ft.is_symlink() {
            let target = symlink_target(root, &full, &path)?;
            out.push(PackEntry {
                path,
                kind: EntryKind::Symlink { target },
            });
        } else if ft.is_file() {
            out.push(PackEntry {
                path,
                kind: EntryKind::File {
                    size: meta.len(),
                    executable: is_executable(&meta),
                },
            });
        } else {
            return Err(PackError::SpecialFile {
                path,
                kind: special_kind(&ft),
            });
        }
    }
    Ok(())
}

/// The link's target, if it stays inside the package directory.
fn symlink_target(root: &Path, full: &Path, path: &str) -> Result<String, PackError> {
    let raw = fs::read_link(full).map_err(|source| PackError::Io {
        path: full.to_owned(),
        source,
    })?;
    let Some(target) = raw.to_str().map(str::to_owned) else {
        return Err(PackError::NotUtf8 { path: full.to_owned() });
    };
    let outside = || PackError::SymlinkOutside {
        path: path.to_owned(),
        target: target.clone(),
    };
    if raw.is_absolute() {
        return Err(outside());
    }
    match fs::canonicalize(full) {
        Ok(resolved) if resolved.starts_with(root) => {}
        Ok(_) => return Err(outside()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(PackError::SymlinkDangling {
                path: path.to_owned(),
                target,
            });
        }
        Err(source) => {
            return Err(PackError::Io {
                path: full.to_owned(),
                source,
            });
        }
    }
    // The file system says the link stays inside; the archive must say so too, even
    // where the resolution went through a link outside what is packed.
    let depth = path.matches('/').count() as i64;
    let mut level = depth;
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => level -= 1,
            _ => level += 1,
        }
        if level < 0 {
            return Err(outside());
        }
    }
    Ok(target)
}

#[cfg(unix)]
fn is_executable(meta: &fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn is_executable(_: &fs::Metadata) -> bool {
    false
}

#[cfg(unix)]
fn special_kind(ft: &fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if ft.is_fifo() {
        "FIFO"
    } else if ft.is_socket() {
        "socket"
    } else if ft.is_block_device() {
        "block device"
    } else if ft.is_char_device() {
        "character device"
    } else {
        "special file"
    }
}

#[cfg(not(unix))]
fn special_kind(_: &fs::FileType) -> &'static str {
    "special file"
}

/// Packs `dir` into a temporary file in `temp_dir` (the system's if `None`).
pub fn pack(dir: &Path, filter: &Filter, limits: &TarLimits, temp_dir: Option<&Path>) -> Result<Packed, PackError> {
    let entries = list(dir, filter, limits)?;
    let root = fs::canonicalize(dir).map_err(|source| PackError::Io {
        path: dir.to_owned(),
        source,
    })?;
    let temp = match temp_dir {
        Some(d) => NamedTempFile::new_in(d),
        None => NamedTempFile::new(),
    }
    .map_err(PackError::Write)?;
    let file = temp.as_file().try_clone().map_err(PackError::Write)?;

    let hashing = HashingWriter {
        inner: BufWriter::new(file),
        hasher: Sha256::new(),
        written: 0,
    };
    let gz = GzBuilder::new().mtime(0).write(hashing, Compression::new(6));
    let mut tar = tar::Builder::new(gz);
    for entry in &entries {
        append(&mut tar, &root, entry)?;
    }
    let gz = tar.into_inner().map_err(PackError::Write)?;
    let mut hashing = gz.finish().map_err(PackError::Write)?;
    hashing.inner.flush().map_err(PackError::Write)?;
    let file = hashing
        .inner
        .into_inner()
        .map_err(|e| PackError::Write(e.into_error()))?;
    file.sync_all().map_err(PackError::Write)?;
    let digest = Digest::from_sha256(hashing.hasher.finalize().into());
    let size = hashing.written;

    let reread = File::open(temp.path()).map_err(PackError::Write)?;
    let summary = check_tarball(io::BufReader::new(reread), limits)?;
    Ok(Packed {
        file: temp,
        digest,
        size,
        entries,
        summary,
    })
}

fn append<W: Write>(tar: &mut tar::Builder<W>, root: &Path, entry: &PackEntry) -> Result<(), PackError> {
    let mut header = tar::Header::new_gnu();
    header.set_mtime(0);
    header.set_uid(0);
    header.set_gid(0);
    match &entry.kind {
        EntryKind::File { size, executable } => {
            let full = root.join(&entry.path);
            let file = File::open(&full).map_err(|source| PackError::Io {
                path: full.clone(),
                source,
            })?;
            let meta = file.metadata().map_err(|source| PackError::Io {
                path: full.clone(),
                source,
            })?;
            if !meta.is_file() || meta.len() != *size {
                return Err(PackError::Changed {
                    path: entry.path.clone(),
                });
            }
            header.set_entry_type(tar::EntryType::Regular);
            header.set_mode(if *executable { 0o755 } else { 0o644 });
            header.set_size(*size);
            let mut reader = Exact {
                inner: file.take(*size),
                left: *size,
            };
            tar.append_data(&mut header, &entry.path, &mut reader).map_err(|e| {
                if e.kind() == io::ErrorKind::UnexpectedEof {
                    PackError::Changed {
                        path: entry.path.clone(),
                    }
                } else {
                    PackError::Io {
                        path: full.clone(),
                        source: e,
                    }
                }
            })?;
        }
        EntryKind::Symlink { target } => {
            header.set_entry_type(tar::EntryType::Symlink);
            header.set_mode(0o777);
            header.set_size(0);
            tar.append_link(&mut header, &entry.path, target)
                .map_err(PackError::Write)?;
        }
    }
    Ok(())
}

/// Yields exactly `left` bytes or fails: a file that shrank while being read would
/// otherwise leave a corrupt archive.
struct Exact<R> {
    inner: R,
    left: u64,
}

impl<R: Read> Read for Exact<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            return Ok(0);
        }
        let n = self.inner.read(buf)?;
        if n == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "file shrank"));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// Hashes and counts what passes through.
struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    written: u64,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// The SHA-256 digest and size of a file, read as a stream.
pub fn digest_file(path: &Path) -> Result<(Digest, u64), PackError> {
    let mut file = File::open(path).map_err(|source| PackError::Io {
        path: path.to_owned(),
        source,
    })?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut size = 0u64;
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(source) => {
                return Err(PackError::Io {
                    path: path.to_owned(),
                    source,
                });
            }
        };
        hasher.update(&buf[..n]);
        size += n as u64;
    }
    Ok((Digest::from_sha256(hasher.finalize().into()), size))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::os::unix::fs::{PermissionsExt, symlink};

    fn write(dir: &Path, rel: &str, data: &str) {
        let p = dir.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, data).unwrap();
    }

    fn sample() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        write(d.path(), "govstore.toml", "[package]\n");
        write(d.path(), "README.md", "# hello\n");
        write(d.path(), "charts/app/values.yaml", "replicas: 1\n");
        write(d.path(), "charts/app/test/smoke.yaml", "test\n");
        write(d.path(), "bin/run.sh", "#!/bin/sh\necho hi\n");
        fs::set_permissions(d.path().join("bin/run.sh"), fs::Permissions::from_mode(0o750)).unwrap();
        write(d.path(), ".git/HEAD", "ref: refs/heads/main\n");
        write(d.path(), "sub/.git", "gitdir: ../.git/modules/sub\n");
        symlink("../README.md", d.path().join("charts/readme")).unwrap();
        d
    }

    fn none() -> Filter {
        Filter::new(&[], &[]).unwrap()
    }

    fn paths(entries: &[PackEntry]) -> Vec<&str> {
        entries.iter().map(|e| e.path.as_str()).collect()
    }

    #[test]
    fn same_directory_gives_identical_bytes() {
        let d = sample();
        let a = pack(d.path(), &none(), &TarLimits::default(), None).unwrap();
        // Touch everything: new mtimes must not change the output.
        let later = std::time::SystemTime::now() + std::time::Duration::from_secs(3600);
        for e in &a.entries {
            if let EntryKind::File { .. } = e.kind {
                File::options()
                    .write(true)
                    .open(d.path().join(&e.path))
                    .unwrap()
                    .set_modified(later)
                    .unwrap();
            }
        }
        let b = pack(d.path(), &none(), &TarLimits::default(), None).unwrap();
        assert_eq!(fs::read(a.path()).unwrap(), fs::read(b.path()).unwrap());
        assert_eq!((a.digest.clone(), a.size), (b.digest.clone(), b.size));
        assert_eq!(Digest::of(&fs::read(a.path()).unwrap()), a.digest);
        assert_eq!(a.size, fs::metadata(a.path()).unwrap().len());
        // A copy of the directory elsewhere packs the same.
        let copy = tempfile::tempdir().unwrap();
        for e in &a.entries {
            match &e.kind {
                EntryKind::File { .. } => write(
                    copy.path(),
                    &e.path,
                    &fs::read_to_string(d.path().join(&e.path)).unwrap(),
                ),
                EntryKind::Symlink { target } => symlink(target, copy.path().join(&e.path)).unwrap(),
            }
        }
        fs::set_permissions(copy.path().join("bin/run.sh"), fs::Permissions::from_mode(0o700)).unwrap();
        let c = pack(copy.path(), &none(), &TarLimits::default(), None).unwrap();
        assert_eq!(c.digest, a.digest);
    }

    #[test]
    fn archive_is_sorted_normalised_and_passes_the_check() {
        let d = sample();
        let p = pack(d.path(), &none(), &TarLimits::default(), None).unwrap();
        assert_eq!(
            paths(&p.entries),
            [
                "README.md",
                "bin/run.sh",
                "charts/app/test/smoke.yaml",
                "charts/app/values.yaml",
                "charts/readme",
                "govstore.toml"
            ]
        );
        assert_eq!((p.summary.files, p.summary.symlinks), (5, 1));
        let gz = flate2::read::GzDecoder::new(File::open(p.path()).unwrap());
        assert_eq!(
            gz.header().map(|h| (h.filename().is_none(), h.mtime())),
            Some((true, 0))
        );
        let mut archive = tar::Archive::new(gz);
        for entry in archive.entries().unwrap() {
            let entry = entry.unwrap();
            let h = entry.header();
            assert_eq!((h.mtime().unwrap(), h.uid().unwrap(), h.gid().unwrap()), (0, 0, 0));
            assert_eq!(h.username_bytes(), Some(&b""[..]));
            assert_eq!(h.groupname_bytes(), Some(&b""[..]));
            let path = entry.path().unwrap().to_string_lossy().into_owned();
            let want = match path.as_str() {
                "bin/run.sh" => 0o755,
                "charts/readme" => 0o777,
                _ => 0o644,
            };
            assert_eq!(h.mode().unwrap(), want, "{path}");
        }
    }

    #[test]
    fn include_and_exclude_globs() {
        let d = sample();
        let f = Filter::new(&["charts/**".into(), "README.md".into()], &["charts/**/test/**".into()]).unwrap();
        let l = list(d.path(), &f, &TarLimits::default()).unwrap();
        assert_eq!(paths(&l), ["README.md", "charts/app/values.yaml", "charts/readme"]);
        // A directory pattern covers what is inside it; `*` stays in one component.
        let f = Filter::new(&["charts".into(), "*.md".into()], &["charts/app/test".into()]).unwrap();
        let l = list(d.path(), &f, &TarLimits::default()).unwrap();
        assert_eq!(paths(&l), ["README.md", "charts/app/values.yaml", "charts/readme"]);
        let f = Filter::new(&[], &["*.sh".into(), "charts".into()]).unwrap();
        let l = list(d.path(), &f, &TarLimits::default()).unwrap();
        assert_eq!(
            paths(&l),
            ["README.md", "bin/run.sh", "govstore.toml"],
            "`*.sh` matches at the top only"
        );
        let f = Filter::new(&["nothing/**".into()], &[]).unwrap();
        assert!(matches!(
            list(d.path(), &f, &TarLimits::default()),
            Err(PackError::Empty)
        ));
        let bad = Filter::new(&["charts/[".into()], &[]).unwrap_err();
        assert!(
            bad.to_string()
                .starts_with("package.include pattern `charts/[` is not a valid glob"),
            "{bad}"
        );
    }

    #[test]
    fn git_directories_are_always_left_out() {
        let d = sample();
        let f = Filter::new(&["**".into()], &[]).unwrap();
        let l = list(d.path(), &f, &TarLimits::default()).unwrap();
        assert!(
            l.iter().all(|e| !e.path.split('/').any(|c| c == ".git")),
            "{:?}",
            paths(&l)
        );
    }

    #[test]
    fn refuses_symlinks_out_of_the_tree() {
        let d = sample();
        symlink("/etc/passwd", d.path().join("charts/passwd")).unwrap();
        let err = pack(d.path(), &none(), &TarLimits::default(), None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "`charts/passwd` is a symbolic link to `/etc/passwd`, outside the package directory"
        );

        let d = sample();
        let outside = tempfile::tempdir().unwrap();
        symlink(outside.path(), d.path().join("escape")).unwrap();
        let err = pack(d.path(), &none(), &TarLimits::default(), None).unwrap_err();
        assert!(
            matches!(err, PackError::SymlinkOutside { ref path, .. } if path == "escape"),
            "{err}"
        );

        let d = sample();
        symlink("../../../../../../../../../../etc", d.path().join("charts/app/up")).unwrap();
        let err = pack(d.path(), &none(), &TarLimits::default(), None).unwrap_err();
        assert!(
            matches!(err, PackError::SymlinkOutside { ref path, .. } if path == "charts/app/up"),
            "{err}"
        );

        let d = sample();
        symlink("missing.txt", d.path().join("dangling")).unwrap();
        let err = pack(d.path(), &none(), &TarLimits::default(), None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "`dangling` is a symbolic link to `missing.txt`, which does not exist"
        );

        // An excluded link is not looked at.
        let f = Filter::new(&[], &["dangling".into()]).unwrap();
        assert!(pack(d.path(), &f, &TarLimits::default(), None).is_ok());
    }

    #[test]
    fn refuses_fifos_and_sockets() {
        let d = sample();
        let fifo = d.path().join("charts/pipe");
        let status = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
        assert!(status.success());
        let err = pack(d.path(), &none(), &TarLimits::default(), None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "`charts/pipe` is a FIFO; a package may hold only files, directories and symbolic links"
        );
        fs::remove_file(&fifo).unwrap();

        let _socket = std::os::unix::net::UnixListener::bind(d.path().join("agent.sock")).unwrap();
        let err = pack(d.path(), &none(), &TarLimits::default(), None).unwrap_err();
        assert!(matches!(err, PackError::SpecialFile { kind: "socket", .. }), "{err}");
    }

    #[test]
    fn refuses_device_files() {
        // Making a device node needs root, which this machine and CI have; elsewhere
        // only the name the walker gives a device's kind is checked.
        let d = sample();
        let node = d.path().join("null");
        let made = std::process::Command::new("mknod")
            .arg(&node)
            .args(["c", "1", "3"])
            .status()
            .is_ok_and(|s| s.success());
        if made {
            let err = pack(d.path(), &none(), &TarLimits::default(), None).unwrap_err();
            assert_eq!(
                err.to_string(),
                "`null` is a character device; a package may hold only files, directories and symbolic links"
            );
        } else {
            let meta = fs::symlink_metadata("/dev/null").unwrap();
            assert_eq!(special_kind(&meta.file_type()), "character device");
        }
    }

    #[test]
    fn limits_name_the_file() {
        let d = sample();
        let small = TarLimits {
            max_unpacked_bytes: 20,
            ..TarLimits::default()
        };
        let err = list(d.path(), &none(), &small).unwrap_err();
        assert!(
            matches!(err, PackError::TooLarge { ref path, max: 20 } if path == "bin/run.sh"),
            "{err}"
        );
        let few = TarLimits {
            max_entries: 2,
            ..TarLimits::default()
        };
        assert!(matches!(
            list(d.path(), &none(), &few),
            Err(PackError::TooManyFiles { max: 2 })
        ));
    }

    #[test]
    fn long_paths_pack_and_check() {
        let d = sample();
        let long = format!("{}/{}.txt", "deep".repeat(30), "n".repeat(120));
        write(d.path(), &long, "x");
        let p = pack(d.path(), &none(), &TarLimits::default(), None).unwrap();
        assert!(p.entries.iter().any(|e| e.path == long));
    }
}
