//! Encrypted, content-addressed blobs: the text of log files and their
//! redacted copies, outside the database.
//!
//! # Format
//!
//! A blob file is a 32-byte header followed by chunks. Each chunk holds
//! [`CHUNK_BYTES`] of plaintext (the last one fewer, possibly none),
//! sealed with AES-256-GCM. The nonce is the header's random 7-byte prefix,
//! the chunk's index (u32, big-endian) and a byte that is 1 only for the
//! last chunk — the STREAM construction — and the header is the associated
//! data of every chunk. So a chunk cannot be altered, reordered, dropped
//! or moved to another blob, the file cannot be truncated at a chunk
//! boundary, and any chunk can be read on its own: the viewer decrypts one
//! page of a 2 GiB log without touching the rest.
//!
//! # Names and keys
//!
//! A blob is addressed by the SHA-256 of its plaintext (the database rows
//! hold that hash). On disk its file name is an HMAC of that hash, so the
//! directory listing does not let anyone confirm a guess about the
//! content. Both keys are derived from one random master key kept in the
//! encrypted database, so the database key unlocks everything and a
//! database rekey needs no blob rewrite.
//!
//! Writes go to a temporary file that is synced and renamed into place
//! when complete: a crash or a full disk never leaves a partial blob under
//! a real name. [`Spool`] uses the same format with a key that lives only in
//! memory, for uploads in flight: if the process dies, what is left on disk
//! is unreadable noise, removed at the next start.

use std::fs::{self, File};
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// Plaintext bytes per chunk.
pub const CHUNK_BYTES: usize = 64 * 1024;
const TAG_BYTES: usize = 16;
const HEADER_BYTES: usize = 32;
const MAGIC: &[u8; 8] = b"TFTSRBL1";

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("the disk is full; nothing was saved. Free some space and try again")]
    DiskFull,
    #[error("stored content is missing (blob {0})")]
    Missing(String),
    #[error("stored content is damaged or was altered (blob {0})")]
    Damaged(String),
    #[error("cannot read or write stored content: {0}")]
    Io(io::Error),
}

impl From<io::Error> for BlobError {
    fn from(e: io::Error) -> Self {
        if e.kind() == io::ErrorKind::StorageFull {
            BlobError::DiskFull
        } else {
            BlobError::Io(e)
        }
    }
}

impl BlobError {
    /// As an `io::Error`, for code that reads blobs through `io::Read`.
    fn into_io(self) -> io::Error {
        match self {
            BlobError::Io(e) => e,
            other => io::Error::other(other),
        }
    }
}

/// A 256-bit key, wiped from memory when dropped.
#[derive(Clone)]
pub struct BlobKey(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for BlobKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BlobKey(***)")
    }
}

impl BlobKey {
    pub fn random() -> Self {
        Self(Zeroizing::new(rand::random()))
    }

    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// Parses the stored hex form.
    pub fn from_hex(text: &str) -> Option<Self> {
        let bytes = Zeroizing::new(hex::decode(text.trim()).ok()?);
        let array: [u8; 32] = bytes.as_slice().try_into().ok()?;
        Some(Self::from_bytes(array))
    }

    pub fn to_hex(&self) -> Zeroizing<String> {
        Zeroizing::new(hex::encode(self.0.as_slice()))
    }

    /// A subkey for one purpose.
    fn derive(&self, purpose: &[u8]) -> Zeroizing<[u8; 32]> {
        hmac_sha256(&self.0, &[b"tftsr-blob/", purpose])
    }
}

/// HMAC-SHA256 of the concatenated `parts`. HMAC zero-pads a short key to
/// the hash's 64-byte block, so padding it here gives the standard result
/// through the infallible constructor.
fn hmac_sha256(key: &[u8; 32], parts: &[&[u8]]) -> Zeroizing<[u8; 32]> {
    let mut block = Zeroizing::new([0u8; 64]);
    block[..32].copy_from_slice(key);
    let mut mac = <Hmac<Sha256> as KeyInit>::new(block.as_slice().into());
    for part in parts {
        mac.update(part);
    }
    Zeroizing::new(mac.finalize().into_bytes().into())
}

/// The sealing side of the chunk format, shared by blobs and spools.
struct ChunkCipher {
    cipher: Aes256Gcm,
    header: [u8; HEADER_BYTES],
}

impl ChunkCipher {
    fn new(key: &[u8; 32], header: [u8; HEADER_BYTES]) -> Self {
        Self {
            cipher: Aes256Gcm::new(key.into()),
            header,
        }
    }

    fn fresh_header() -> [u8; HEADER_BYTES] {
        let mut header = [0u8; HEADER_BYTES];
        header[..8].copy_from_slice(MAGIC);
        header[8..12].copy_from_slice(&(CHUNK_BYTES as u32).to_be_bytes());
        let prefix: [u8; 7] = rand::random();
        header[12..19].copy_from_slice(&prefix);
        header
    }

    fn nonce(&self, index: u32, last: bool) -> [u8; 12] {
        let mut nonce = [0u8; 12];
        nonce[..7].copy_from_slice(&self.header[12..19]);
        nonce[7..11].copy_from_slice(&index.to_be_bytes());
        nonce[11] = u8::from(last);
        nonce
    }

    fn seal(&self, index: u32, last: bool, plain: &[u8]) -> Result<Vec<u8>, BlobError> {
        let nonce = self.nonce(index, last);
        self.cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plain,
                    aad: &self.header,
                },
            )
            .map_err(|_| BlobError::Io(io::Error::other("encryption failed")))
    }

    fn open(&self, index: u32, last: bool, sealed: &[u8]) -> Option<Vec<u8>> {
        let nonce = self.nonce(index, last);
        self.cipher
            .decrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: sealed,
                    aad: &self.header,
                },
            )
            .ok()
    }
}

/// Writes the chunk format to a file.
struct ChunkWriter {
    file: BufWriter<File>,
    cipher: ChunkCipher,
    buffer: Vec<u8>,
    index: u32,
    written: u64,
    hasher: Sha256,
}

impl ChunkWriter {
    fn create(path: &Path, key: &[u8; 32]) -> Result<Self, BlobError> {
        let header = ChunkCipher::fresh_header();
        let mut file = BufWriter::new(create_private(path)?);
        file.write_all(&header)?;
        Ok(Self {
            file,
            cipher: ChunkCipher::new(key, header),
            buffer: Vec::with_capacity(CHUNK_BYTES),
            index: 0,
            written: 0,
            hasher: Sha256::new(),
        })
    }

    fn write(&mut self, mut data: &[u8]) -> Result<(), BlobError> {
        self.hasher.update(data);
        self.written += data.len() as u64;
        while !data.is_empty() {
            let take = (CHUNK_BYTES - self.buffer.len()).min(data.len());
            self.buffer.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.buffer.len() == CHUNK_BYTES && !data.is_empty() {
                self.flush_chunk(false)?;
            }
        }
        Ok(())
    }

    fn flush_chunk(&mut self, last: bool) -> Result<(), BlobError> {
        // A full buffer is only sealed once more data follows, so the last
        // chunk is always the one flagged last (possibly full or empty).
        let sealed = self.cipher.seal(self.index, last, &self.buffer)?;
        self.file.write_all(&sealed)?;
        self.buffer.clear();
        self.index = self
            .index
            .checked_add(1)
            .ok_or_else(|| BlobError::Io(io::Error::other("content too large")))?;
        Ok(())
    }

    /// Seals the last chunk and syncs; returns the plaintext's SHA-256 and
    /// length.
    fn finish(mut self) -> Result<(String, u64), BlobError> {
        self.flush_chunk(true)?;
        let file = self
            .file
            .into_inner()
            .map_err(|e| BlobError::from(e.into_error()))?;
        file.sync_all()?;
        Ok((hex::encode(self.hasher.finalize()), self.written))
    }
}

#[cfg(unix)]
fn create_private(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
fn create_private(path: &Path) -> io::Result<File> {
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
}

/// Random access to one sealed file.
pub struct BlobReader {
    file: File,
    cipher: ChunkCipher,
    chunks: u32,
    plain_len: u64,
    label: String,
    /// Sequential reading position (for `io::Read`).
    pos: u64,
    cached: Option<(u32, Vec<u8>)>,
}

impl BlobReader {
    fn open(path: &Path, key: &[u8; 32], label: String) -> Result<Self, BlobError> {
        let mut file = match File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(BlobError::Missing(label)),
            Err(e) => return Err(e.into()),
        };
        let len = file.metadata()?.len();
        let mut header = [0u8; HEADER_BYTES];
        if len < (HEADER_BYTES + TAG_BYTES) as u64 {
            return Err(BlobError::Damaged(label));
        }
        file.read_exact(&mut header)?;
        if &header[..8] != MAGIC || header[8..12] != (CHUNK_BYTES as u32).to_be_bytes() {
            return Err(BlobError::Damaged(label));
        }
        let body = len - HEADER_BYTES as u64;
        let sealed_chunk = (CHUNK_BYTES + TAG_BYTES) as u64;
        let chunks = body.div_ceil(sealed_chunk);
        let last_len = body - (chunks - 1) * sealed_chunk;
        if last_len < TAG_BYTES as u64 {
            return Err(BlobError::Damaged(label));
        }
        let chunks = u32::try_from(chunks).map_err(|_| BlobError::Damaged(label.clone()))?;
        Ok(Self {
            file,
            cipher: ChunkCipher::new(key, header),
            chunks,
            plain_len: body - u64::from(chunks) * TAG_BYTES as u64,
            label,
            pos: 0,
            cached: None,
        })
    }

    /// Plaintext length.
    pub fn len(&self) -> u64 {
        self.plain_len
    }

    pub fn is_empty(&self) -> bool {
        self.plain_len == 0
    }

    fn chunk(&mut self, index: u32) -> Result<&[u8], BlobError> {
        if self.cached.as_ref().is_none_or(|(i, _)| *i != index) {
            let sealed_chunk = (CHUNK_BYTES + TAG_BYTES) as u64;
            let offset = HEADER_BYTES as u64 + u64::from(index) * sealed_chunk;
            self.file.seek(SeekFrom::Start(offset))?;
            let last = index + 1 == self.chunks;
            let want = if last {
                usize::try_from(
                    self.plain_len - u64::from(index) * CHUNK_BYTES as u64 + TAG_BYTES as u64,
                )
                .map_err(|_| BlobError::Damaged(self.label.clone()))?
            } else {
                CHUNK_BYTES + TAG_BYTES
            };
            let mut sealed = vec![0u8; want];
            self.file.read_exact(&mut sealed)?;
            let plain = self
                .cipher
                .open(index, last, &sealed)
                .ok_or_else(|| BlobError::Damaged(self.label.clone()))?;
            self.cached = Some((index, plain));
        }
        Ok(self.cached.as_ref().map_or(&[][..], |(_, p)| p.as_slice()))
    }

    /// The plaintext bytes `start..end` (clamped to the content).
    pub fn read_range(&mut self, start: u64, end: u64) -> Result<Vec<u8>, BlobError> {
        let end = end.min(self.plain_len);
        let mut out = Vec::with_capacity(usize::try_from(end.saturating_sub(start)).unwrap_or(0));
        let mut pos = start;
        while pos < end {
            let index = u32::try_from(pos / CHUNK_BYTES as u64)
                .map_err(|_| BlobError::Damaged(self.label.clone()))?;
            let within = usize::try_from(pos % CHUNK_BYTES as u64).unwrap_or(0);
            let chunk = self.chunk(index)?;
            let take = (chunk.len().saturating_sub(within))
                .min(usize::try_from(end - pos).unwrap_or(usize::MAX));
            if take == 0 {
                return Err(BlobError::Damaged(self.label.clone()));
            }
            out.extend_from_slice(&chunk[within..within + take]);
            pos += take as u64;
        }
        Ok(out)
    }

    /// Decrypts every chunk, checking the whole file's integrity.
    pub fn verify(&mut self) -> Result<(), BlobError> {
        for index in 0..self.chunks {
            self.chunk(index)?;
        }
        Ok(())
    }
}

impl Read for BlobReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos >= self.plain_len || buf.is_empty() {
            return Ok(0);
        }
        let index = u32::try_from(self.pos / CHUNK_BYTES as u64).map_err(io::Error::other)?;
        let within = usize::try_from(self.pos % CHUNK_BYTES as u64).unwrap_or(0);
        let chunk = self.chunk(index).map_err(BlobError::into_io)?;
        let take = chunk.len().saturating_sub(within).min(buf.len());
        buf[..take].copy_from_slice(&chunk[within..within + take]);
        self.pos += take as u64;
        Ok(take)
    }
}

/// The blob directory.
#[derive(Debug, Clone)]
pub struct BlobStore {
    dir: PathBuf,
    tmp: PathBuf,
    enc_key: BlobKeyBytes,
    name_key: BlobKeyBytes,
}

#[derive(Clone)]
struct BlobKeyBytes(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for BlobKeyBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// A blob being written; [`BlobStore::commit`] puts it in place. Dropped
/// without a commit (an error, a refused upload), its temporary file is
/// removed.
pub struct BlobWriter {
    inner: Option<ChunkWriter>,
    tmp: SpoolFile,
}

impl BlobWriter {
    pub fn write(&mut self, data: &[u8]) -> Result<(), BlobError> {
        match self.inner.as_mut() {
            Some(w) => w.write(data),
            None => Err(BlobError::Io(io::Error::other("blob already committed"))),
        }
    }

    pub fn written(&self) -> u64 {
        self.inner.as_ref().map_or(0, |w| w.written)
    }
}

/// A stored blob: the SHA-256 of its plaintext and its length.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredBlob {
    pub sha256: String,
    pub size: u64,
    /// False when identical content was already stored (nothing new was
    /// written).
    pub new: bool,
}

impl BlobStore {
    /// Opens (creating) `dir`, removing temporary files a crash left.
    pub fn open(dir: &Path, key: &BlobKey) -> Result<Self, BlobError> {
        let tmp = dir.join("tmp");
        fs::create_dir_all(&tmp)?;
        for entry in fs::read_dir(&tmp)?.flatten() {
            let _ = fs::remove_file(entry.path());
        }
        Ok(Self {
            dir: dir.to_owned(),
            tmp,
            enc_key: BlobKeyBytes(key.derive(b"encrypt")),
            name_key: BlobKeyBytes(key.derive(b"name")),
        })
    }

    fn temp_path(&self, what: &str) -> PathBuf {
        self.tmp.join(format!(
            "{what}-{}",
            hex::encode(rand::random::<[u8; 12]>())
        ))
    }

    /// Where the blob with plaintext hash `sha256` lives.
    fn path_for(&self, sha256: &str) -> PathBuf {
        let name = hex::encode(hmac_sha256(&self.name_key.0, &[sha256.as_bytes()]).as_slice());
        self.dir.join(&name[..2]).join(name)
    }

    pub fn contains(&self, sha256: &str) -> bool {
        self.path_for(sha256).is_file()
    }

    pub fn writer(&self) -> Result<BlobWriter, BlobError> {
        let tmp_path = self.temp_path("blob");
        let inner = ChunkWriter::create(&tmp_path, &self.enc_key.0)?;
        Ok(BlobWriter {
            inner: Some(inner),
            tmp: SpoolFile(tmp_path),
        })
    }

    /// Seals the last chunk and moves the blob into place, or drops it if
    /// the same content is already stored.
    pub fn commit(&self, mut writer: BlobWriter) -> Result<StoredBlob, BlobError> {
        let inner = writer
            .inner
            .take()
            .ok_or_else(|| BlobError::Io(io::Error::other("blob already committed")))?;
        let (sha256, size) = inner.finish()?;
        let target = self.path_for(&sha256);
        if target.is_file() {
            // Identical content is already stored; the guard removes ours.
            return Ok(StoredBlob {
                sha256,
                size,
                new: false,
            });
        }
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::rename(&writer.tmp.0, &target)?;
        Ok(StoredBlob {
            sha256,
            size,
            new: true,
        })
    }

    pub fn reader(&self, sha256: &str) -> Result<BlobReader, BlobError> {
        BlobReader::open(&self.path_for(sha256), &self.enc_key.0, short(sha256))
    }

    pub fn remove(&self, sha256: &str) -> Result<(), BlobError> {
        match fs::remove_file(self.path_for(sha256)) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// A spool for an upload in flight.
    pub fn spool(&self) -> Result<SpoolWriter, BlobError> {
        let key = Zeroizing::new(rand::random::<[u8; 32]>());
        let path = self.temp_path("upload");
        let inner = ChunkWriter::create(&path, &key)?;
        Ok(SpoolWriter {
            inner: Some(inner),
            guard: SpoolFile(path),
            key,
        })
    }
}

fn short(sha256: &str) -> String {
    sha256.chars().take(12).collect()
}

/// Deletes the spool file when dropped, whatever happened.
struct SpoolFile(PathBuf);

impl Drop for SpoolFile {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0);
    }
}

/// An upload being received, encrypted under a key that exists only in
/// memory.
pub struct SpoolWriter {
    inner: Option<ChunkWriter>,
    guard: SpoolFile,
    key: Zeroizing<[u8; 32]>,
}

impl SpoolWriter {
    pub fn write(&mut self, data: &[u8]) -> Result<(), BlobError> {
        match self.inner.as_mut() {
            Some(w) => w.write(data),
            None => Err(BlobError::Io(io::Error::other("spool already finished"))),
        }
    }

    pub fn written(&self) -> u64 {
        self.inner.as_ref().map_or(0, |w| w.written)
    }

    /// Completes the upload: its SHA-256, size and a handle to read it back.
    pub fn finish(mut self) -> Result<Spool, BlobError> {
        let inner = self
            .inner
            .take()
            .ok_or_else(|| BlobError::Io(io::Error::other("spool already finished")))?;
        let (sha256, size) = inner.finish()?;
        Ok(Spool {
            sha256,
            size,
            guard: self.guard,
            key: self.key,
        })
    }
}

/// A received upload, removed from disk when dropped.
pub struct Spool {
    pub sha256: String,
    pub size: u64,
    guard: SpoolFile,
    key: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for Spool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spool")
            .field("sha256", &self.sha256)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

impl Spool {
    pub fn reader(&self) -> Result<BlobReader, BlobError> {
        BlobReader::open(&self.guard.0, &self.key, "upload".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, BlobStore) {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = BlobStore::open(&dir.path().join("blobs"), &BlobKey::random()).expect("open");
        (dir, store)
    }

    fn put(store: &BlobStore, data: &[u8]) -> StoredBlob {
        let mut w = store.writer().expect("writer");
        for piece in data.chunks(10_000) {
            w.write(piece).expect("write");
        }
        store.commit(w).expect("commit")
    }

    #[test]
    fn round_trips_any_length_with_random_access() {
        let (_dir, store) = store();
        for len in [
            0usize,
            1,
            CHUNK_BYTES - 1,
            CHUNK_BYTES,
            CHUNK_BYTES + 1,
            200_000,
        ] {
            let data: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
            let blob = put(&store, &data);
            assert_eq!(blob.size, len as u64);
            assert_eq!(blob.sha256, hex::encode(Sha256::digest(&data)));
            let mut r = store.reader(&blob.sha256).expect("reader");
            assert_eq!(r.len(), len as u64);
            let mut all = Vec::new();
            r.read_to_end(&mut all).expect("read");
            assert_eq!(all, data, "len {len}");
            if len > 10 {
                let (a, b) = (len as u64 / 3, len as u64 - 3);
                assert_eq!(
                    r.read_range(a, b).expect("range"),
                    &data[a as usize..b as usize]
                );
            }
        }
    }

    #[test]
    fn content_is_not_on_disk_in_clear_and_names_hide_the_hash() {
        let (dir, store) = store();
        let secret = b"password=hunter2 for alice@example.com ".repeat(100);
        let blob = put(&store, &secret);
        let mut found = Vec::new();
        for entry in walk(dir.path()) {
            let bytes = fs::read(&entry).expect("read");
            assert!(
                !bytes.windows(8).any(|w| w == b"hunter2 "),
                "plaintext leaked"
            );
            found.push(entry);
        }
        assert_eq!(found.len(), 1);
        let name = found[0].file_name().and_then(|n| n.to_str()).unwrap_or("");
        assert_ne!(name, blob.sha256);
        assert!(!name.contains(&blob.sha256[..16]));
    }

    #[test]
    fn same_content_is_stored_once() {
        let (dir, store) = store();
        let a = put(&store, b"same bytes");
        let b = put(&store, b"same bytes");
        assert!(a.new && !b.new);
        assert_eq!(a.sha256, b.sha256);
        assert_eq!(walk(dir.path()).len(), 1, "one file, temp files removed");
    }

    #[test]
    fn tampering_truncation_and_wrong_key_are_detected() {
        let (dir, store) = store();
        let data = vec![42u8; CHUNK_BYTES * 2 + 5];
        let blob = put(&store, &data);
        let path = walk(dir.path()).remove(0);
        let original = fs::read(&path).expect("read");

        let mut flipped = original.clone();
        flipped[HEADER_BYTES + 10] ^= 1;
        fs::write(&path, &flipped).expect("write");
        let mut r = store.reader(&blob.sha256).expect("reader");
        assert!(matches!(r.read_range(0, 10), Err(BlobError::Damaged(_))));

        // Cut off the last chunk: the new last chunk was not sealed as last.
        let cut = &original[..HEADER_BYTES + 2 * (CHUNK_BYTES + TAG_BYTES)];
        fs::write(&path, cut).expect("write");
        let mut r = store.reader(&blob.sha256).expect("reader");
        assert!(matches!(r.verify(), Err(BlobError::Damaged(_))));

        fs::write(&path, &original).expect("write");
        let other = BlobStore::open(&dir.path().join("blobs"), &BlobKey::random()).expect("open");
        assert!(matches!(
            other.reader(&blob.sha256),
            Err(BlobError::Missing(_))
        ));
        let mut r = store.reader(&blob.sha256).expect("reader");
        r.verify().expect("intact again");
    }

    #[test]
    fn spools_vanish_when_dropped() {
        let (dir, store) = store();
        let mut spool = store.spool().expect("spool");
        spool.write(b"upload in flight").expect("write");
        let spool = spool.finish().expect("finish");
        let mut back = Vec::new();
        spool
            .reader()
            .expect("reader")
            .read_to_end(&mut back)
            .expect("read");
        assert_eq!(back, b"upload in flight");
        assert_eq!(walk(dir.path()).len(), 1);
        drop(spool);
        assert!(walk(dir.path()).is_empty());
    }

    #[test]
    fn key_hex_round_trips_and_debug_hides_it() {
        let key = BlobKey::random();
        let hex = key.to_hex();
        let back = BlobKey::from_hex(&hex).expect("parses");
        assert_eq!(back.to_hex().as_str(), hex.as_str());
        assert!(!format!("{key:?}").contains(&hex[..8]));
        assert!(BlobKey::from_hex("abc").is_none());
    }

    fn walk(dir: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        let mut stack = vec![dir.to_owned()];
        while let Some(d) = stack.pop() {
            for e in fs::read_dir(&d).expect("read_dir").flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    out.push(p);
                }
            }
        }
        out
    }
}
