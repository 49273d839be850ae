//! `tftsr scan` and `tftsr redact`: the PII engine on the command line,
//! streaming, without opening the database (they use the built-in
//! detectors with the default configuration).
//!
//! Offsets are byte offsets into the decoded UTF-8 text, which for a UTF-8
//! file is the file itself (a leading byte-order mark is accounted for).
//! For UTF-16, Latin-1 or gzip input they refer to the UTF-8 text that
//! `tftsr redact` would write.

use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::Path;

use serde::Serialize;
use tftsr_core::pii::{PiiScanner, PseudonymMap};

use crate::cli::CliError;
use crate::config::{RedactArgs, ScanArgs};
use crate::logs::pipeline::{PipelineError, decode_and_scan};

#[derive(Serialize)]
struct Finding<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    start: u64,
    end: u64,
    line: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<&'a str>,
}

/// Reads the first bytes of `input` to see whether it starts with a UTF-8
/// byte-order mark (which decoding drops, shifting offsets by 3); returns
/// the shift and the whole input again.
fn bom_shift(mut input: Box<dyn Read>, path: &Path) -> Result<(u64, impl Read), CliError> {
    let mut prefix = [0u8; 3];
    let mut got = 0;
    while got < 3 {
        match input.read(&mut prefix[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                return Err(CliError::Input(format!(
                    "cannot read {}: {e}",
                    path.display()
                )));
            }
        }
    }
    let shift = if prefix[..got] == [0xEF, 0xBB, 0xBF] {
        3
    } else {
        0
    };
    Ok((shift, io::Cursor::new(prefix[..got].to_vec()).chain(input)))
}

fn open_input(path: &Path) -> Result<Box<dyn Read>, CliError> {
    if path.as_os_str() == "-" {
        return Ok(Box::new(io::stdin().lock()));
    }
    let file = File::open(path)
        .map_err(|e| CliError::Input(format!("cannot read {}: {e}", path.display())))?;
    if file.metadata().is_ok_and(|m| m.is_dir()) {
        return Err(CliError::Input(format!(
            "cannot read {}: it is a directory",
            path.display()
        )));
    }
    Ok(Box::new(file))
}

fn scanner() -> Result<PiiScanner, CliError> {
    PiiScanner::with_defaults().map_err(|e| CliError::Input(e.to_string()))
}

fn pipeline_error(path: &Path, e: PipelineError) -> CliError {
    match e {
        PipelineError::Sink(inner) => match inner.downcast::<io::Error>() {
            Ok(io) if io.kind() == io::ErrorKind::BrokenPipe => CliError::Input(String::new()),
            Ok(io) => CliError::Input(format!("cannot write the output: {io}")),
            Err(other) => CliError::Input(other.to_string()),
        },
        other => CliError::Input(format!("{}: {other}", path.display())),
    }
}

/// Limit on decoded text for the CLI: generous, but a gzip bomb stops.
const MAX_TEXT: u64 = 64 * 1024 * 1024 * 1024;

pub fn scan(args: &ScanArgs) -> Result<(), CliError> {
    let scanner = scanner()?;
    let (shift, input) = bom_shift(open_input(&args.file)?, &args.file)?;
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    decode_and_scan(input, &scanner, MAX_TEXT, |segment, located| {
        for l in located {
            let rel = (l.span.start - segment.offset)..(l.span.end - segment.offset);
            let finding = Finding {
                kind: l.span.kind.as_str(),
                start: l.span.start as u64 + shift,
                end: l.span.end as u64 + shift,
                line: l.line,
                value: args
                    .show_values
                    .then(|| segment.text.get(rel).unwrap_or_default()),
            };
            serde_json::to_writer(&mut out, &finding)
                .map_err(|e| PipelineError::Sink(Box::new(io::Error::from(e))))?;
            out.write_all(b"\n")
                .map_err(|e| PipelineError::Sink(Box::new(e)))?;
        }
        Ok(())
    })
    .map_err(|e| pipeline_error(&args.file, e))?;
    out.flush()
        .map_err(|e| CliError::Input(format!("cannot write the output: {e}")))?;
    Ok(())
}

pub fn redact(args: &RedactArgs) -> Result<(), CliError> {
    let scanner = scanner()?;
    let input = open_input(&args.file)?;
    let sink: Box<dyn Write> = match &args.output {
        Some(path) if path.as_os_str() != "-" => Box::new(
            File::create(path)
                .map_err(|e| CliError::Input(format!("cannot write {}: {e}", path.display())))?,
        ),
        _ => Box::new(io::stdout().lock()),
    };
    let mut out = BufWriter::new(sink);
    let mut map = PseudonymMap::new();
    decode_and_scan(input, &scanner, MAX_TEXT, |segment, _| {
        let text = if args.mask {
            mask(&segment.text, &segment.relative_spans())
        } else {
            segment.redact(&mut map)
        };
        out.write_all(text.as_bytes())
            .map_err(|e| PipelineError::Sink(Box::new(e)))
    })
    .map_err(|e| pipeline_error(&args.file, e))?;
    out.flush()
        .map_err(|e| CliError::Input(format!("cannot write the output: {e}")))?;
    Ok(())
}

/// Each finding replaced by its bare type, `[EMAIL]`.
fn mask(text: &str, spans: &[tftsr_core::pii::PiiSpan]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pos = 0;
    for s in spans {
        if s.start < pos {
            continue;
        }
        out.push_str(&text[pos..s.start]);
        out.push('[');
        out.push_str(s.kind.as_str());
        out.push(']');
        pos = s.end;
    }
    out.push_str(&text[pos..]);
    out
}
