//! The safety check of a package's content layer: a gzip-compressed tar archive.
//!
//! [`check_tarball`] reads the archive once, as a stream, and refuses anything that
//! could hurt whoever unpacks it or that unpacks differently in different tools:
//!
//! - paths that are absolute, contain `..`, a backslash or control characters, are not
//!   UTF-8, are too long, or appear twice (after dropping `.` and empty components);
//! - entries whose path goes through a file or a symbolic link of the archive;
//! - symbolic links whose target, resolved inside the archive (following the archive's
//!   other links), leaves the tree; hard links to anything but an earlier file;
//! - devices, FIFOs, sparse files, contiguous files, PAX global headers, old (v7)
//!   headers, setuid and setgid modes, data on directories and links;
//! - more than [`TarLimits::max_entries`] entries, or files adding up to more than
//!   [`TarLimits::max_unpacked_bytes`] (the limit is checked against each header
//!   before its data is read, so a small upload cannot make the check itself read a
//!   huge stream);
//! - anything but zero padding after the end of the archive, a missing end-of-archive
//!   marker, a gzip stream that does not check out, and bytes after the gzip stream.
//!
//! GNU long names and PAX `path`/`linkpath` records are applied as every tar tool
//! applies them; their size is capped at [`MAX_EXTENSION_BYTES`], and a PAX `size`
//! that disagrees with its header is refused, because tools that read the two
//! differently would see different files.
//!
//! The reader is the only IO: the function takes any `impl Read`.

use std::cell::Cell;
use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;
use std::io::{self, BufRead, BufReader, Read};
use std::rc::Rc;

use flate2::bufread::GzDecoder;

use crate::digest::truncate;

/// The largest GNU long-name, long-link or PAX extension record accepted, in bytes.
pub const MAX_EXTENSION_BYTES: u64 = 64 * 1024;

/// The most zero padding accepted after the end-of-archive marker, in bytes.
/// GNU tar pads to its 10 KiB record size.
pub const MAX_TRAILING_PADDING: u64 = 1024 * 1024;

/// How many symbolic links one resolution may follow, as in Linux.
const MAX_LINK_HOPS: usize = 40;

/// The limits of one content layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TarLimits {
    /// Entries (files, directories and links) in the archive.
    pub max_entries: u64,
    /// The sum of the sizes of the archive's files: what it unpacks to.
    pub max_unpacked_bytes: u64,
    /// The length of one path or link target, in bytes.
    pub max_path_bytes: usize,
}

impl Default for TarLimits {
    fn default() -> Self {
        Self {
            max_entries: 100_000,
            max_unpacked_bytes: 4 * 1024 * 1024 * 1024,
            max_path_bytes: 1024,
        }
    }
}

/// What a checked archive holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TarSummary {
    /// Files, directories and links (extension headers not counted).
    pub entries: u64,
    pub files: u64,
    pub directories: u64,
    pub symlinks: u64,
    pub hard_links: u64,
    /// The sum of the files' sizes.
    pub unpacked_bytes: u64,
    /// The size of the decompressed tar stream, headers and padding included.
    pub tar_bytes: u64,
}

/// Why a content archive was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TarballError {
    #[error("the content is not a valid gzip stream: {0}")]
    Gzip(String),
    #[error("the content is not a valid tar archive{}: {message}", after_entry(.after))]
    Malformed {
        message: String,
        /// The last entry read before the problem, if any.
        after: Option<String>,
    },
    #[error("cannot read the content: {0}")]
    Read(String),
    #[error("entry `{path}`: {problem}")]
    Entry { path: String, problem: EntryProblem },
    #[error("the content has more than {max} entries")]
    TooManyEntries { max: u64 },
    #[error("entry `{path}` takes the content over its limit of {max} unpacked bytes")]
    TooLarge { path: String, max: u64 },
    #[error("the content has data after the end of the tar archive")]
    TrailingData,
    #[error("the tar archive has no end-of-archive marker; it may be truncated")]
    Truncated,
}

fn after_entry(after: &Option<String>) -> String {
    after
        .as_ref()
        .map(|p| format!(" after entry `{p}`"))
        .unwrap_or_default()
}

/// What is wrong with one entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryProblem {
    Absolute,
    ParentDir,
    Backslash,
    ControlCharacter,
    NotUtf8,
    EmptyPath,
    PathTooLong {
        max: usize,
    },
    Duplicate,
    /// The path goes through `parent`, which is a file or a link in the archive.
    InsideNonDirectory {
        parent: String,
    },
    /// The entry is a file or a link, but other entries are inside it.
    HasChildren,
    SymlinkEmpty,
    SymlinkAbsolute {
        target: String,
    },
    SymlinkEscapes {
        target: String,
    },
    SymlinkLoop {
        target: String,
    },
    LinkTargetNotUtf8,
    HardLinkTarget {
        target: String,
        reason: &'static str,
    },
    Device(&'static str),
    Fifo,
    Sparse,
    UnsupportedType(u8),
    PaxGlobalHeader,
    OldHeader,
    SetId {
        mode: u32,
    },
    DataOnNonFile {
        size: u64,
    },
    PaxSizeMismatch {
        pax: u64,
        header: u64,
    },
    BadExtension(String),
}

impl fmt::Display for EntryProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Absolute => f.write_str("absolute paths are not allowed"),
            Self::ParentDir => f.write_str("`..` would leave the package directory"),
            Self::Backslash => f.write_str("backslashes are not allowed in paths"),
            Self::ControlCharacter => f.write_str("the path contains control characters"),
            Self::NotUtf8 => f.write_str("the path is not UTF-8"),
            Self::EmptyPath => f.write_str("the path is empty"),
            Self::PathTooLong { max } => write!(f, "the path is longer than {max} bytes"),
            Self::Duplicate => f.write_str("the path appears twice in the archive"),
            Self::InsideNonDirectory { parent } => {
                write!(f, "the path goes through `{parent}`, which is not a directory")
            }
            Self::HasChildren => f.write_str("it is not a directory, but other entries are inside it"),
            Self::SymlinkEmpty => f.write_str("the symbolic link has an empty target"),
            Self::SymlinkAbsolute { target } => {
                write!(f, "the symbolic link points to the absolute path `{target}`")
            }
            Self::SymlinkEscapes { target } => write!(
                f,
                "the symbolic link points to `{target}`, which leaves the package directory"
            ),
            Self::SymlinkLoop { target } => write!(
                f,
                "the symbolic link to `{target}` goes through more than {MAX_LINK_HOPS} links"
            ),
            Self::LinkTargetNotUtf8 => f.write_str("the link target is not UTF-8"),
            Self::HardLinkTarget { target, reason } => {
                write!(f, "the hard link to `{target}` is not allowed: {reason}")
            }
            Self::Device(kind) => write!(f, "{kind} devices are not allowed"),
            Self::Fifo => f.write_str("FIFOs are not allowed"),
            Self::Sparse => f.write_str("sparse files are not allowed"),
            Self::UnsupportedType(b) => write!(
                f,
                "entry type {} is not allowed; use files, directories and links",
                shown_type(*b)
            ),
            Self::PaxGlobalHeader => f.write_str("PAX global headers are not allowed"),
            Self::OldHeader => f.write_str("old (v7) tar headers are not allowed; use ustar, PAX or GNU"),
            Self::SetId { mode } => write!(f, "mode {mode:o} sets the setuid or setgid bit"),
            Self::DataOnNonFile { size } => {
                write!(f, "only files may carry data, but this entry has {size} bytes")
            }
            Self::PaxSizeMismatch { pax, header } => {
                write!(f, "its PAX size ({pax}) disagrees with its header size ({header})")
            }
            Self::BadExtension(why) => write!(f, "bad extension header: {why}"),
        }
    }
}

fn shown_type(b: u8) -> String {
    if b.is_ascii_graphic() {
        format!("`{}`", b as char)
    } else {
        format!("{b:#04x}")
    }
}

/// A path or target for an error message: lossy UTF-8, control characters escaped,
/// shortened.
fn shown(bytes: &[u8]) -> String {
    let lossy = String::from_utf8_lossy(bytes);
    truncate(&lossy.escape_debug().to_string())
}

/// Checks a gzip-compressed tar archive and summarises it.
pub fn check_tarball<R: Read>(reader: R, limits: &TarLimits) -> Result<TarSummary, TarballError> {
    let counted = Rc::new(Cell::new(0u64));
    let source = BufReader::new(Source(reader));
    let stream = Decoded {
        inner: GzDecoder::new(source),
        count: Rc::clone(&counted),
    };
    let mut archive = tar::Archive::new(stream);
    let mut walk = Walk::new(limits);

    {
        let entries = archive.entries().map_err(|e| classify(e, None))?;
        let mut pending = Pending::default();
        for entry in entries.raw(true) {
            let mut entry = entry.map_err(|e| classify(e, walk.last.clone()))?;
            walk.raw_entry(&mut entry, &mut pending)?;
        }
        if pending.any() {
            return Err(TarballError::Malformed {
                message: "extension headers at the end describe no entry".into(),
                after: walk.last.clone(),
            });
        }
    }
    walk.resolve_symlinks()?;

    // After the end-of-archive block the tar reader stopped at: the second zero block,
    // then only zero padding, then the end of the gzip stream, then nothing.
    let mut stream = archive.into_inner();
    let padding = drain_zeros(&mut stream)?;
    if padding < 512 {
        return Err(TarballError::Truncated);
    }
    let mut source = stream.inner.into_inner();
    match source.fill_buf() {
        Ok([]) => {}
        Ok(_) => return Err(TarballError::TrailingData),
        Err(e) => return Err(classify(e, None)),
    }

    let mut summary = walk.summary;
    summary.tar_bytes = counted.get();
    Ok(summary)
}

/// Reads `stream` to its end; every byte must be zero and there may be at most
/// [`MAX_TRAILING_PADDING`] of them.
fn drain_zeros<R: Read>(stream: &mut R) -> Result<u64, TarballError> {
    let mut buf = [0u8; 8192];
    let mut total = 0u64;
    loop {
        let n = match stream.read(&mut buf) {
            Ok(0) => return Ok(total),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(classify(e, None)),
        };
        total += n as u64;
        if total > MAX_TRAILING_PADDING || buf[..n].iter().any(|b| *b != 0) {
            return Err(TarballError::TrailingData);
        }
    }
}

/// Marks errors of the underlying reader, so that they are not mistaken for gzip or tar
/// problems.
#[derive(Debug)]
struct SourceFault(String);

impl fmt::Display for SourceFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SourceFault {}

/// Marks errors of the gzip decoder.
#[derive(Debug)]
struct GzipFault(String);

impl fmt::Display for GzipFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for GzipFault {}

struct Source<R>(R);

impl<R: Read> Read for Source<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0
            .read(buf)
            .map_err(|e| io::Error::new(e.kind(), SourceFault(e.to_string())))
    }
}

/// The decompressed stream: counts its bytes and marks gzip errors.
struct Decoded<R: BufRead> {
    inner: GzDecoder<R>,
    count: Rc<Cell<u64>>,
}

impl<R: BufRead> Read for Decoded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.inner.read(buf) {
            Ok(n) => {
                self.count.set(self.count.get() + n as u64);
                Ok(n)
            }
            Err(e) if is_source_fault(&e) => Err(e),
            Err(e) => Err(io::Error::new(e.kind(), GzipFault(e.to_string()))),
        }
    }
}

fn is_source_fault(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|inner| inner.is::<SourceFault>())
}

fn classify(e: io::Error, after: Option<String>) -> TarballError {
    if let Some(inner) = e.get_ref() {
        if let Some(SourceFault(m)) = inner.downcast_ref::<SourceFault>() {
            return TarballError::Read(m.clone());
        }
        if let Some(GzipFault(m)) = inner.downcast_ref::<GzipFault>() {
            return TarballError::Gzip(m.clone());
        }
    }
    let message = if e.kind() == io::ErrorKind::UnexpectedEof {
        "it ends in the middle of an entry".to_owned()
    } else {
        e.to_string()
    };
    TarballError::Malformed { message, after }
}

/// Extension records waiting for the entry they describe.
#[derive(Default)]
struct Pending {
    long_name: Option<Vec<u8>>,
    long_link: Option<Vec<u8>>,
    pax_path: Option<Vec<u8>>,
    pax_link: Option<Vec<u8>>,
    pax_size: Option<u64>,
    pax: bool,
}

impl Pending {
    fn any(&self) -> bool {
        self.long_name.is_some() || self.long_link.is_some() || self.pax
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    File,
    Dir,
    Symlink(String),
    HardLink,
}

impl Kind {
    fn is_dir(&self) -> bool {
        matches!(self, Kind::Dir)
    }
}

struct Walk<'l> {
    limits: &'l TarLimits,
    summary: TarSummary,
    kinds: HashMap<String, Kind>,
    /// Every proper prefix of every entry's path.
    ancestors: HashSet<String>,
    /// Symbolic links in archive order.
    symlinks: Vec<String>,
    /// The path of the last entry read, for messages.
    last: Option<String>,
}

impl<'l> Walk<'l> {
    fn new(limits: &'l TarLimits) -> Self {
        Self {
            limits,
            summary: TarSummary::default(),
            kinds: HashMap::new(),
            ancestors: HashSet::new(),
            symlinks: Vec::new(),
            last: None,
        }
    }

    fn raw_entry<R: Read>(&mut self, entry: &mut tar::Entry<'_, R>, pending: &mut Pending) -> Result<(), TarballError> {
        let header = entry.header();
        let ty = header.entry_type();
        let header_path = header.path_bytes().into_owned();
        let fail_here = |problem| TarballError::Entry {
            path: shown(&header_path),
            problem,
        };
        if header.as_ustar().is_none() && header.as_gnu().is_none() {
            return Err(fail_here(EntryProblem::OldHeader));
        }
        let size = header.entry_size().map_err(|e| classify(e, self.last.clone()))?;

        // Extension headers: read (bounded), remember, and go on to the entry they describe.
        if ty.is_gnu_longname() || ty.is_gnu_longlink() || ty.is_pax_local_extensions() {
            if size > MAX_EXTENSION_BYTES {
                return Err(fail_here(EntryProblem::BadExtension(format!(
                    "{size} bytes, more than the {MAX_EXTENSION_BYTES} allowed"
                ))));
            }
            let mut data = Vec::new();
            entry
                .read_to_end(&mut data)
                .map_err(|e| classify(e, self.last.clone()))?;
            let twice = || {
                fail_here(EntryProblem::BadExtension(
                    "two of the same kind describe one entry".into(),
                ))
            };
            if ty.is_gnu_longname() || ty.is_gnu_longlink() {
                while data.last() == Some(&0) {
                    data.pop();
                }
                let slot = if ty.is_gnu_longname() {
                    &mut pending.long_name
                } else {
                    &mut pending.long_link
                };
                if slot.replace(data).is_some() {
                    return Err(twice());
                }
            } else {
                if pending.pax {
                    return Err(twice());
                }
                pending.pax = true;
                self.pax_records(&data, pending)
                    .map_err(|why| fail_here(EntryProblem::BadExtension(why)))?;
            }
            return Ok(());
        }

        let pending = std::mem::take(pending);
        let path_bytes = pending.pax_path.or(pending.long_name).unwrap_or(header_path);
        let link_bytes = pending
            .pax_link
            .or(pending.long_link)
            .or_else(|| header.link_name_bytes().map(|l| l.into_owned()));
        let fail = |problem| TarballError::Entry {
            path: shown(&path_bytes),
            problem,
        };

        self.summary.entries += 1;
        if self.summary.entries > self.limits.max_entries {
            return Err(TarballError::TooManyEntries {
                max: self.limits.max_entries,
            });
        }
        if let Some(pax) = pending.pax_size
            && pax != size
        {
            return Err(fail(EntryProblem::PaxSizeMismatch { pax, header: size }));
        }

        let kind_byte = ty.as_byte();
        let kind = if ty.is_file() {
            Kind::File
        } else if ty.is_dir() {
            Kind::Dir
        } else if ty.is_symlink() {
            Kind::Symlink(String::new())
        } else if ty.is_hard_link() {
            Kind::HardLink
        } else if ty.is_character_special() {
            return Err(fail(EntryProblem::Device("character")));
        } else if ty.is_block_special() {
            return Err(fail(EntryProblem::Device("block")));
        } else if ty.is_fifo() {
            return Err(fail(EntryProblem::Fifo));
        } else if ty.is_gnu_sparse() {
            return Err(fail(EntryProblem::Sparse));
        } else if ty.is_pax_global_extensions() {
            return Err(fail(EntryProblem::PaxGlobalHeader));
        } else {
            return Err(fail(EntryProblem::UnsupportedType(kind_byte)));
        };

        let Ok(path_str) = std::str::from_utf8(&path_bytes) else {
            return Err(fail(EntryProblem::NotUtf8));
        };
        let path = match normalize(path_str, self.limits.max_path_bytes) {
            Ok(Some(p)) => p,
            // `./`: only the root directory itself may be written so.
            Ok(None) if kind == Kind::Dir => {
                self.summary.directories += 1;
                return Ok(());
            }
            Ok(None) => return Err(fail(EntryProblem::EmptyPath)),
            Err(problem) => return Err(fail(problem)),
        };
        let fail = |problem| TarballError::Entry {
            path: truncate(&path),
            problem,
        };

        let mode = header.mode().map_err(|e| classify(e, self.last.clone()))?;
        if mode & 0o6000 != 0 {
            return Err(fail(EntryProblem::SetId { mode }));
        }
        if kind == Kind::File {
            let total = self.summary.unpacked_bytes.saturating_add(size);
            if total > self.limits.max_unpacked_bytes {
                return Err(TarballError::TooLarge {
                    path: truncate(&path),
                    max: self.limits.max_unpacked_bytes,
                });
            }
            self.summary.unpacked_bytes = total;
        } else if size != 0 {
            return Err(fail(EntryProblem::DataOnNonFile { size }));
        }

        // Where the entry sits in the tree.
        if self.kinds.contains_key(&path) {
            return Err(fail(EntryProblem::Duplicate));
        }
        for (i, _) in path.match_indices('/') {
            let parent = &path[..i];
            if self.kinds.get(parent).is_some_and(|k| !k.is_dir()) {
                return Err(fail(EntryProblem::InsideNonDirectory {
                    parent: truncate(parent),
                }));
            }
            self.ancestors.insert(parent.to_owned());
        }
        if !kind.is_dir() && self.ancestors.contains(&path) {
            return Err(fail(EntryProblem::HasChildren));
        }

        let kind = match kind {
            Kind::Symlink(_) => {
                let target = link_target(link_bytes.as_deref(), self.limits.max_path_bytes).map_err(fail)?;
                if target.starts_with('/') {
                    return Err(fail(EntryProblem::SymlinkAbsolute {
                        target: truncate(&target),
                    }));
                }
                self.symlinks.push(path.clone());
                self.summary.symlinks += 1;
                Kind::Symlink(target)
            }
            Kind::HardLink => {
                let raw = link_target(link_bytes.as_deref(), self.limits.max_path_bytes).map_err(fail)?;
                let bad = |reason| EntryProblem::HardLinkTarget {
                    target: truncate(&raw),
                    reason,
                };
                let target = match normalize(&raw, self.limits.max_path_bytes) {
                    Ok(Some(t)) => t,
                    Ok(None) => return Err(fail(bad("the target is empty"))),
                    Err(EntryProblem::ParentDir | EntryProblem::Absolute) => {
                        return Err(fail(bad("it leaves the package directory")));
                    }
                    Err(_) => return Err(fail(bad("the target is not a valid path"))),
                };
                match self.kinds.get(&target) {
                    Some(Kind::File | Kind::HardLink) => {}
                    Some(_) => return Err(fail(bad("the target is not a file"))),
                    None => {
                        return Err(fail(bad("the target is not an earlier entry of the archive")));
                    }
                }
                self.summary.hard_links += 1;
                Kind::HardLink
            }
            Kind::File => {
                self.summary.files += 1;
                Kind::File
            }
            Kind::Dir => {
                self.summary.directories += 1;
                Kind::Dir
            }
        };
        self.kinds.insert(path.clone(), kind);
        self.last = Some(truncate(&path));
        Ok(())
    }

    /// Reads a PAX extended header's records into `pending`.
    fn pax_records(&self, data: &[u8], pending: &mut Pending) -> Result<(), String> {
        for record in tar::PaxExtensions::new(data) {
            let record = record.map_err(|_| "a malformed PAX record".to_owned())?;
            let key = record.key().map_err(|_| "a PAX key that is not UTF-8".to_owned())?;
            let value = record.value_bytes();
            match key {
                "path" => pending.pax_path = Some(value.to_vec()),
                "linkpath" => pending.pax_link = Some(value.to_vec()),
                "size" => {
                    let size = std::str::from_utf8(value)
                        .ok()
                        .and_then(|v| v.parse::<u64>().ok())
                        .ok_or_else(|| "a PAX size that is not a number".to_owned())?;
                    pending.pax_size = Some(size);
                }
                k if k.starts_with("GNU.sparse.") => {
                    return Err("sparse files are not allowed".into());
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Resolves every symbolic link inside the archive, following the archive's other
    /// links, and refuses those that leave the tree.
    fn resolve_symlinks(&self) -> Result<(), TarballError> {
        for path in &self.symlinks {
            let Some(Kind::Symlink(target)) = self.kinds.get(path) else {
                continue;
            };
            let fail = |problem| TarballError::Entry {
                path: truncate(path),
                problem,
            };
            if target.is_empty() {
                return Err(fail(EntryProblem::SymlinkEmpty));
            }
            let mut stack: Vec<&str> = path.split('/').collect();
            stack.pop();
            let mut queue: VecDeque<&str> = target.split('/').collect();
            let mut hops = 0;
            while let Some(part) = queue.pop_front() {
                match part {
                    "" | "." => {}
                    ".." => {
                        if stack.pop().is_none() {
                            return Err(fail(EntryProblem::SymlinkEscapes {
                                target: truncate(target),
                            }));
                        }
                    }
                    name => {
                        stack.push(name);
                        if let Some(Kind::Symlink(next)) = self.kinds.get(&stack.join("/")) {
                            hops += 1;
                            if hops > MAX_LINK_HOPS {
                                return Err(fail(EntryProblem::SymlinkLoop {
                                    target: truncate(target),
                                }));
                            }
                            stack.pop();
                            // `next` is relative (absolute targets were refused when read).
                            for part in next.split('/').rev() {
                                queue.push_front(part);
                            }
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

fn link_target(bytes: Option<&[u8]>, max: usize) -> Result<String, EntryProblem> {
    let bytes = bytes.unwrap_or_default();
    let Ok(s) = std::str::from_utf8(bytes) else {
        return Err(EntryProblem::LinkTargetNotUtf8);
    };
    if s.is_empty() {
        return Err(EntryProblem::SymlinkEmpty);
    }
    if s.len() > max {
        return Err(EntryProblem::PathTooLong { max });
    }
    if s.contains('\\') {
        return Err(EntryProblem::Backslash);
    }
    if s.chars().any(char::is_control) {
        return Err(EntryProblem::ControlCharacter);
    }
    Ok(s.to_owned())
}

/// The path without `.` and empty components, or `None` for the root itself.
fn normalize(raw: &str, max: usize) -> Result<Option<String>, EntryProblem> {
    if raw.starts_with('/') {
        return Err(EntryProblem::Absolute);
    }
    if raw.len() > max {
        return Err(EntryProblem::PathTooLong { max });
    }
    if raw.contains('\\') {
        return Err(EntryProblem::Backslash);
    }
    if raw.chars().any(char::is_control) {
        return Err(EntryProblem::ControlCharacter);
    }
    let parts: Vec<&str> = raw.split('/').filter(|p| !p.is_empty() && *p != ".").collect();
    if parts.contains(&"..") {
        return Err(EntryProblem::ParentDir);
    }
    if parts.is_empty() {
        return Ok(None);
    }
    Ok(Some(parts.join("/")))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use flate2::Compression;
    use flate2::write::GzEncoder;
    use tar::{EntryType, Header};

    /// Builds archives with hand-made headers, hostile ones included.
    struct Tb {
        builder: tar::Builder<Vec<u8>>,
    }

    impl Tb {
        fn new() -> Self {
            Self {
                builder: tar::Builder::new(Vec::new()),
            }
        }

        fn header(ty: EntryType, size: u64) -> Header {
            let mut h = Header::new_gnu();
            h.set_entry_type(ty);
            h.set_size(size);
            h.set_mode(if ty == EntryType::Directory { 0o755 } else { 0o644 });
            h
        }

        fn file(mut self, path: &str, data: &[u8]) -> Self {
            let mut h = Self::header(EntryType::Regular, data.len() as u64);
            self.builder.append_data(&mut h, path, data).unwrap();
            self
        }

        fn dir(mut self, path: &str) -> Self {
            let mut h = Self::header(EntryType::Directory, 0);
            self.builder.append_data(&mut h, path, io::empty()).unwrap();
            self
        }

        fn link(mut self, ty: EntryType, path: &str, target: &str) -> Self {
            let mut h = Self::header(ty, 0);
            self.builder.append_link(&mut h, path, target).unwrap();
            self
        }

        /// Writes the path straight into the header's name field, bypassing the tar
        /// crate's own checks (which refuse `..` and absolute paths).
        fn raw(mut self, ty: EntryType, name: &[u8], size: u64, mode: u32) -> Self {
            let mut h = Self::header(ty, size);
            h.set_mode(mode);
            h.as_old_mut().name[..name.len()].copy_from_slice(name);
            h.set_cksum();
            let data = vec![b'x'; size as usize];
            self.builder.append(&h, data.as_slice()).unwrap();
            self
        }

        fn raw_symlink(mut self, name: &str, target: &str) -> Self {
            let mut h = Self::header(EntryType::Symlink, 0);
            h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
            h.as_old_mut().linkname[..target.len()].copy_from_slice(target.as_bytes());
            h.set_cksum();
            self.builder.append(&h, io::empty()).unwrap();
            self
        }

        fn tar(self) -> Vec<u8> {
            self.builder.into_inner().unwrap()
        }

        fn gz(self) -> Vec<u8> {
            gzip(&self.tar())
        }
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut enc = GzEncoder::new(Vec::new(), Compression::default());
        io::Write::write_all(&mut enc, data).unwrap();
        enc.finish().unwrap()
    }

    fn check(bytes: &[u8]) -> Result<TarSummary, TarballError> {
        check_tarball(bytes, &TarLimits::default())
    }

    fn refusal(bytes: &[u8]) -> String {
        check(bytes).unwrap_err().to_string()
    }

    #[test]
    fn accepts_a_normal_package() {
        let bytes = Tb::new()
            .dir("charts")
            .file("charts/values.yaml", b"replicas: 1\n")
            .file("README.md", b"# hi\n")
            .link(EntryType::Symlink, "charts/readme", "../README.md")
            .link(EntryType::Link, "copy.md", "README.md")
            .gz();
        let s = check(&bytes).unwrap();
        assert_eq!(
            (
                s.entries,
                s.files,
                s.directories,
                s.symlinks,
                s.hard_links,
                s.unpacked_bytes
            ),
            (5, 2, 1, 1, 1, 17)
        );
        assert!(s.tar_bytes >= 512 * 6);
    }

    #[test]
    fn long_names_are_applied_before_checking() {
        let long = format!("{}/file.txt", "d".repeat(200));
        let s = check(&Tb::new().file(&long, b"x").gz()).unwrap();
        assert_eq!(s.files, 1);
        let bad = format!("{}/../../../etc/passwd", "d".repeat(200));
        let mut b = tar::Builder::new(Vec::new());
        // The GNU long-name record, written by hand: the tar crate refuses `..` itself.
        let mut ln = Tb::header(EntryType::GNULongName, bad.len() as u64 + 1);
        ln.as_old_mut().name[..13].copy_from_slice(b"././@LongLink");
        ln.set_cksum();
        let mut data = bad.clone().into_bytes();
        data.push(0);
        b.append(&ln, data.as_slice()).unwrap();
        let mut h = Tb::header(EntryType::Regular, 1);
        h.as_old_mut().name[..5].copy_from_slice(b"short");
        h.set_cksum();
        b.append(&h, &b"x"[..]).unwrap();
        let msg = refusal(&gzip(&b.into_inner().unwrap()));
        assert!(
            msg.starts_with("entry `ddd") && msg.ends_with("`: `..` would leave the package directory"),
            "{msg}"
        );
    }

    #[test]
    fn refuses_parent_dir() {
        let bytes = Tb::new().raw(EntryType::Regular, b"a/../../evil.sh", 1, 0o755).gz();
        assert_eq!(
            refusal(&bytes),
            "entry `a/../../evil.sh`: `..` would leave the package directory"
        );
    }

    #[test]
    fn refuses_absolute_paths() {
        let bytes = Tb::new().raw(EntryType::Regular, b"/etc/cron.d/x", 1, 0o644).gz();
        assert_eq!(refusal(&bytes), "entry `/etc/cron.d/x`: absolute paths are not allowed");
    }

    #[test]
    fn refuses_symlinks_that_escape() {
        let direct = Tb::new().link(EntryType::Symlink, "charts/up", "../../etc").gz();
        assert_eq!(
            refusal(&direct),
            "entry `charts/up`: the symbolic link points to `../../etc`, which leaves the package directory"
        );
        let absolute = Tb::new().raw_symlink("passwd", "/etc/passwd").gz();
        assert_eq!(
            refusal(&absolute),
            "entry `passwd`: the symbolic link points to the absolute path `/etc/passwd`"
        );
        // Each link alone stays inside; followed through each other they leave it.
        let chained = Tb::new()
            .dir("d")
            .link(EntryType::Symlink, "d/root", "..")
            .link(EntryType::Symlink, "d/out", "root/..")
            .gz();
        assert_eq!(
            refusal(&chained),
            "entry `d/out`: the symbolic link points to `root/..`, which leaves the package directory"
        );
        let looped = Tb::new()
            .link(EntryType::Symlink, "a", "b")
            .link(EntryType::Symlink, "b", "a")
            .gz();
        assert!(refusal(&looped).contains("goes through more than 40 links"));
    }

    #[test]
    fn refuses_entries_through_links_and_files() {
        let through_link = Tb::new()
            .dir("sub")
            .link(EntryType::Symlink, "lnk", "sub")
            .file("lnk/x", b"x")
            .gz();
        assert_eq!(
            refusal(&through_link),
            "entry `lnk/x`: the path goes through `lnk`, which is not a directory"
        );
        let link_after_children = Tb::new()
            .file("lnk/x", b"x")
            .link(EntryType::Symlink, "lnk", "/tmp")
            .gz();
        assert_eq!(
            refusal(&link_after_children),
            "entry `lnk`: it is not a directory, but other entries are inside it"
        );
    }

    #[test]
    fn refuses_hard_links_out_of_the_tree_or_to_nothing() {
        let out = Tb::new().link(EntryType::Link, "h", "../etc/shadow").gz();
        assert!(
            refusal(&out).contains("it leaves the package directory"),
            "{}",
            refusal(&out)
        );
        let nothing = Tb::new().link(EntryType::Link, "h", "later").file("later", b"x").gz();
        assert_eq!(
            refusal(&nothing),
            "entry `h`: the hard link to `later` is not allowed: the target is not an earlier entry of the archive"
        );
    }

    #[test]
    fn refuses_devices_and_fifos() {
        let chr = Tb::new().raw(EntryType::Char, b"dev/null", 0, 0o644).gz();
        assert_eq!(refusal(&chr), "entry `dev/null`: character devices are not allowed");
        let blk = Tb::new().raw(EntryType::Block, b"sda", 0, 0o644).gz();
        assert_eq!(refusal(&blk), "entry `sda`: block devices are not allowed");
        let fifo = Tb::new().raw(EntryType::Fifo, b"pipe", 0, 0o644).gz();
        assert_eq!(refusal(&fifo), "entry `pipe`: FIFOs are not allowed");
    }

    #[test]
    fn refuses_duplicates_bad_names_and_setuid() {
        let dup = Tb::new().file("a.txt", b"1").file("./a.txt", b"2").gz();
        assert_eq!(refusal(&dup), "entry `a.txt`: the path appears twice in the archive");
        let latin1 = Tb::new().raw(EntryType::Regular, b"caf\xe9", 1, 0o644).gz();
        assert_eq!(refusal(&latin1), "entry `caf\u{fffd}`: the path is not UTF-8");
        let escape = Tb::new().raw(EntryType::Regular, b"x\x1b[2J", 1, 0o644).gz();
        assert_eq!(
            refusal(&escape),
            "entry `x\\u{1b}[2J`: the path contains control characters"
        );
        let suid = Tb::new().raw(EntryType::Regular, b"run", 1, 0o4755).gz();
        assert_eq!(refusal(&suid), "entry `run`: mode 4755 sets the setuid or setgid bit");
    }

    #[test]
    fn refuses_too_many_entries() {
        let mut tb = Tb::new();
        for i in 0..11 {
            tb = tb.file(&format!("f{i}"), b"");
        }
        let limits = TarLimits {
            max_entries: 10,
            ..TarLimits::default()
        };
        let err = check_tarball(tb.gz().as_slice(), &limits).unwrap_err();
        assert_eq!(err, TarballError::TooManyEntries { max: 10 });
    }

    #[test]
    fn refuses_a_bomb_before_reading_it() {
        // 64 MiB of zeros in one entry compresses to ~64 KiB; a header claiming far
        // more is refused on its size alone.
        let big = vec![0u8; 64 * 1024 * 1024];
        let bytes = Tb::new().file("small", b"ok").file("bomb.bin", &big).gz();
        assert!(bytes.len() < 1024 * 1024, "compressed to {}", bytes.len());
        let limits = TarLimits {
            max_unpacked_bytes: 1024 * 1024,
            ..TarLimits::default()
        };
        let err = check_tarball(bytes.as_slice(), &limits).unwrap_err();
        assert_eq!(
            err.to_string(),
            "entry `bomb.bin` takes the content over its limit of 1048576 unpacked bytes"
        );

        // A header that claims 1 TiB is refused without reading anything past it.
        let mut h = Tb::header(EntryType::Regular, 1 << 40);
        h.as_old_mut().name[..4].copy_from_slice(b"huge");
        h.set_cksum();
        let mut tar = h.as_bytes().to_vec();
        tar.extend_from_slice(&[0u8; 1024]);
        let err = check(&gzip(&tar)).unwrap_err();
        assert!(
            matches!(err, TarballError::TooLarge { ref path, .. } if path == "huge"),
            "{err}"
        );
    }

    #[test]
    fn refuses_oversized_extension_headers() {
        let mut h = Tb::header(EntryType::XHeader, MAX_EXTENSION_BYTES + 1);
        h.as_old_mut().name[..9].copy_from_slice(b"PaxHeader");
        h.set_cksum();
        let mut tar = h.as_bytes().to_vec();
        tar.extend_from_slice(&[0u8; 1024]);
        assert!(refusal(&gzip(&tar)).contains("bad extension header: 65537 bytes"));
    }

    #[test]
    fn refuses_broken_streams() {
        let good = Tb::new().file("a", b"hello").gz();
        assert!(matches!(check(b"not gzip at all"), Err(TarballError::Gzip(_))));
        assert!(matches!(check(&good[..good.len() - 10]), Err(TarballError::Gzip(_))));
        let mut trailing = good.clone();
        trailing.extend_from_slice(b"extra");
        assert_eq!(check(&trailing), Err(TarballError::TrailingData));
        let mut tar = Tb::new().file("a", b"hello").tar();
        tar.truncate(1024); // header and data, no end-of-archive blocks
        assert_eq!(check(&gzip(&tar)), Err(TarballError::Truncated));
        let mut tar = Tb::new().file("a", b"hello").tar();
        tar.extend_from_slice(b"hidden data after the end");
        assert_eq!(check(&gzip(&tar)), Err(TarballError::TrailingData));
    }

    #[test]
    fn source_errors_are_not_blamed_on_the_content() {
        struct Failing;
        impl Read for Failing {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::other("connection reset"))
            }
        }
        assert_eq!(
            check_tarball(Failing, &TarLimits::default()),
            Err(TarballError::Read("connection reset".into()))
        );
    }
}
