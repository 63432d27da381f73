//! Where a job runs: in a long-lived child process (`buzon extract-worker`)
//! under `RLIMIT_AS` and `RLIMIT_CPU`, killed and replaced when it overruns
//! its deadline — or, where no buzon binary is known (unit tests, benches
//! that parse in-process), on a helper thread of this process.
//!
//! Children are pooled: a calling thread takes an idle one (or starts one
//! the first time a PDF or ZIP comes), and puts it back after the job, so a
//! mail without PDFs or ZIPs never starts a process, and one with them costs
//! a round trip over two pipes, not a spawn.
//!
//! A child that *dies* during a job (a limit's signal, an abort on a failed
//! allocation, a crash) is replaced and the job tried once more in the fresh
//! one; a second death is reported to the caller, which records
//! `extractor_died`. A child that is merely *late* is killed at the
//! deadline, and the job is not retried (`pdf_timeout`, `zip_timeout`).

use std::io::{self, BufReader, BufWriter, Read, Write};
use std::os::fd::AsFd;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::{Mutex, OnceLock, mpsc};
use std::time::{Duration, Instant};

use rustix::process::{Pid, Resource, Rlimit};

use super::protocol::{self, Done, Event, Job, Member, What};
use super::{Budget, pdf, zip};
use crate::mail::Problem;

/// Environment variable naming the program to run as the extractor
/// (`buzon` itself), or `in-process` to extract on a helper thread.
pub const PROGRAM_ENV: &str = "BUZON_EXTRACTOR";

/// The hidden subcommand the child runs.
pub const SUBCOMMAND: &str = "extract-worker";

/// Where extraction runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// In children running `PROGRAM extract-worker`.
    Child(PathBuf),
    /// On a helper thread of this process: bounded by the same counts, but
    /// with no memory limit, and a late job is abandoned rather than killed.
    InProcess,
}

static MODE: OnceLock<Mode> = OnceLock::new();

fn from_env() -> Option<Mode> {
    let v = std::env::var_os(PROGRAM_ENV)?;
    Some(if v.is_empty() || v == "in-process" { Mode::InProcess } else { Mode::Child(PathBuf::from(v)) })
}

/// Choose where extraction runs, before the first job (later calls change
/// nothing and return false). The buzon binary calls [`use_current_exe`];
/// tests and benches that parse in-process may point at the binary here.
pub fn set_mode(mode: Mode) -> bool {
    MODE.set(mode).is_ok()
}

/// For the buzon binary: extract in children of this very program, unless
/// `BUZON_EXTRACTOR` says otherwise.
pub fn use_current_exe() {
    let mode = from_env().unwrap_or_else(|| match std::env::current_exe() {
        Ok(p) => Mode::Child(p),
        Err(_) => Mode::InProcess,
    });
    let _ = MODE.set(mode);
}

/// Where extraction runs now (chosen on first use: `BUZON_EXTRACTOR`, else
/// in-process — a library user has no buzon binary unless it says so).
pub fn mode() -> &'static Mode {
    MODE.get_or_init(|| from_env().unwrap_or(Mode::InProcess))
}

/// One try at a job.
#[derive(Debug)]
pub enum Attempt {
    Done(Done, Vec<Member>),
    /// Past the deadline: killed (or abandoned). Members received so far.
    TimedOut(Vec<Member>),
    /// The extractor died; how.
    Died(String),
}

/// A job's end, retries included.
#[derive(Debug)]
pub enum Ran {
    Done(Done, Vec<Member>),
    TimedOut(Vec<Member>),
    /// Died in two extractors in a row.
    Died {
        first: String,
        second: String,
    },
}

/// Try, and after a death try once more (in a fresh extractor): the retry
/// policy, apart from processes so that it can be tested.
pub fn retried(mut attempt: impl FnMut() -> Attempt) -> Ran {
    let first = match attempt() {
        Attempt::Done(d, m) => return Ran::Done(d, m),
        Attempt::TimedOut(m) => return Ran::TimedOut(m),
        Attempt::Died(how) => how,
    };
    tracing::warn!("The attachment extractor died ({first}); trying the attachment once more in a fresh one");
    match attempt() {
        Attempt::Done(d, m) => Ran::Done(d, m),
        Attempt::TimedOut(m) => Ran::TimedOut(m),
        Attempt::Died(second) => Ran::Died { first, second },
    }
}

/// Run a job where [`mode`] says, within `timeout`.
pub fn run(job: &Job, data: &[u8], timeout: Duration) -> Ran {
    match mode() {
        Mode::Child(program) => retried(|| in_child(program, job, data, timeout)),
        Mode::InProcess => retried(|| in_process(job, data, timeout)),
    }
}

// ---------------------------------------------------------------------------
// The work itself (in the child, or on the helper thread).

/// Do a job here. Kept members go to `emit` as soon as they are read;
/// `used` says how much of the mail's budget went, even after a panic.
fn execute(
    job: &Job,
    data: &[u8],
    emit: &mut dyn FnMut(Member) -> io::Result<()>,
    used: &mut Budget,
) -> io::Result<Done> {
    let mut problems = Vec::new();
    let text = match job.what {
        What::Pdf => pdf::text(data, &job.limits, &mut problems),
        What::Zip => {
            let mut reader = zip::Reader { limits: &job.limits, left: job.budget, used: Budget::ZERO, emit };
            let text = reader.archive(&job.name, data, 1, &mut problems);
            *used = reader.used;
            text?
        }
    };
    Ok(Done { text, problems, used: *used })
}

/// [`execute`] under `catch_unwind`: a panic in a reader becomes a problem.
fn execute_caught(job: &Job, data: &[u8], emit: &mut dyn FnMut(Member) -> io::Result<()>) -> io::Result<Done> {
    let mut used = Budget::ZERO;
    match catch_unwind(AssertUnwindSafe(|| execute(job, data, emit, &mut used))) {
        Ok(r) => r,
        Err(_) => {
            let code = if job.what == What::Pdf { "pdf_unreadable" } else { "zip_unreadable" };
            Ok(Done { text: String::new(), problems: vec![Problem::new(code, "the reader failed on this file")], used })
        }
    }
}

/// Largest job accepted by the child (an attachment is at most a mail).
const MAX_JOB_BYTES: u64 = 1 << 30;

/// The child's side: read jobs from `input`, answer on `output`, until
/// `input` ends. Each job gets its own CPU allowance (`RLIMIT_CPU`, soft).
pub fn serve(input: impl Read, output: impl Write) -> io::Result<()> {
    serve_jobs(input, output, true)
}

fn serve_jobs(input: impl Read, output: impl Write, limit_cpu: bool) -> io::Result<()> {
    let mut input = BufReader::with_capacity(256 * 1024, input);
    let mut output = BufWriter::with_capacity(256 * 1024, output);
    loop {
        let job: Job = match protocol::read_head(&mut input) {
            Ok(j) => j,
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(()),
            Err(e) => return Err(e),
        };
        let data = protocol::read_blob(&mut input, job.data_len, MAX_JOB_BYTES)?;
        if limit_cpu {
            limit_own_cpu(job.cpu_seconds);
        }
        let done = execute_caught(&job, &data, &mut |m| protocol::write_member(&mut output, m))?;
        drop(data);
        protocol::write_head(&mut output, &Event::Done(done))?;
        output.flush()?;
    }
}

/// Allow this process `seconds` more CPU from now: past them the kernel
/// sends SIGXCPU, which ends it. (The limit counts the process's whole
/// life, so a long-lived child moves it forward at each job.)
fn limit_own_cpu(seconds: u64) {
    let used = rustix::time::clock_gettime(rustix::time::ClockId::ProcessCPUTime);
    let old = rustix::process::getrlimit(Resource::Cpu);
    let soft = (used.tv_sec.max(0) as u64).saturating_add(seconds).saturating_add(1);
    let soft = old.maximum.map_or(soft, |max| soft.min(max));
    let _ = rustix::process::setrlimit(Resource::Cpu, Rlimit { current: Some(soft), maximum: old.maximum });
}

// ---------------------------------------------------------------------------
// Children.

/// One extractor process.
struct Worker {
    child: Child,
    stdin: ChildStdin,
    stdout: ChildStdout,
    /// The `RLIMIT_AS` it runs under (a job with other limits gets another).
    address_space: u64,
}

/// Idle extractors, shared by every calling thread.
static IDLE: Mutex<Vec<Worker>> = Mutex::new(Vec::new());

impl Worker {
    fn start(program: &PathBuf, address_space: u64) -> io::Result<Worker> {
        let mut child = Command::new(program)
            .arg(SUBCOMMAND)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            // Not in the terminal's process group: Ctrl-C stops buzon
            // between mails, it does not kill the extractor mid-file.
            .process_group(0)
            // mimalloc reserves 1 GiB of address space at start-up by
            // default, before the limit below is set: the allocations of a
            // job would then fit in that reservation whatever the limit.
            // Smaller arenas, mapped as they are needed, meet the limit.
            .env("MIMALLOC_ARENA_RESERVE", "64MiB")
            // Each job frees all it allocated: returning it to the system at
            // once (buzon's own setting) would fault it back in at the next
            // job. Keep it half a second.
            .env("MIMALLOC_PURGE_DELAY", "500")
            .spawn()?;
        let pid = Pid::from_child(&child);
        // Limits are set before the first job is written, so no file is
        // ever read without them.
        let limits = [
            (Resource::As, address_space),
            // A child killed by a limit must not write a core file.
            (Resource::Core, 0),
        ];
        for (resource, value) in limits {
            let r = Rlimit { current: Some(value), maximum: Some(value) };
            if let Err(e) = rustix::process::prlimit(Some(pid), resource, r) {
                let _ = child.kill();
                let _ = child.wait();
                return Err(io::Error::other(format!("cannot limit the extractor: {e}")));
            }
        }
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(io::Error::other("the extractor has no pipes"));
        };
        for fd in [stdin.as_fd(), stdout.as_fd()] {
            let flags = rustix::fs::fcntl_getfl(fd)?;
            rustix::fs::fcntl_setfl(fd, flags | rustix::fs::OFlags::NONBLOCK)?;
        }
        Ok(Worker { child, stdin, stdout, address_space })
    }

    /// Write the job and read the reply, all before `deadline`.
    fn exec(&mut self, job: &Job, data: &[u8], deadline: Instant) -> Result<(Done, Vec<Member>), Failure> {
        let mut members = Vec::new();
        let sent = (|| {
            let mut w = BufWriter::with_capacity(64 * 1024, Timed { fd: &mut self.stdin, deadline });
            protocol::write_head(&mut w, job)?;
            w.write_all(data)?;
            w.flush()
        })();
        if let Err(e) = sent {
            return Err(Failure::from_io(e, members));
        }
        let mut r = BufReader::with_capacity(64 * 1024, Timed { fd: &mut self.stdout, deadline });
        loop {
            match protocol::read_head::<_, Event>(&mut r) {
                Ok(Event::Member(head)) => {
                    let len = head.data_len;
                    match protocol::read_blob(&mut r, len, job.limits.max_zip_member_bytes) {
                        Ok(data) => members.push(head.with_data(data)),
                        Err(e) => return Err(Failure::from_io(e, members)),
                    }
                }
                Ok(Event::Done(done)) => return Ok((done, members)),
                Err(e) => return Err(Failure::from_io(e, members)),
            }
        }
    }

    /// Kill (if it still runs) and reap; say how it ended.
    fn end(mut self) -> String {
        // A child whose pipe just closed is exiting: give it a moment to
        // become reapable, so its own cause of death is what we report.
        let until = Instant::now() + Duration::from_millis(500);
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => return describe(status),
                Ok(None) if Instant::now() < until => std::thread::sleep(Duration::from_millis(5)),
                _ => break,
            }
        }
        let _ = self.child.kill();
        match self.child.wait() {
            Ok(status) => describe(status),
            Err(e) => format!("cannot reap it: {e}"),
        }
    }

    /// Kill at once and reap (the job ran out of time).
    fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

enum Failure {
    TimedOut(Vec<Member>),
    Broken(io::Error),
}

impl Failure {
    fn from_io(e: io::Error, members: Vec<Member>) -> Failure {
        if e.kind() == io::ErrorKind::TimedOut { Failure::TimedOut(members) } else { Failure::Broken(e) }
    }
}

/// How a child ended, in words.
fn describe(status: ExitStatus) -> String {
    match (status.signal(), status.code()) {
        (Some(9), _) => "killed (SIGKILL)".into(),
        (Some(6), _) => "aborted (SIGABRT: an allocation failed under its memory limit?)".into(),
        (Some(24), _) => "over its CPU limit (SIGXCPU)".into(),
        (Some(11), _) => "crashed (SIGSEGV)".into(),
        (Some(s), _) => format!("killed by signal {s}"),
        (None, Some(c)) => format!("exited with status {c}"),
        (None, None) => "ended".into(),
    }
}

fn take_idle(address_space: u64) -> Option<Worker> {
    let mut idle = IDLE.lock().ok()?;
    let i = idle.iter().position(|w| w.address_space == address_space)?;
    Some(idle.swap_remove(i))
}

fn put_back(w: Worker) {
    match IDLE.lock() {
        Ok(mut idle) => idle.push(w),
        Err(_) => w.kill(),
    }
}

fn in_child(program: &PathBuf, job: &Job, data: &[u8], timeout: Duration) -> Attempt {
    let deadline = Instant::now() + timeout;
    let address_space = job.limits.worker_address_space;
    let mut worker = match take_idle(address_space) {
        Some(w) => w,
        None => match Worker::start(program, address_space) {
            Ok(w) => w,
            Err(e) => {
                // No extractor to be had (the binary moved during an
                // upgrade?): the mail is still read, here, within the counts.
                static WARNED: std::sync::Once = std::sync::Once::new();
                WARNED.call_once(|| {
                    tracing::warn!(
                        "Cannot start the attachment extractor {}: {e}; extracting in-process until it can be",
                        program.display()
                    );
                });
                return in_process(job, data, timeout);
            }
        },
    };
    match worker.exec(job, data, deadline) {
        Ok((done, members)) => {
            put_back(worker);
            Attempt::Done(done, members)
        }
        Err(Failure::TimedOut(members)) => {
            worker.kill();
            Attempt::TimedOut(members)
        }
        Err(Failure::Broken(e)) => {
            let how = worker.end();
            Attempt::Died(format!("{how}; {e}"))
        }
    }
}

/// Stop every idle extractor and reap it (at exit: their peak memory then
/// counts in buzon's own resource usage, as `time -v` reports it).
pub fn shutdown() {
    let idle: Vec<Worker> = match IDLE.lock() {
        Ok(mut idle) => idle.drain(..).collect(),
        Err(_) => return,
    };
    for w in idle {
        let Worker { mut child, stdin, stdout, .. } = w;
        drop(stdin); // end of input: the child returns from `serve`
        drop(stdout);
        let until = Instant::now() + Duration::from_secs(1);
        while matches!(child.try_wait(), Ok(None)) && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(2));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// A pipe end read or written only until a deadline (the fd is
/// non-blocking; `poll` waits for it).
struct Timed<'a, F> {
    fd: &'a mut F,
    deadline: Instant,
}

impl<F: AsFd> Timed<'_, F> {
    fn wait(&self, flags: rustix::event::PollFlags) -> io::Result<()> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::ErrorKind::TimedOut.into());
        }
        let ts = rustix::event::Timespec { tv_sec: left.as_secs() as i64, tv_nsec: i64::from(left.subsec_nanos()) };
        let mut fds = [rustix::event::PollFd::new(&*self.fd, flags)];
        match rustix::event::poll(&mut fds, Some(&ts)) {
            Ok(0) => Err(io::ErrorKind::TimedOut.into()),
            Ok(_) | Err(rustix::io::Errno::INTR) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

impl<F: Read + AsFd> Read for Timed<'_, F> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.fd.read(buf) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.wait(rustix::event::PollFlags::IN)?,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                r => return r,
            }
        }
    }
}

impl<F: Write + AsFd> Write for Timed<'_, F> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        loop {
            match self.fd.write(buf) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.wait(rustix::event::PollFlags::OUT)?,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                r => return r,
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        self.fd.flush()
    }
}

// ---------------------------------------------------------------------------
// In-process.

type LocalJob = (Job, Vec<u8>);
type LocalResult = io::Result<(Done, Vec<Member>)>;

/// A long-lived helper thread per calling thread: the job runs off the
/// caller's stack, under `catch_unwind` and a deadline, without a thread
/// spawn per file.
struct Local {
    jobs: mpsc::Sender<LocalJob>,
    results: mpsc::Receiver<LocalResult>,
}

impl Local {
    fn start() -> io::Result<Local> {
        let (jobs, job_rx) = mpsc::channel::<LocalJob>();
        let (res_tx, results) = mpsc::channel::<LocalResult>();
        std::thread::Builder::new().name("extract".into()).spawn(move || {
            for (job, data) in job_rx {
                let mut members = Vec::new();
                let done = execute_caught(&job, &data, &mut |m| {
                    members.push(m);
                    Ok(())
                });
                if res_tx.send(done.map(|d| (d, members))).is_err() {
                    break;
                }
            }
        })?;
        Ok(Local { jobs, results })
    }
}

thread_local! {
    static LOCAL: std::cell::RefCell<Option<Local>> = const { std::cell::RefCell::new(None) };
}

fn in_process(job: &Job, data: &[u8], timeout: Duration) -> Attempt {
    LOCAL.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            *slot = Local::start().ok();
        }
        let Some(local) = slot.as_ref() else {
            return Attempt::Died("cannot start the extraction thread".into());
        };
        if local.jobs.send((job.clone(), data.to_vec())).is_err() {
            *slot = None;
            return Attempt::Died("the extraction thread is gone".into());
        }
        match local.results.recv_timeout(timeout) {
            Ok(Ok((done, members))) => Attempt::Done(done, members),
            Ok(Err(e)) => Attempt::Died(e.to_string()),
            Err(mpsc::RecvTimeoutError::Timeout) => {
                // Abandon the late thread (every job is bounded by counts,
                // so it ends); the next job gets a fresh one.
                *slot = None;
                Attempt::TimedOut(Vec::new())
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                *slot = None;
                Attempt::Died("the extraction thread is gone".into())
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn done(text: &str) -> Attempt {
        Attempt::Done(Done { text: text.into(), ..Done::default() }, Vec::new())
    }

    #[test]
    fn a_death_is_retried_once_and_a_second_death_is_reported() {
        // (attempts the extractor makes, what the caller gets)
        let cases: Vec<(Vec<Attempt>, &str)> = vec![
            (vec![done("ok")], "done ok"),
            (vec![Attempt::Died("SIGABRT".into()), done("second")], "done second"),
            (vec![Attempt::Died("SIGABRT".into()), Attempt::Died("SIGKILL".into())], "died SIGABRT SIGKILL"),
            (vec![Attempt::TimedOut(Vec::new())], "timed out"),
            (vec![Attempt::Died("SIGXCPU".into()), Attempt::TimedOut(Vec::new())], "timed out"),
        ];
        for (script, want) in cases {
            let n = script.len();
            let mut script = script.into_iter();
            let mut calls = 0;
            let ran = retried(|| {
                calls += 1;
                script.next().unwrap_or_else(|| panic!("more attempts than scripted"))
            });
            let got = match ran {
                Ran::Done(d, _) => format!("done {}", d.text),
                Ran::TimedOut(_) => "timed out".into(),
                Ran::Died { first, second } => format!("died {first} {second}"),
            };
            assert_eq!(got, want);
            assert_eq!(calls, n, "{want}: one attempt per scripted one, never a third");
        }
    }

    #[test]
    fn the_child_loop_answers_jobs_until_its_input_ends() {
        let limits = super::super::Limits::default();
        let job =
            Job { what: What::Pdf, name: "x.pdf".into(), limits, budget: Budget::ZERO, cpu_seconds: 10, data_len: 5 };
        let mut input = Vec::new();
        for _ in 0..2 {
            protocol::write_head(&mut input, &job).unwrap_or_else(|e| panic!("{e}"));
            input.extend_from_slice(b"nopdf");
        }
        let mut output = Vec::new();
        serve_jobs(input.as_slice(), &mut output, false).unwrap_or_else(|e| panic!("{e}"));
        let mut r = output.as_slice();
        for _ in 0..2 {
            let Ok(Event::Done(d)) = protocol::read_head::<_, Event>(&mut r) else { panic!("one Done per job") };
            assert_eq!(d.problems[0].code, "pdf_unreadable");
        }
        assert!(r.is_empty());
    }

    #[test]
    fn a_dead_child_is_described_by_its_signal() {
        use std::os::unix::process::ExitStatusExt;
        assert!(describe(ExitStatus::from_raw(9)).contains("SIGKILL"));
        assert!(describe(ExitStatus::from_raw(6)).contains("SIGABRT"));
        assert!(describe(ExitStatus::from_raw(24)).contains("SIGXCPU"));
        assert_eq!(describe(ExitStatus::from_raw(3 << 8)), "exited with status 3");
    }
}
