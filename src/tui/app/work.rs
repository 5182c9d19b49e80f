//! The work over every flow done in slices of at most [`WORK_BUDGET`](super::WORK_BUDGET):
//! rebuilding the shown list (filter, marks-only, order) and building the stories, and
//! `refresh`, which keeps the selection and the flow view in bounds after each update. The
//! keys, prompts and arriving flows that ask for a rebuild live in their own modules.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use super::{App, CLOCK_EVERY, Rebuild, Tab, WORK_BUDGET};
use crate::flow::Flow;
use crate::tui::command::Order;

impl App {
    /// Starts rebuilding the shown list from the whole store (the filter, the marks-only switch
    /// or the order changed), replacing a rebuild under way. The first slice runs in this
    /// update; the old list stays until the last.
    pub(super) fn start_rebuild(&mut self, what: &'static str, announce: bool) {
        let announce = announce || self.rebuild.as_ref().is_some_and(|r| r.announce);
        let what = match &self.rebuild {
            Some(r) if r.what == "filtering" => "filtering",
            _ => what,
        };
        self.rebuild = Some(Rebuild {
            what,
            next: self.store.first_seq(),
            done: 0,
            passed: Vec::new(),
            names: HashMap::new(),
            scanned: false,
            announce,
        });
    }

    /// Runs one slice of the pending work: the rebuild, then the stories, within
    /// [`WORK_BUDGET`] together.
    pub(super) fn work(&mut self) {
        // The one clock reading in `update`: it bounds how long a slice runs, and so affects
        // when a result appears, never what it is.
        let start = Instant::now();
        let mut spent = 0usize;
        self.step_rebuild(start, &mut spent);
        self.step_stories(start, &mut spent);
    }

    /// True when a slice that has tested `n` flows (of `spent` in this update) must stop.
    fn slice_over(&self, start: Instant, spent: usize) -> bool {
        spent >= self.slice_flows
            || (spent > 0 && spent.is_multiple_of(CLOCK_EVERY) && start.elapsed() >= WORK_BUDGET)
    }

    fn step_rebuild(&mut self, start: Instant, spent: &mut usize) {
        let Some(mut job) = self.rebuild.take() else {
            return;
        };
        let end = self.store.end_seq();
        let mut seq = job.next.max(self.store.first_seq());
        while seq < end && !self.slice_over(start, *spent) {
            if let Some(f) = self.store.at_seq(seq)
                && self.passes(f)
            {
                let k = self.order_key(f, &mut job.names);
                job.passed.push((f.id, k));
            }
            seq += 1;
            job.done += 1;
            *spent += 1;
        }
        job.next = seq;
        if seq < end {
            self.rebuild = Some(job);
            return;
        }
        // Sorting 100,000 keys takes a few milliseconds: when this slice has used half its
        // budget, the sort gets a slice of its own.
        if self.order != Order::Time && !job.scanned && start.elapsed() >= WORK_BUDGET / 2 {
            job.scanned = true;
            self.rebuild = Some(job);
            return;
        }
        let keep = self.selected_id();
        let mut passed = job.passed;
        if matches!(self.order, Order::Method | Order::Host) {
            // Keys are names numbered by first appearance: renumber them in name order.
            let mut names: Vec<(&String, u64)> = job.names.iter().map(|(n, k)| (n, *k)).collect();
            names.sort_unstable();
            let mut rank = vec![0u64; names.len()];
            for (r, (_, k)) in names.iter().enumerate() {
                if let Some(slot) = usize::try_from(*k).ok().and_then(|k| rank.get_mut(k)) {
                    *slot = r as u64;
                }
            }
            for (_, k) in &mut passed {
                *k = usize::try_from(*k)
                    .ok()
                    .and_then(|i| rank.get(i).copied())
                    .unwrap_or(u64::MAX);
            }
        }
        if self.order != Order::Time {
            // Stable: equal keys stay in store order.
            passed.sort_by_key(|(_, k)| *k);
        }
        self.shown = passed.into_iter().map(|(id, _)| id).collect();
        self.reselect(keep);
        if self.follow {
            self.select_newest();
        }
        if job.announce {
            self.message = Some(format!(
                "{} of {} flows match",
                self.shown.len(),
                self.store.len()
            ));
        }
    }

    /// What the list is sorted by, as a number: the status (no response last), the response
    /// size, the duration in microseconds, or for method and host the name's number in `names`
    /// (by first appearance; [`App::step_rebuild`] renumbers them in name order at the end).
    /// Arrival order needs no key.
    pub(super) fn order_key(&self, f: &Flow, names: &mut HashMap<String, u64>) -> u64 {
        let mut name = |n: std::borrow::Cow<'_, str>| {
            if let Some(k) = names.get(n.as_ref()) {
                return *k;
            }
            let k = names.len() as u64;
            names.insert(n.into_owned(), k);
            k
        };
        match self.order {
            Order::Time => 0,
            Order::Method => name(std::borrow::Cow::Borrowed(f.request.method.as_str())),
            Order::Host => name(std::borrow::Cow::Owned(f.host())),
            Order::Status => f
                .response()
                .map_or(u64::from(u16::MAX), |r| u64::from(r.status)),
            Order::Size => f.response().map_or(0, |r| r.body.size),
            Order::Duration => f.timings.total.map_or(0, |ms| (ms * 1000.0) as u64),
        }
    }

    fn step_stories(&mut self, start: Instant, spent: &mut usize) {
        let Some(mut job) = self.story_job.take() else {
            return;
        };
        loop {
            let end = self.store.end_seq();
            let mut seq = job.next.max(self.store.first_seq());
            while seq < end && !self.slice_over(start, *spent) {
                if let Some(f) = self.store.at_seq(seq)
                    && let Some(facts) = self.digests.get(&f.id).and_then(|d| d.story.as_ref())
                {
                    if job.placing {
                        job.builder.place(f.id, facts);
                    } else {
                        job.builder.learn(f.id, facts);
                    }
                }
                seq += 1;
                job.done += 1;
                *spent += 1;
            }
            job.next = seq;
            if seq < end {
                self.story_job = Some(job);
                self.fill_story();
                return;
            }
            if job.placing {
                break;
            }
            job.placing = true;
            job.next = self.store.first_seq();
            job.done = 0;
        }
        self.stories = Some(Arc::new(job.builder.finish()));
        self.fill_story();
    }

    pub(super) fn refresh(&mut self) {
        let len = self.shown.len();
        self.selected = self.selected.min(len.saturating_sub(1));
        let h = self.list_height();
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + h {
            self.offset = self.selected + 1 - h;
        }
        self.offset = self.offset.min(len.saturating_sub(1));
        let ch = self.content_height();
        if let Some(v) = &mut self.view {
            let i = v.tab.index();
            if v.tab == Tab::Decoded {
                v.cursor = v.cursor.min(v.tree.len().saturating_sub(1));
                if let Some(s) = v.scroll.get_mut(i) {
                    if v.cursor < *s {
                        *s = v.cursor;
                    } else if v.cursor >= *s + ch {
                        *s = v.cursor + 1 - ch;
                    }
                }
            }
            let max = v.line_count().saturating_sub(1);
            if let Some(s) = v.scroll.get_mut(i) {
                *s = (*s).min(max);
            }
        }
    }
}
