//! Guards for what an integration test starts: the in-process reference server and child
//! processes stop when the guard is dropped, so a failing assertion (which unwinds through the
//! test) never leaves a server listening or a child running. Every test that starts the
//! reference server does it through [`ReferenceServer::start`]; every test that spawns a
//! long-running `idscope` child wraps it in a [`ChildGuard`].

use std::ops::{Deref, DerefMut};

use idscope::fixture::{self, FixtureConfig, FixtureHandle};

/// The reference server (`idscope::fixture`), running in the current tokio runtime until
/// [`ReferenceServer::shutdown`] or until the guard is dropped. Dropping it drops the server's
/// stop channel, which ends its accept loop and closes the listener.
pub struct ReferenceServer {
    handle: Option<FixtureHandle>,
}

impl ReferenceServer {
    /// Starts the server with `cfg`; panics (failing the test) when it cannot start.
    pub async fn start(cfg: FixtureConfig) -> Self {
        let handle = fixture::start(cfg)
            .await
            .unwrap_or_else(|e| panic!("the reference server did not start: {e:#}"));
        ReferenceServer {
            handle: Some(handle),
        }
    }

    /// Stops accepting, lets open requests finish, and waits until the server task has ended.
    pub async fn shutdown(mut self) {
        if let Some(h) = self.handle.take() {
            h.shutdown().await;
        }
    }
}

impl Deref for ReferenceServer {
    type Target = FixtureHandle;

    fn deref(&self) -> &FixtureHandle {
        // Only `shutdown` and `drop` take the handle, and both consume the guard.
        self.handle
            .as_ref()
            .expect("the reference server is running")
    }
}

impl Drop for ReferenceServer {
    fn drop(&mut self) {
        // Dropping the handle drops the stop sender: the accept loop ends and the listener
        // closes. Waiting for the task is not possible here (no async drop), and the runtime
        // cancels what is left of it when the test's runtime ends.
        drop(self.handle.take());
    }
}

/// A child process that can be stopped from a destructor.
pub trait Kill {
    /// Kills the process (SIGKILL) and reaps it; errors (already exited) are ignored.
    fn kill_and_reap(&mut self);
}

impl Kill for std::process::Child {
    fn kill_and_reap(&mut self) {
        let _ = self.kill();
        let _ = self.wait();
    }
}

impl Kill for Box<dyn portable_pty::Child + Send + Sync> {
    fn kill_and_reap(&mut self) {
        let _ = self.kill();
        let _ = self.wait();
    }
}

/// A child process that is killed when the guard is dropped, unless the test took it back with
/// [`ChildGuard::into_inner`] (to signal it and collect its output itself).
pub struct ChildGuard<C: Kill = std::process::Child> {
    child: Option<C>,
}

impl<C: Kill> ChildGuard<C> {
    /// Guards `child` from now on.
    pub fn new(child: C) -> Self {
        ChildGuard { child: Some(child) }
    }

    /// The child, no longer guarded.
    pub fn into_inner(mut self) -> C {
        self.child.take().expect("the child is guarded")
    }
}

impl<C: Kill> Deref for ChildGuard<C> {
    type Target = C;

    fn deref(&self) -> &C {
        self.child.as_ref().expect("the child is guarded")
    }
}

impl<C: Kill> DerefMut for ChildGuard<C> {
    fn deref_mut(&mut self) -> &mut C {
        self.child.as_mut().expect("the child is guarded")
    }
}

impl<C: Kill> Drop for ChildGuard<C> {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill_and_reap();
        }
    }
}

/// The lines `out` (a child's standard output) gives, up to and including the first for which
/// `last` holds; panics when none comes within a minute. The rest is read in the background, so
/// the child never blocks on a full pipe after the test stops listening.
pub fn lines_until(out: std::process::ChildStdout, last: impl Fn(&str) -> bool) -> Vec<String> {
    use std::io::{BufRead as _, BufReader};
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut lines = Vec::new();
    loop {
        let line = rx
            .recv_timeout(std::time::Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("the child did not print the line awaited: {lines:#?}"));
        let done = last(&line);
        lines.push(line);
        if done {
            return lines;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::SocketAddr;
    use std::time::{Duration, Instant};

    /// True once nothing accepts connections on `addr` (polled for up to 10 s).
    async fn stops_listening(addr: SocketAddr) -> bool {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if tokio::net::TcpStream::connect(addr).await.is_err() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }

    /// A test that panics while the server runs: the runtime stays up (the panic ends only the
    /// task), and the server must still stop listening.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failing_test_leaves_no_reference_server_listening() {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let test = tokio::spawn(async move {
            let server = ReferenceServer::start(FixtureConfig {
                seed: Some(7),
                ..FixtureConfig::default()
            })
            .await;
            tx.send(server.addr()).unwrap();
            tokio::time::sleep(Duration::from_millis(100)).await;
            panic!("an assertion failed");
        });
        let addr = rx.await.unwrap();
        assert!(tokio::net::TcpStream::connect(addr).await.is_ok());
        let panicked = test.await.unwrap_err();
        assert!(panicked.is_panic());
        assert!(stops_listening(addr).await, "{addr} still accepts");
    }

    #[test]
    fn a_dropped_child_guard_kills_the_child() {
        let child = std::process::Command::new("sleep")
            .arg("600")
            .spawn()
            .unwrap();
        let pid = child.id();
        drop(ChildGuard::new(child));
        // Reaped by the guard: the pid no longer names a running `sleep`.
        let alive = std::fs::read_to_string(format!("/proc/{pid}/status")).is_ok_and(|s| {
            s.lines()
                .any(|l| l.starts_with("State:") && !l.contains("Z"))
        });
        assert!(!alive, "sleep {pid} still runs");
    }
}
