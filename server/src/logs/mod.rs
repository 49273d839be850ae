//! Log files on the server: upload, background scanning, paging, review
//! and redaction. [`Logs`] implements the app's [`LogService`] port over the
//! encrypted database and the blob store; [`upload`] is the streaming HTTP
//! route.

pub mod pipeline;
pub mod upload;

use std::collections::HashMap;
use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use serde_json::json;
use tftsr_app::AppError;
use tftsr_app::services::LogService;
use tftsr_app::wire::PageAt;
use tftsr_core::audit::{AuditAction, NewAuditEntry};
use tftsr_core::logs::{
    Decision, DecisionScope, LineCounter, LogFileId, LogFileSummary, LogPage, LogState,
    PageBreaker, PiiSettingsText, SpanSource, TypeGroup, ViewLine, limits,
};
use tftsr_core::pii::{PiiScanner, PiiType, PseudonymMap, ScannerConfig};
use tftsr_core::{Clock, IssueId, StoreError, StoreErrorKind};

use crate::blobs::{BlobError, BlobStore, Spool};
use crate::store::Database;
use crate::store::logs::{NewSpan, ScanOutcome, StoredSpan};
use pipeline::{PipelineError, decode_and_scan};

/// Settings key of the scanner configuration (allowlist, custom patterns).
pub const PII_CONFIG_SETTING: &str = "pii_config";
/// Findings are written in batches of this many while scanning.
const SPAN_BATCH: usize = 5_000;

fn blob_error(e: BlobError) -> AppError {
    tracing::error!(error = %e, "blob store");
    AppError::Unavailable(match e {
        BlobError::DiskFull => e.to_string(),
        BlobError::Damaged(_) | BlobError::Missing(_) => {
            "The stored log content is damaged or missing; upload the file again.".to_owned()
        }
        BlobError::Io(_) => "The log content could not be read; see the server log.".to_owned(),
    })
}

/// Log files: the service behind the UI and the upload route.
pub struct Logs {
    db: Arc<Database>,
    blobs: BlobStore,
    clock: Arc<dyn Clock>,
    scanner: RwLock<Arc<PiiScanner>>,
    progress: Mutex<HashMap<LogFileId, Arc<AtomicU64>>>,
    /// Scans run one at a time: they are CPU-bound, and the machine serves
    /// the UI too.
    scan_slot: tokio::sync::Semaphore,
    max_upload: u64,
}

impl std::fmt::Debug for Logs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Logs")
            .field("max_upload", &self.max_upload)
            .finish_non_exhaustive()
    }
}

impl Logs {
    pub fn new(
        db: Arc<Database>,
        blobs: BlobStore,
        clock: Arc<dyn Clock>,
        max_upload: u64,
    ) -> Result<Self, StoreError> {
        let config = match db.setting(PII_CONFIG_SETTING)? {
            Some(text) => serde_json::from_str(&text).unwrap_or_else(|e| {
                tracing::error!(error = %e, "stored PII settings unreadable; using defaults");
                ScannerConfig::default()
            }),
            None => ScannerConfig::default(),
        };
        let scanner = PiiScanner::new(config)
            .or_else(|e| {
                tracing::error!(error = %e, "stored PII settings invalid; using defaults");
                PiiScanner::with_defaults()
            })
            .map_err(|e| StoreError::new(StoreErrorKind::Other, e.to_string()))?;
        let interrupted = db.fail_interrupted_scans()?;
        if interrupted > 0 {
            tracing::warn!(interrupted, "scans interrupted by the last shutdown");
        }
        let logs = Self {
            db,
            blobs,
            clock,
            scanner: RwLock::new(Arc::new(scanner)),
            progress: Mutex::new(HashMap::new()),
            scan_slot: tokio::sync::Semaphore::new(1),
            max_upload,
        };
        logs.collect_garbage();
        Ok(logs)
    }

    pub fn max_upload(&self) -> u64 {
        self.max_upload
    }

    pub fn db(&self) -> &Database {
        &self.db
    }

    pub fn blobs(&self) -> &BlobStore {
        &self.blobs
    }

    pub fn scanner(&self) -> Arc<PiiScanner> {
        self.scanner
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn progress_of(&self, file: LogFileId) -> Option<u64> {
        self.progress
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&file)
            .map(|p| p.load(Ordering::Relaxed))
    }

    fn with_progress(&self, mut summary: LogFileSummary) -> LogFileSummary {
        if summary.state == LogState::Scanning {
            summary.progress_bytes = Some(self.progress_of(summary.id).unwrap_or(0));
        }
        summary
    }

    /// Removes blobs no file uses any more.
    fn collect_garbage(&self) {
        match self.db.collect_unused_blobs() {
            Ok(unused) => {
                for sha in unused {
                    if let Err(e) = self.blobs.remove(&sha) {
                        tracing::warn!(error = %e, "could not remove an unused blob");
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "blob collection failed"),
        }
    }

    /// Scans a received upload in the background.
    pub fn spawn_scan(self: &Arc<Self>, file: LogFileId, spool: Spool) {
        let logs = self.clone();
        let counter = Arc::new(AtomicU64::new(0));
        self.progress
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(file, counter.clone());
        tokio::spawn(async move {
            let permit = logs.scan_slot.acquire().await;
            let worker = logs.clone();
            let result =
                tokio::task::spawn_blocking(move || worker.scan(file, &spool, &counter)).await;
            drop(permit);
            let failure = match result {
                Ok(Ok(())) => None,
                Ok(Err(message)) => Some(message),
                Err(e) => {
                    tracing::error!(error = %e, "scan task failed");
                    Some("Scanning stopped unexpectedly; see the server log.".to_owned())
                }
            };
            if let Some(message) = failure
                && let Err(e) = logs.db.fail_scan(file, &message)
            {
                tracing::error!(error = %e, "could not record a failed scan");
            }
            logs.progress
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&file);
            logs.collect_garbage();
        });
    }

    /// Decodes, scans and stores one upload. The error is a message for the
    /// user.
    fn scan(&self, file: LogFileId, spool: &Spool, counter: &AtomicU64) -> Result<(), String> {
        let record = self.db.log_file(file).map_err(|e| e.message().to_owned())?;
        let reader = spool.reader().map_err(|e| blob_error(e).to_string())?;
        let counted = CountingReader {
            inner: reader,
            counter,
        };
        let scanner = self.scanner();
        let mut writer = self.blobs.writer().map_err(|e| blob_error(e).to_string())?;
        let mut pages = PageBreaker::new();
        let mut batch: Vec<NewSpan> = Vec::with_capacity(SPAN_BATCH);
        let mut findings = 0u64;
        // Placeholders are numbered in file order now, so the preview shows
        // the very placeholders applying will write.
        let mut map = self
            .db
            .pseudonyms(record.summary.issue_id)
            .map_err(|e| e.message().to_owned())?;
        let max_text = self.max_upload.saturating_mul(4).max(1 << 30);
        let decoded = decode_and_scan(counted, &scanner, max_text, |segment, located| {
            writer
                .write(segment.text.as_bytes())
                .map_err(|e| PipelineError::Sink(Box::new(e)))?;
            pages.feed(&segment.text);
            for l in located {
                let rel = (l.span.start - segment.offset)..(l.span.end - segment.offset);
                let value = segment.text.get(rel).unwrap_or_default().to_owned();
                map.placeholder_for(l.span.kind, &value);
                findings += 1;
                batch.push(NewSpan {
                    kind: l.span.kind,
                    start: l.span.start as u64,
                    end: l.span.end as u64,
                    line: l.line,
                    value,
                    source: SpanSource::Detected,
                    decision: Decision::Pending,
                });
            }
            if batch.len() >= SPAN_BATCH {
                self.db
                    .insert_spans(file, &batch, self.clock.now())
                    .map_err(|e| PipelineError::Sink(Box::new(e)))?;
                batch.clear();
            }
            Ok(())
        })
        .map_err(|e| match e {
            PipelineError::Sink(inner) => match inner.downcast::<BlobError>() {
                Ok(blob) => blob_error(*blob).to_string(),
                Err(other) => other.to_string(),
            },
            other => other.to_string(),
        })?;
        self.db
            .insert_spans(file, &batch, self.clock.now())
            .map_err(|e| e.message().to_owned())?;
        let stored = self
            .blobs
            .commit(writer)
            .map_err(|e| blob_error(e).to_string())?;
        self.db
            .save_pseudonyms(record.summary.issue_id, &map, self.clock.now())
            .map_err(|e| e.message().to_owned())?;
        let outcome = ScanOutcome {
            encoding: decoded.encoding,
            text_sha256: stored.sha256,
            text_bytes: decoded.text_bytes,
            line_count: decoded.lines,
            replaced: decoded.replaced,
            pages: pages.finish(),
        };
        self.db
            .finish_scan(file, &outcome, self.clock.now())
            .map_err(|e| e.message().to_owned())?;
        tracing::info!(
            file = %file,
            bytes = decoded.text_bytes,
            findings,
            "log scanned"
        );
        Ok(())
    }

    fn record(&self, file: LogFileId) -> Result<crate::store::logs::LogFileRecord, AppError> {
        Ok(self.db.log_file(file)?)
    }

    fn text_blob(
        &self,
        record: &crate::store::logs::LogFileRecord,
    ) -> Result<crate::blobs::BlobReader, AppError> {
        let sha = record
            .text_blob
            .as_deref()
            .ok_or_else(|| AppError::Conflict("This file has no scanned text yet.".to_owned()))?;
        self.blobs.reader(sha).map_err(blob_error)
    }

    fn require_review(summary: &LogFileSummary) -> Result<(), AppError> {
        match summary.state {
            LogState::Review => Ok(()),
            LogState::Redacted => Err(AppError::Conflict(
                "The review was applied. Reopen it to change findings.".to_owned(),
            )),
            LogState::Scanning => Err(AppError::Conflict(
                "The file is still being scanned.".to_owned(),
            )),
            LogState::Failed => Err(AppError::Conflict(
                "The file could not be read; upload it again.".to_owned(),
            )),
        }
    }

    /// The redacted copy's content, for download.
    pub fn redacted_reader(
        &self,
        file: LogFileId,
    ) -> Result<(LogFileSummary, crate::blobs::BlobReader), AppError> {
        let record = self.record(file)?;
        let sha = record
            .redacted_blob
            .as_deref()
            .ok_or_else(|| AppError::Conflict("This file has not been redacted yet.".to_owned()))?;
        let reader = self.blobs.reader(sha).map_err(blob_error)?;
        Ok((record.summary, reader))
    }

    fn save_config(&self, config: ScannerConfig) -> Result<(), AppError> {
        let scanner =
            PiiScanner::new(config.clone()).map_err(|e| AppError::BadRequest(e.to_string()))?;
        let text = serde_json::to_string(&config)
            .map_err(|_| AppError::Unavailable("Settings could not be saved.".to_owned()))?;
        self.db
            .set_setting(PII_CONFIG_SETTING, &text, self.clock.now())?;
        *self.scanner.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(scanner);
        Ok(())
    }
}

struct CountingReader<'a, R> {
    inner: R,
    counter: &'a AtomicU64,
}

impl<R: Read> Read for CountingReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.counter.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// `line` with redacting findings replaced by their placeholders. A
/// finding that began on an earlier line leaves no placeholder here.
fn redact_line(
    line: &str,
    line_start: u64,
    spans: &[StoredSpan],
    map: &mut PseudonymMap,
) -> String {
    let line_end = line_start + line.len() as u64;
    let mut out = String::with_capacity(line.len());
    let mut pos = 0usize;
    for s in spans {
        if s.end <= line_start || s.start >= line_end || !s.decision.redacts() {
            continue;
        }
        let start = usize::try_from(s.start.saturating_sub(line_start)).unwrap_or(0);
        let end = usize::try_from(s.end.min(line_end) - line_start).unwrap_or(line.len());
        if start < pos || !line.is_char_boundary(start) || !line.is_char_boundary(end) {
            continue;
        }
        out.push_str(&line[pos..start]);
        if s.start >= line_start {
            out.push_str(&map.placeholder_for(s.kind, &s.value));
        }
        pos = end;
    }
    out.push_str(&line[pos..]);
    out
}

/// The redacting findings of a file, by position, fetched in batches.
struct SpanBatches<'a> {
    db: &'a Database,
    file: LogFileId,
    after: Option<u64>,
    batch: std::collections::VecDeque<StoredSpan>,
    done: bool,
    failure: &'a mut Option<StoreError>,
}

impl Iterator for SpanBatches<'_> {
    type Item = StoredSpan;

    fn next(&mut self) -> Option<StoredSpan> {
        if self.batch.is_empty() && !self.done {
            match self.db.redacting_spans_after(self.file, self.after, 10_000) {
                Ok(batch) => {
                    self.done = batch.len() < 10_000;
                    self.after = batch.last().map(|s| s.start).or(self.after);
                    self.batch = batch.into();
                }
                Err(e) => {
                    *self.failure = Some(e);
                    self.done = true;
                }
            }
        }
        self.batch.pop_front()
    }
}

/// Rewrites `reader`'s text with `spans` replaced by placeholders, chunk by
/// chunk, into `write`. Spans are sorted and do not overlap.
fn redact_stream(
    mut reader: impl Read,
    spans: impl Iterator<Item = StoredSpan>,
    map: &mut PseudonymMap,
    mut write: impl FnMut(&[u8]) -> Result<(), BlobError>,
) -> Result<(), BlobError> {
    let mut spans = spans.peekable();
    let mut buffer: Vec<u8> = Vec::new();
    let mut buffer_start = 0u64;
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let n = reader.read(&mut chunk).map_err(BlobError::Io)?;
        buffer.extend_from_slice(&chunk[..n]);
        let buffer_end = buffer_start + buffer.len() as u64;
        let mut pos = 0usize;
        while let Some(span) = spans.peek() {
            if span.end > buffer_end && n > 0 {
                break;
            }
            let start = usize::try_from(span.start.saturating_sub(buffer_start)).unwrap_or(0);
            let end = usize::try_from(span.end.min(buffer_end) - buffer_start).unwrap_or(0);
            if start >= pos {
                write(&buffer[pos..start])?;
                write(map.placeholder_for(span.kind, &span.value).as_bytes())?;
                pos = end;
            }
            spans.next();
        }
        // Keep from the next span's start (it may continue in the next
        // chunk); write the rest.
        let keep_from = spans
            .peek()
            .map(|s| usize::try_from(s.start.saturating_sub(buffer_start)).unwrap_or(0))
            .unwrap_or(buffer.len())
            .clamp(pos, buffer.len());
        write(&buffer[pos..keep_from])?;
        buffer.drain(..keep_from);
        buffer_start += keep_from as u64;
        if n == 0 {
            write(&buffer)?;
            return Ok(());
        }
    }
}

impl LogService for Logs {
    fn list(&self, issue: IssueId) -> Result<Vec<LogFileSummary>, AppError> {
        Ok(self
            .db
            .log_files(issue)?
            .into_iter()
            .map(|s| self.with_progress(s))
            .collect())
    }

    fn get(&self, file: LogFileId) -> Result<LogFileSummary, AppError> {
        Ok(self.with_progress(self.record(file)?.summary))
    }

    fn groups(&self, file: LogFileId) -> Result<Vec<TypeGroup>, AppError> {
        Ok(self.db.finding_groups(file)?)
    }

    fn page(&self, file: LogFileId, at: PageAt) -> Result<LogPage, AppError> {
        let (issue, state, text_blob, pages) = self.db.log_file_brief(file)?;
        if !matches!(state, LogState::Review | LogState::Redacted) {
            return Err(AppError::Conflict(
                "The file has no text to show yet.".to_owned(),
            ));
        }
        let page_count = pages.max(1);
        let n = match at {
            PageAt::Page(n) => n.min(page_count - 1),
            PageAt::Line(line) => self.db.page_of_line(file, line)?,
        };
        let Some(info) = self.db.log_page(file, n)? else {
            return Ok(LogPage {
                page: 0,
                page_count,
                lines: Vec::new(),
            });
        };
        let sha = text_blob
            .ok_or_else(|| AppError::Conflict("This file has no scanned text yet.".to_owned()))?;
        let bytes = self
            .blobs
            .reader(&sha)
            .and_then(|mut r| r.read_range(info.start, info.end))
            .map_err(blob_error)?;
        let text = String::from_utf8(bytes)
            .map_err(|_| blob_error(BlobError::Damaged("page".to_owned())))?;
        let spans = self.db.spans_between(file, info.start, info.end)?;
        let mut map = self.db.pseudonyms(issue)?;
        let tuples: Vec<_> = spans
            .iter()
            .map(|s| (s.id, s.kind, s.start, s.end, s.decision))
            .collect();
        let mut lines = Vec::new();
        let mut offset = info.start;
        for (number, raw) in (info.first_line..).zip(text.split_inclusive('\n')) {
            let line = raw.strip_suffix('\n').unwrap_or(raw);
            let line = line.strip_suffix('\r').unwrap_or(line);
            lines.push(ViewLine {
                number,
                segments: tftsr_core::logs::review::segments(line, offset, &tuples),
                redacted: Some(redact_line(line, offset, &spans, &mut map)),
            });
            offset += raw.len() as u64;
        }
        Ok(LogPage {
            page: n,
            page_count,
            lines,
        })
    }

    fn decide(
        &self,
        file: LogFileId,
        scope: DecisionScope,
        decision: Decision,
    ) -> Result<u64, AppError> {
        Ok(self.db.decide(file, &scope, decision, self.clock.now())?)
    }

    fn add_manual(&self, file: LogFileId, kind: PiiType, value: &str) -> Result<u64, AppError> {
        if value.trim().is_empty() {
            return Err(AppError::BadRequest("Enter the text to redact.".to_owned()));
        }
        if value.len() > limits::MANUAL_VALUE_MAX || value.contains('\n') {
            return Err(AppError::BadRequest(format!(
                "A manual redaction is one line of at most {} bytes.",
                limits::MANUAL_VALUE_MAX
            )));
        }
        let record = self.record(file)?;
        Self::require_review(&record.summary)?;
        let mut taken: Vec<(u64, u64)> = Vec::new();
        self.db.for_each_span(file, |s| {
            taken.push((s.start, s.end));
            Ok(())
        })?;
        let mut reader = self.text_blob(&record)?;
        let needle = value.as_bytes();
        let mut found = Vec::new();
        let mut lines = LineCounter::new();
        let mut window: Vec<u8> = Vec::new();
        let mut window_start = 0u64;
        let mut chunk = vec![0u8; 64 * 1024];
        let mut scanned_to = 0u64;
        loop {
            let n = reader.read(&mut chunk).map_err(|e| {
                tracing::error!(error = %e, "reading a log blob");
                AppError::Unavailable("The log content could not be read.".to_owned())
            })?;
            if n == 0 {
                break;
            }
            window.extend_from_slice(&chunk[..n]);
            let text = String::from_utf8_lossy(&window);
            let mut from = usize::try_from(scanned_to - window_start).unwrap_or(0);
            while let Some(i) = window.get(from..).and_then(|w| find(w, needle)) {
                let start = window_start + (from + i) as u64;
                let end = start + needle.len() as u64;
                let free = !taken.iter().any(|&(s, e)| s < end && start < e);
                if free {
                    let line = lines.line_at(&text, window_start, start);
                    found.push(NewSpan {
                        kind,
                        start,
                        end,
                        line,
                        value: value.to_owned(),
                        source: SpanSource::Manual,
                        decision: Decision::Approved,
                    });
                    taken.push((start, end));
                }
                from += i + needle.len();
            }
            // Keep the last needle.len() - 1 bytes: a match may straddle.
            let keep = needle.len().saturating_sub(1).min(window.len());
            let cut = window.len() - keep;
            scanned_to = (window_start + from as u64).max(window_start + cut as u64);
            lines.skip_to(&text, window_start, window_start + cut as u64);
            window.drain(..cut);
            window_start += cut as u64;
        }
        let now = self.clock.now();
        self.db.insert_spans(file, &found, now)?;
        if !found.is_empty() {
            let mut map = self.db.pseudonyms(record.summary.issue_id)?;
            map.placeholder_for(kind, value);
            self.db
                .save_pseudonyms(record.summary.issue_id, &map, now)?;
        }
        Ok(found.len() as u64)
    }

    fn allow_value(&self, file: LogFileId, finding: i64) -> Result<u64, AppError> {
        let record = self.record(file)?;
        Self::require_review(&record.summary)?;
        let (_, value) = self.db.span_value(file, finding)?;
        let mut config = self.scanner().config().clone();
        if !config.allowlist.values.contains(&value) {
            config.allowlist.values.push(value.clone());
            self.save_config(config)?;
            let digest = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(value.as_bytes()));
            self.db.audit(
                &NewAuditEntry {
                    action: AuditAction::PiiSettingsChanged,
                    entity_type: "pii_settings",
                    entity_id: "allowlist".to_owned(),
                    details: json!({ "added_value_sha256": digest, "from_log_file": file.to_string() }),
                },
                self.clock.now(),
            )?;
        }
        Ok(self.db.decide(
            file,
            &DecisionScope::SameValue { like: finding },
            Decision::Rejected,
            self.clock.now(),
        )?)
    }

    fn apply(&self, file: LogFileId) -> Result<(), AppError> {
        let record = self.record(file)?;
        Self::require_review(&record.summary)?;
        let mut map = self.db.pseudonyms(record.summary.issue_id)?;
        let reader = self.text_blob(&record)?;
        let mut writer = self.blobs.writer().map_err(blob_error)?;
        // Findings are fetched in batches as the text streams past, so a
        // file with millions of them is redacted in bounded memory.
        let mut failure: Option<StoreError> = None;
        let spans = SpanBatches {
            db: &self.db,
            file,
            after: None,
            batch: std::collections::VecDeque::new(),
            done: false,
            failure: &mut failure,
        };
        redact_stream(reader, spans, &mut map, |bytes| writer.write(bytes)).map_err(blob_error)?;
        if let Some(e) = failure {
            return Err(e.into());
        }
        let stored = self.blobs.commit(writer).map_err(blob_error)?;
        self.db.mark_redacted(
            &record.summary,
            &stored.sha256,
            stored.size,
            &map,
            self.clock.now(),
        )?;
        Ok(())
    }

    fn pii_settings(&self) -> Result<PiiSettingsText, AppError> {
        Ok(PiiSettingsText::from_config(self.scanner().config()))
    }

    fn save_pii_settings(&self, settings: PiiSettingsText) -> Result<(), AppError> {
        let config = settings
            .parse(self.scanner().config())
            .map_err(|e| AppError::BadRequest(e.to_string()))?;
        let counts = json!({
            "allow_values": config.allowlist.values.len(),
            "allow_patterns": config.allowlist.patterns.len(),
            "custom_patterns": config.custom_patterns.len(),
            "internal_domains": config.internal_domains.len(),
        });
        self.save_config(config)?;
        self.db.audit(
            &NewAuditEntry {
                action: AuditAction::PiiSettingsChanged,
                entity_type: "pii_settings",
                entity_id: "scanner".to_owned(),
                details: counts,
            },
            self.clock.now(),
        )?;
        Ok(())
    }

    fn reopen(&self, file: LogFileId) -> Result<(), AppError> {
        self.db.reopen_review(file)?;
        self.collect_garbage();
        Ok(())
    }

    fn delete(&self, file: LogFileId) -> Result<(), AppError> {
        let record = self.record(file)?;
        if record.summary.state == LogState::Scanning {
            return Err(AppError::Conflict(
                "The file is still being scanned; remove it when scanning ends.".to_owned(),
            ));
        }
        self.db.delete_log_file(&record.summary, self.clock.now())?;
        self.collect_garbage();
        Ok(())
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return None;
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(id: i64, start: u64, end: u64, kind: PiiType, value: &str) -> StoredSpan {
        StoredSpan {
            id,
            kind,
            start,
            end,
            value: value.to_owned(),
            decision: Decision::Approved,
        }
    }

    #[test]
    fn redact_stream_handles_spans_across_chunk_boundaries() {
        let mut text = "x".repeat(65_530);
        text.push_str("alice@example.org and more ");
        text.push_str(&"y".repeat(70_000));
        text.push_str(" alice@example.org");
        let a = 65_530u64;
        let b = (text.len() - "alice@example.org".len()) as u64;
        let spans = vec![
            span(1, a, a + 17, PiiType::Email, "alice@example.org"),
            span(2, b, b + 17, PiiType::Email, "alice@example.org"),
        ];
        let mut out = Vec::new();
        redact_stream(
            text.as_bytes(),
            spans.into_iter(),
            &mut PseudonymMap::new(),
            |bytes| {
                out.extend_from_slice(bytes);
                Ok(())
            },
        )
        .expect("redacts");
        let out = String::from_utf8(out).expect("utf-8");
        assert!(!out.contains("alice@example.org"));
        assert_eq!(out.matches("[EMAIL_1]").count(), 2);
        assert_eq!(out.len(), text.len() - 2 * 17 + 2 * 9);
    }

    #[test]
    fn redact_line_puts_placeholders_once() {
        let spans = vec![
            span(1, 10, 20, PiiType::PrivateKey, "KEYDATA..."),
            span(2, 27, 30, PiiType::Username, "bob"),
        ];
        let mut map = PseudonymMap::new();
        assert_eq!(
            redact_line("0123456789AB", 0, &spans, &mut map),
            "0123456789[PRIVATE_KEY_1]"
        );
        assert_eq!(
            redact_line("CDEFGHIJ user bob", 13, &spans, &mut map),
            "J user [USERNAME_1]"
        );
    }
}
