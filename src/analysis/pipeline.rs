//! An ordered parallel map for streaming work over a capture: one producer thread reads jobs, a
//! pool of worker threads (one per core) transforms them, and the calling thread consumes the
//! results in the order the producer sent them. `idscope analyze` uses it to decode and render
//! each flow; the TUI's capture loader uses it to decode each flow for its digest.
//!
//! Memory is bounded whatever the input: at most `window` jobs are between the producer and the
//! consumer (queued, being worked on, or waiting in the reorder buffer for an earlier, slower
//! one). The producer blocks for a free slot, and a slot comes back when the consumer has taken
//! the result in order. When the consumer stops early (an error, or nobody listens any more),
//! the workers and the producer see their channels close and stop too.
//!
//! This module knows nothing of flows; it only moves jobs and results between threads.

use std::collections::BTreeMap;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};

/// The most worker threads a pipeline starts, whatever the machine.
pub const MAX_WORKERS: usize = 8;

/// Worker threads for this machine: one per available core, at least one, at most
/// [`MAX_WORKERS`].
pub fn default_workers() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, MAX_WORKERS)
}

/// The producer's end: jobs sent here are worked on in parallel and consumed in this order.
#[derive(Debug)]
pub struct Feed<J> {
    jobs: SyncSender<(u64, J)>,
    slots: Receiver<()>,
    sent: u64,
}

impl<J> Feed<J> {
    /// Queues a job, waiting while the window is full. Returns false when the consumer has
    /// stopped: the producer should stop as well.
    pub fn send(&mut self, job: J) -> bool {
        if self.slots.recv().is_err() {
            return false;
        }
        if self.jobs.send((self.sent, job)).is_err() {
            return false;
        }
        self.sent += 1;
        true
    }

    /// How many jobs were sent so far.
    pub fn sent(&self) -> u64 {
        self.sent
    }
}

/// Runs `produce` on its own thread and `work` on `workers` threads, and hands every result to
/// `consume` on the calling thread, in the order `produce` sent the jobs. At most `window` jobs
/// are in flight. Returns what `produce` returned, or the first error of `consume` (which stops
/// the pipeline). A panic in the producer or a worker is resumed on the calling thread.
pub fn run<J, R, PR, E>(
    workers: usize,
    window: usize,
    produce: impl FnOnce(&mut Feed<J>) -> PR + Send,
    work: impl Fn(J) -> R + Sync,
    mut consume: impl FnMut(R) -> Result<(), E>,
) -> Result<PR, E>
where
    J: Send,
    R: Send,
    PR: Send,
{
    let workers = workers.max(1);
    let window = window.max(1);
    let (job_tx, job_rx) = sync_channel::<(u64, J)>(window);
    let job_rx = Arc::new(Mutex::new(job_rx));
    let (done_tx, done_rx) = sync_channel::<(u64, R)>(window);
    let (slot_tx, slot_rx) = sync_channel::<()>(window);
    for _ in 0..window {
        // The channel holds exactly `window` slots, so filling it cannot fail or block.
        let _ = slot_tx.try_send(());
    }
    let work = &work;
    std::thread::scope(|s| {
        for _ in 0..workers {
            let job_rx = Arc::clone(&job_rx);
            let done_tx = done_tx.clone();
            s.spawn(move || {
                loop {
                    let job = match job_rx.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => return,
                    };
                    let Ok((seq, job)) = job else { return };
                    if done_tx.send((seq, work(job))).is_err() {
                        return;
                    }
                }
            });
        }
        drop(done_tx);
        drop(job_rx);
        let producer = s.spawn(move || {
            let mut feed = Feed {
                jobs: job_tx,
                slots: slot_rx,
                sent: 0,
            };
            produce(&mut feed)
        });
        let consumed = consume_in_order(done_rx, &slot_tx, &mut consume);
        // Closing the slots wakes a producer waiting for one after an early stop.
        drop(slot_tx);
        let produced = match producer.join() {
            Ok(p) => p,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        consumed.map(|()| produced)
    })
}

fn consume_in_order<R, E>(
    done: Receiver<(u64, R)>,
    slots: &SyncSender<()>,
    consume: &mut impl FnMut(R) -> Result<(), E>,
) -> Result<(), E> {
    let mut pending: BTreeMap<u64, R> = BTreeMap::new();
    let mut next = 0u64;
    for (seq, r) in done {
        pending.insert(seq, r);
        while let Some(r) = pending.remove(&next) {
            next += 1;
            // Never full: at most `window` slots are out, and this returns one of them.
            let _ = slots.try_send(());
            consume(r)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[test]
    fn results_arrive_in_order_and_the_window_bounds_what_is_in_flight() {
        let in_flight = AtomicUsize::new(0);
        let max_in_flight = AtomicUsize::new(0);
        let mut seen = Vec::new();
        let produced = run(
            4,
            8,
            |feed: &mut Feed<u64>| {
                for i in 0..500u64 {
                    let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                    max_in_flight.fetch_max(now, Ordering::SeqCst);
                    if !feed.send(i) {
                        break;
                    }
                }
                feed.sent()
            },
            |i: u64| {
                // Uneven work so results come back out of order.
                if i.is_multiple_of(7) {
                    std::thread::sleep(Duration::from_micros(300));
                }
                i * 2
            },
            |r: u64| -> Result<(), ()> {
                in_flight.fetch_sub(1, Ordering::SeqCst);
                seen.push(r);
                Ok(())
            },
        );
        assert_eq!(produced, Ok(500));
        assert_eq!(seen, (0..500u64).map(|i| i * 2).collect::<Vec<_>>());
        // The window, plus the job the producer counts before waiting for a slot, plus the one
        // the consumer has freed a slot for but not yet counted off.
        assert!(
            max_in_flight.load(Ordering::SeqCst) <= 8 + 2,
            "{max_in_flight:?}"
        );
    }

    #[test]
    fn a_consumer_error_stops_the_producer_and_the_workers() {
        let mut taken = 0;
        let result = run(
            2,
            4,
            |feed: &mut Feed<u32>| {
                let mut n = 0;
                while n < 1_000_000 && feed.send(n) {
                    n += 1;
                }
                n
            },
            |i: u32| i,
            |i: u32| {
                taken += 1;
                if i == 10 { Err("stop") } else { Ok(()) }
            },
        );
        assert_eq!(result, Err("stop"));
        assert_eq!(taken, 11);
    }

    #[test]
    fn one_worker_and_a_window_of_one_still_finish() {
        let mut out = Vec::new();
        let r = run(
            1,
            1,
            |feed: &mut Feed<char>| "abc".chars().all(|c| feed.send(c)),
            |c: char| c.to_ascii_uppercase(),
            |c| -> Result<(), ()> {
                out.push(c);
                Ok(())
            },
        );
        assert_eq!(r, Ok(true));
        assert_eq!(out, vec!['A', 'B', 'C']);
    }
}
