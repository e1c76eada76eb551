//! Progress of uploads and downloads on stderr: a bar on a terminal, plain lines
//! otherwise, nothing with `--json`.

use std::io::IsTerminal;
use std::sync::{Arc, Mutex};

use govstore_client::progress::Progress;
use govstore_core::Digest;
use indicatif::{ProgressBar, ProgressStyle};

use crate::output::bytes;

#[derive(Debug, Clone, Copy)]
enum Mode {
    Bar { colour: bool },
    Lines,
    Quiet,
}

/// Reports progress of a transfer in one direction (`verb`: "uploading",
/// "downloading").
#[derive(Debug)]
pub struct CliProgress {
    mode: Mode,
    verb: &'static str,
    bar: Mutex<Option<ProgressBar>>,
}

impl CliProgress {
    pub fn shared(json: bool, verb: &'static str) -> Arc<dyn Progress> {
        let mode = if json {
            Mode::Quiet
        } else if std::io::stderr().is_terminal() {
            Mode::Bar {
                colour: std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
            }
        } else {
            Mode::Lines
        };
        Arc::new(Self {
            mode,
            verb,
            bar: Mutex::new(None),
        })
    }

    fn with_bar(&self, f: impl FnOnce(&mut Option<ProgressBar>)) {
        if let Ok(mut guard) = self.bar.lock() {
            f(&mut guard);
        }
    }
}

impl Progress for CliProgress {
    fn step(&self, message: &str) {
        if !matches!(self.mode, Mode::Quiet) {
            eprintln!("{message}");
        }
    }

    fn blob_start(&self, label: &str, _digest: &Digest, size: u64) {
        match self.mode {
            Mode::Quiet => {}
            Mode::Lines => eprintln!("{} {label} ({})", self.verb, bytes(size)),
            Mode::Bar { colour } => {
                let template = if colour {
                    "{msg:>16} [{bar:30.cyan/blue}] {bytes}/{total_bytes} {bytes_per_sec}"
                } else {
                    "{msg:>16} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}"
                };
                let bar = ProgressBar::new(size);
                if let Ok(style) = ProgressStyle::with_template(template) {
                    bar.set_style(style.progress_chars("=> "));
                }
                bar.set_message(label.to_owned());
                self.with_bar(|slot| *slot = Some(bar));
            }
        }
    }

    fn blob_skipped(&self, label: &str, _digest: &Digest, _size: u64) {
        if !matches!(self.mode, Mode::Quiet) {
            eprintln!("{label} is already in the registry");
        }
    }

    fn blob_advance(&self, n: u64) {
        if let Mode::Bar { .. } = self.mode {
            self.with_bar(|slot| {
                if let Some(bar) = slot {
                    bar.inc(n);
                }
            });
        }
    }

    fn blob_done(&self, label: &str) {
        if let Mode::Bar { .. } = self.mode {
            self.with_bar(|slot| {
                if let Some(bar) = slot.take() {
                    bar.finish_and_clear();
                }
            });
            eprintln!("{} {label}: done", self.verb);
        }
    }
}
