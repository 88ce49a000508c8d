//! Runs the real `scimap` binary with time and memory oracles: a wall-clock kill timeout (a
//! no-hang guard, never a timed assertion), the child's exact peak RSS, and a crash check.
//!
//! Peak RSS is `ru_maxrss` of the reaped process. A child spawned straight from the test
//! process would inherit the test process's own high-water mark (at `execve` the kernel folds
//! the old address space's peak into the new process's `maxrss`, and `posix_spawn` runs the
//! child on the parent's address space), so every measurement would be at least as large as
//! the biggest input any test generated. Instead `setsid --fork` (util-linux) forks a shell
//! from its own small address space and exits at once; the shell writes its pid and execs the
//! binary, and the test process, made a child subreaper, inherits the orphan and reaps it with
//! `wait4`.
#![allow(dead_code)] // Each test file uses its own part of the harness.

use std::ffi::OsString;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Once;
use std::time::{Duration, Instant};

pub const MIB: u64 = 1 << 20;

/// Generous: the guard catches hangs (minutes, or forever), not slowness of a debug build on a
/// loaded machine.
pub const TIMEOUT: Duration = Duration::from_secs(60);

/// Memory a child may reach before it is killed when the test sets no bound of its own: keeps a
/// runaway child from taking the shared machine down.
pub const SAFETY_RSS: u64 = 2048 * MIB;

/// Output kept per stream; the rest is counted, not stored.
pub const KEEP: usize = 4 << 20;

/// The bound SECURITY.md promises for `bulk`: a fixed overhead plus, per worker thread, one
/// input line and one record's evaluation budget.
pub fn rss_bound(line_bytes: u64, memory: u64, threads: u64) -> u64 {
    64 * MIB + (line_bytes + memory) * threads
}

/// How the child ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    Exited(i32),
    Signaled(i32),
    /// Killed by the harness after its timeout (`TIMEOUT` unless set).
    TimedOut,
    /// Killed by the harness when its RSS passed the cap (the value seen, in bytes).
    OverMemory(u64),
}

/// One stream of the child: its first `KEEP` bytes and its full length.
#[derive(Debug, Default)]
pub struct Captured {
    pub kept: Vec<u8>,
    pub len: u64,
}

impl Captured {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.kept).into_owned()
    }

    fn read_from(mut from: impl Read) -> Captured {
        let mut out = Captured::default();
        let mut buf = vec![0; 64 << 10];
        loop {
            match from.read(&mut buf) {
                Ok(0) | Err(_) => return out,
                Ok(n) => {
                    out.len += n as u64;
                    let room = KEEP.saturating_sub(out.kept.len()).min(n);
                    out.kept.extend_from_slice(&buf[..room]);
                }
            }
        }
    }
}

/// What a run of the binary did.
#[derive(Debug)]
pub struct Run {
    pub what: String,
    pub end: End,
    pub stdout: Captured,
    pub stderr: Captured,
    /// Peak resident set size of the scimap process, in bytes.
    pub peak_rss: u64,
    pub elapsed: Duration,
}

impl Run {
    /// The crash oracle: a hang, a signal (abort, segfault), exit 101, a panic or a stack
    /// overflow message fails the test.
    pub fn assert_no_crash(&self) -> &Run {
        let stderr = self.stderr.text();
        let crashed = match self.end {
            End::Exited(101) | End::Signaled(_) | End::TimedOut | End::OverMemory(_) => true,
            End::Exited(_) => {
                stderr.contains("panicked") || stderr.contains("overflowed its stack")
            }
        };
        assert!(
            !crashed,
            "{}: {:?} after {:.1?} (peak RSS {} MiB); stderr: {}",
            self.what,
            self.end,
            self.elapsed,
            self.peak_rss / MIB,
            excerpt(&stderr)
        );
        self
    }

    /// The memory oracle.
    pub fn assert_rss_within(&self, bound: u64) -> &Run {
        assert!(
            self.peak_rss <= bound && !matches!(self.end, End::OverMemory(_)),
            "{}: peak RSS {:.1} MiB is over the bound of {:.1} MiB ({:?})",
            self.what,
            self.peak_rss as f64 / MIB as f64,
            bound as f64 / MIB as f64,
            self.end
        );
        self
    }

    pub fn code(&self) -> i32 {
        match self.end {
            End::Exited(code) => code,
            other => panic!("{}: did not exit: {other:?}", self.what),
        }
    }

    /// Stdout as lines, each parsed as JSON (bulk output).
    pub fn json_lines(&self) -> Vec<serde_json::Value> {
        assert_eq!(
            self.stdout.len,
            self.stdout.kept.len() as u64,
            "{}: stdout was too long to keep",
            self.what
        );
        self.stdout
            .kept
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| {
                serde_json::from_slice(l).unwrap_or_else(|e| {
                    panic!("{}: an output line is not JSON ({e}): {}", self.what, {
                        excerpt(&String::from_utf8_lossy(l))
                    })
                })
            })
            .collect()
    }
}

/// The first and last few hundred characters of a long text.
pub fn excerpt(text: &str) -> String {
    const EDGE: usize = 600;
    if text.len() <= 2 * EDGE {
        return text.to_string();
    }
    let head = text.char_indices().nth(EDGE).map_or(text.len(), |(i, _)| i);
    let tail = text
        .char_indices()
        .rev()
        .nth(EDGE)
        .map_or(0, |(i, _)| i)
        .max(head);
    format!(
        "{} …[{} bytes]… {}",
        &text[..head],
        tail - head,
        &text[tail..]
    )
}

enum Input {
    Null,
    Bytes(Vec<u8>),
    File(PathBuf),
}

/// A run of the `scimap` binary being set up.
pub struct Scimap {
    args: Vec<OsString>,
    input: Input,
    rss_cap: u64,
    timeout: Duration,
}

/// `scimap ARGS…`.
pub fn scimap<I, S>(args: I) -> Scimap
where
    I: IntoIterator<Item = S>,
    S: Into<OsString>,
{
    Scimap {
        args: args.into_iter().map(Into::into).collect(),
        input: Input::Null,
        rss_cap: SAFETY_RSS,
        timeout: TIMEOUT,
    }
}

impl Scimap {
    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Scimap {
        self.input = Input::Bytes(bytes.into());
        self
    }

    pub fn stdin_file(mut self, path: &Path) -> Scimap {
        self.input = Input::File(path.to_path_buf());
        self
    }

    /// Kills the child as soon as its RSS passes `bytes` (the test's bound: it fails anyway).
    pub fn rss_cap(mut self, bytes: u64) -> Scimap {
        self.rss_cap = bytes.min(SAFETY_RSS);
        self
    }

    /// Kills the child after `limit` instead of `TIMEOUT` (a no-hang guard of the test's own).
    pub fn timeout(mut self, limit: Duration) -> Scimap {
        self.timeout = limit;
        self
    }

    pub fn run(self) -> Run {
        become_subreaper();
        let what = format!(
            "scimap {}",
            self.args
                .iter()
                .map(|a| excerpt(&a.to_string_lossy()))
                .collect::<Vec<_>>()
                .join(" ")
        );
        let pid_file = tempfile::NamedTempFile::new().expect("a pid file");
        let stdin = match &self.input {
            Input::Null => Stdio::null(),
            Input::Bytes(_) => Stdio::piped(),
            Input::File(path) => Stdio::from(std::fs::File::open(path).expect("the stdin file")),
        };
        // `setsid --fork` forks the shell and exits at once: the shell (then the binary it
        // execs) is orphaned as soon as it starts, and its parent never waits for anything.
        // A shell's own background job was now and then reaped before the harness could
        // (wait4: ECHILD, about one `cargo test --test exhaustion` in three).
        let mut shell = Command::new("setsid")
            .args(["--fork", "/bin/sh", "-c"])
            .arg(r#"echo $$ > "$SCIMAP_PID_FILE"; exec "$0" "$@""#)
            .arg(env!("CARGO_BIN_EXE_scimap"))
            .args(&self.args)
            .env("SCIMAP_PID_FILE", pid_file.path())
            .env("NO_COLOR", "1")
            .env("RUST_BACKTRACE", "0")
            .stdin(stdin)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("setsid starts");
        let writer = match (self.input, shell.stdin.take()) {
            (Input::Bytes(bytes), Some(mut pipe)) => Some(std::thread::spawn(move || {
                // A child that exits early closes the pipe; that is not the test's concern.
                let _ = pipe.write_all(&bytes);
            })),
            _ => None,
        };
        let out = shell.stdout.take().expect("piped stdout");
        let err = shell.stderr.take().expect("piped stderr");
        let out_reader = std::thread::spawn(move || Captured::read_from(out));
        let err_reader = std::thread::spawn(move || Captured::read_from(err));
        let started = Instant::now();
        let shell_status = shell.wait().expect("waiting for setsid");
        assert!(shell_status.success(), "setsid failed: {shell_status}");
        // The orphan writes its pid when it runs, maybe after `setsid` has exited; the newline
        // `echo` ends it with tells a whole pid from one still being written.
        let pid: libc::pid_t = loop {
            let written = std::fs::read_to_string(pid_file.path()).expect("the pid file");
            if let Some(Ok(pid)) = written.strip_suffix('\n').map(str::parse) {
                break pid;
            }
            assert!(started.elapsed() < self.timeout, "no pid from the shell");
            std::thread::sleep(Duration::from_millis(1));
        };

        let mut status: libc::c_int = 0;
        // SAFETY: rusage is plain data, valid when zeroed.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        let mut killed = None;
        loop {
            // SAFETY: `pid` is our (adopted) child, not yet reaped; the pointers are valid.
            let reaped = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
            assert!(reaped >= 0, "wait4: {}", std::io::Error::last_os_error());
            if reaped == pid {
                break;
            }
            if killed.is_none() {
                if started.elapsed() > self.timeout {
                    killed = Some(End::TimedOut);
                } else if let Some(rss) = current_rss(pid).filter(|&rss| rss > self.rss_cap) {
                    killed = Some(End::OverMemory(rss));
                }
                if killed.is_some() {
                    // SAFETY: the child is not reaped yet, so the pid is still ours.
                    unsafe { libc::kill(pid, libc::SIGKILL) };
                }
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let elapsed = started.elapsed();
        if let Some(writer) = writer {
            let _ = writer.join();
        }
        let stdout = out_reader.join().expect("stdout reader");
        let stderr = err_reader.join().expect("stderr reader");
        let end = killed.unwrap_or(if libc::WIFEXITED(status) {
            End::Exited(libc::WEXITSTATUS(status))
        } else {
            End::Signaled(libc::WTERMSIG(status))
        });
        Run {
            what,
            end,
            stdout,
            stderr,
            // Linux reports kibibytes.
            peak_rss: u64::try_from(usage.ru_maxrss).unwrap_or(0) * 1024,
            elapsed,
        }
    }
}

fn become_subreaper() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // SAFETY: a process-wide flag; orphans of this process's descendants are reparented
        // here, and this harness reaps the ones it starts.
        let done = unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
        assert_eq!(done, 0, "prctl: {}", std::io::Error::last_os_error());
    });
}

/// The current RSS of a running process, from /proc.
fn current_rss(pid: libc::pid_t) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// A temporary file holding `bytes`.
pub fn temp_file(bytes: &[u8], suffix: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::Builder::new()
        .suffix(suffix)
        .tempfile()
        .expect("temp file");
    f.write_all(bytes).expect("write temp file");
    f.flush().expect("flush temp file");
    f
}

/// `--limit NAME=VALUE` arguments.
pub fn limit_args(limits: &[(&str, u64)]) -> Vec<String> {
    limits
        .iter()
        .flat_map(|(name, value)| ["--limit".to_string(), format!("{name}={value}")])
        .collect()
}
