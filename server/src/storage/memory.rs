//! [`ObjectStorage`] in memory, for tests: objects in a map, a writer's bytes in the
//! writer until it commits. It keeps the same rules as the filesystem (create-only keys,
//! nothing visible before commit), so the interface tests run against both.

use std::collections::BTreeMap;
use std::io;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::future::BoxFuture;

use super::object::{ByteStream, ObjectMeta, ObjectReader, ObjectStorage, ObjectWriter, key_segments};

type Objects = BTreeMap<String, (Bytes, SystemTime)>;

#[derive(Debug, Clone, Default)]
pub struct MemoryStorage {
    objects: Arc<Mutex<Objects>>,
}

impl MemoryStorage {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Objects> {
        self.objects.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn existing(&self, key: &str) -> io::Result<Option<Bytes>> {
        key_segments(key)?;
        Ok(self.lock().get(key).map(|(b, _)| b.clone()))
    }
}

#[derive(Debug)]
struct MemoryWriter {
    objects: Arc<Mutex<Objects>>,
    key: String,
    buf: Vec<u8>,
}

impl ObjectWriter for MemoryWriter {
    fn write(&mut self, bytes: Bytes) -> BoxFuture<'_, io::Result<()>> {
        self.buf.extend_from_slice(&bytes);
        Box::pin(async { Ok(()) })
    }

    fn commit(self: Box<Self>) -> BoxFuture<'static, io::Result<u64>> {
        let MemoryWriter { objects, key, buf } = *self;
        let len = buf.len() as u64;
        objects
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(key)
            .or_insert_with(|| (Bytes::from(buf), SystemTime::now()));
        Box::pin(async move { Ok(len) })
    }

    fn abort(self: Box<Self>) -> BoxFuture<'static, io::Result<()>> {
        Box::pin(async { Ok(()) })
    }
}

fn under(key: &str, prefix: &str) -> bool {
    key == prefix || (key.starts_with(prefix) && key.as_bytes().get(prefix.len()) == Some(&b'/'))
}

impl ObjectStorage for MemoryStorage {
    fn create<'a>(&'a self, key: &'a str, prefix: &'a [String]) -> BoxFuture<'a, io::Result<Box<dyn ObjectWriter>>> {
        Box::pin(async move {
            key_segments(key)?;
            let mut buf = Vec::new();
            for p in prefix {
                let bytes = self
                    .existing(p)?
                    .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, format!("no object {p}")))?;
                buf.extend_from_slice(&bytes);
            }
            Ok(Box::new(MemoryWriter {
                objects: self.objects.clone(),
                key: key.to_owned(),
                buf,
            }) as Box<dyn ObjectWriter>)
        })
    }

    fn head<'a>(&'a self, key: &'a str) -> BoxFuture<'a, io::Result<Option<u64>>> {
        Box::pin(async move { Ok(self.existing(key)?.map(|b| b.len() as u64)) })
    }

    fn get<'a>(&'a self, key: &'a str, offset: u64, len: u64) -> BoxFuture<'a, io::Result<Option<ByteStream>>> {
        Box::pin(async move {
            let Some(bytes) = self.existing(key)? else {
                return Ok(None);
            };
            let item = match offset.checked_add(len) {
                Some(end) if end <= bytes.len() as u64 => Ok(bytes.slice(offset as usize..end as usize)),
                _ => Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "range past the end of the object",
                )),
            };
            Ok(Some(futures_util::stream::once(async move { item }).boxed()))
        })
    }

    fn reader<'a>(&'a self, key: &'a str) -> BoxFuture<'a, io::Result<Option<(ObjectReader, u64)>>> {
        Box::pin(async move {
            Ok(self.existing(key)?.map(|b| {
                let len = b.len() as u64;
                (Box::new(io::Cursor::new(b)) as ObjectReader, len)
            }))
        })
    }

    fn rename<'a>(&'a self, from: &'a str, to: &'a str) -> BoxFuture<'a, io::Result<()>> {
        Box::pin(async move {
            key_segments(from)?;
            key_segments(to)?;
            let mut objects = self.lock();
            match objects.remove(from) {
                Some(v) => {
                    objects.entry(to.to_owned()).or_insert(v);
                    Ok(())
                }
                None if objects.contains_key(to) => Ok(()),
                None => Err(io::Error::new(io::ErrorKind::NotFound, format!("no object {from}"))),
            }
        })
    }

    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, io::Result<()>> {
        Box::pin(async move {
            key_segments(key)?;
            self.lock().remove(key);
            Ok(())
        })
    }

    fn delete_prefix<'a>(&'a self, prefix: &'a str) -> BoxFuture<'a, io::Result<()>> {
        Box::pin(async move {
            key_segments(prefix)?;
            self.lock().retain(|k, _| !under(k, prefix));
            Ok(())
        })
    }

    fn list<'a>(&'a self, prefix: &'a str) -> BoxFuture<'a, io::Result<Vec<ObjectMeta>>> {
        Box::pin(async move {
            key_segments(prefix)?;
            Ok(self
                .lock()
                .iter()
                .filter(|(k, _)| under(k, prefix) && k.len() > prefix.len())
                .map(|(k, (b, t))| ObjectMeta {
                    key: k.clone(),
                    size: b.len() as u64,
                    modified: *t,
                })
                .collect())
        })
    }

    fn remove_abandoned(&self, _older_than: Duration) -> BoxFuture<'_, io::Result<usize>> {
        // Uncommitted writes live in their writers and go with them.
        Box::pin(async { Ok(0) })
    }
}
