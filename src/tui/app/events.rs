//! [`App::update`], the one pure transition, and what happens when flows arrive: a live
//! [`FlowEvent`](crate::flow::FlowEvent), a loaded batch or a replay result is decoded (or its
//! digest taken), stored, tested against the filter and admitted to the shown list, and evicted
//! flows are forgotten. Keys are dispatched in `keys`; the sliced work over every flow is in
//! `work`.

use std::collections::HashSet;
use std::sync::Arc;

use idscope_decoders::{Limits, Registry};

use super::{App, Control, Event, StoryJob};
use crate::analysis::digest::Digest;
use crate::analysis::{FlowReport, decode_flow, learn_trust};
use crate::filter::Subject;
use crate::flow::{Flow, FlowEvent, FlowId};
use crate::tui::command::Order;
use crate::tui::text::fit;

impl App {
    /// Applies one event. Pure: side effects come back as [`Control`]. A key or
    /// [`Event::Work`] also runs a slice of the pending work.
    pub fn update(&mut self, event: Event) -> Control {
        let works = matches!(event, Event::Key(_) | Event::Work);
        let control = match event {
            Event::Key(k) => self.on_key(k),
            Event::Resize(w, h) => {
                self.size = (w, h);
                self.rewrap();
                Control::Continue
            }
            Event::Tick(now) => {
                self.now = now;
                Control::Continue
            }
            Event::Flow(ev) => {
                self.on_flow_event(ev);
                Control::Continue
            }
            Event::Loaded(batch) => {
                self.on_loaded(batch);
                Control::Continue
            }
            Event::LoadDone(result) => {
                if let Some(l) = &mut self.loading {
                    l.done = true;
                }
                // Build the stories while the user looks at the list, so the Story tab is
                // ready when asked for.
                if self.stories.is_none() && self.story_job.is_none() {
                    self.story_job = Some(StoryJob::default());
                }
                match result {
                    Ok(Some(note)) => self.message = Some(note),
                    Ok(None) => {}
                    Err(e) => self.message = Some(format!("loading stopped: {e}")),
                }
                Control::Continue
            }
            Event::Replayed(flow) => {
                let mut flow = *flow;
                flow.id = self.store.next_id();
                let of = flow
                    .tags
                    .iter()
                    .find_map(|t| t.strip_prefix("replay-of:"))
                    .unwrap_or("?")
                    .to_string();
                self.message = Some(format!("replay of {of} is {}", flow.id));
                self.add_flows(vec![(flow, None)]);
                Control::Continue
            }
            Event::Notice(m) => {
                self.message = Some(m);
                Control::Continue
            }
            Event::Work => Control::Continue,
        };
        if works {
            self.work();
        }
        self.refresh();
        control
    }

    pub(super) fn decode(&mut self, flow: &Flow) -> Arc<FlowReport> {
        self.decodes += 1;
        Arc::new(decode_flow(
            flow,
            Registry::builtin(),
            &self.trust,
            Limits::default(),
        ))
    }

    fn on_flow_event(&mut self, ev: FlowEvent) {
        let applied = self.store.apply(ev);
        self.forget(&applied.evicted);
        let Some(id) = applied.changed else { return };
        let Some(flow) = self.store.get(id).cloned() else {
            return;
        };
        learn_trust(&flow, &mut self.trust);
        let report = self.decode(&flow);
        self.file_digest(id, Digest::of(&flow, &report));
        self.cache.put(id, report);
        self.invalidate_stories(applied.added);
        if applied.added {
            self.admit(&[id]);
        } else {
            self.recheck(id);
            if self.view.as_ref().is_some_and(|v| v.id == id) {
                self.open(id);
            }
        }
    }

    /// A shown flow changed (its response came): adds it to or removes it from the list as it
    /// now passes or not, or leaves it to the rebuild under way.
    fn recheck(&mut self, id: FlowId) {
        let now = self.store.get(id).is_some_and(|f| self.passes(f));
        let Some(seq) = self.store.seq(id) else {
            return;
        };
        if let Some(mut job) = self.rebuild.take() {
            // A flow the rebuild has not reached is tested when it gets there.
            if seq < job.next {
                let at = job
                    .passed
                    .binary_search_by_key(&seq, |(x, _)| self.store.seq(*x).unwrap_or(0));
                match (at, now, self.store.get(id)) {
                    (Ok(i), false, _) => {
                        job.passed.remove(i);
                    }
                    (Err(i), true, Some(f)) => {
                        let k = self.order_key(f, &mut job.names);
                        job.passed.insert(i, (id, k));
                    }
                    _ => {}
                }
            }
            self.rebuild = Some(job);
            return;
        }
        let keep = self.selected_id();
        if self.order == Order::Time {
            // The list is in store order: the flow goes where it belongs.
            let store = &self.store;
            let at = self
                .shown
                .binary_search_by_key(&seq, |x| store.seq(*x).unwrap_or(0));
            match (at, now) {
                (Ok(i), false) => {
                    self.shown.remove(i);
                }
                (Err(i), true) => self.shown.insert(i, id),
                _ => {}
            }
        } else {
            match (now, self.shown.iter().position(|x| *x == id)) {
                (true, None) => self.start_rebuild("sorting", false),
                (false, Some(p)) => {
                    self.shown.remove(p);
                }
                _ => {}
            }
        }
        self.reselect(keep);
    }

    /// Forgets the stories after flows changed. Flows appended while the first pass of a build
    /// runs are still fed to it; any other change starts the build over.
    fn invalidate_stories(&mut self, appended: bool) {
        self.stories = None;
        if let Some(job) = &self.story_job
            && (job.placing || !appended)
        {
            self.story_job = Some(StoryJob::default());
        }
    }

    fn on_loaded(&mut self, batch: Vec<(Flow, Digest)>) {
        if let Some(l) = &mut self.loading {
            l.flows += batch.len() as u64;
        }
        self.add_flows(batch.into_iter().map(|(f, d)| (f, Some(d))).collect());
    }

    fn add_flows(&mut self, flows: Vec<(Flow, Option<Digest>)>) {
        let mut ids = Vec::with_capacity(flows.len());
        for (flow, digest) in flows {
            learn_trust(&flow, &mut self.trust);
            let id = flow.id;
            let digest = match digest {
                Some(d) => d,
                None => {
                    let report = self.decode(&flow);
                    let d = Digest::of(&flow, &report);
                    self.cache.put(id, report);
                    d
                }
            };
            self.file_digest(id, digest);
            if flow.marked {
                self.marked += 1;
            }
            let evicted = self.store.push(flow);
            self.forget(&evicted);
            ids.push(id);
        }
        self.invalidate_stories(true);
        self.admit(&ids);
    }

    /// Keeps a flow's digest, widening the KIND column to its kinds when they are wider.
    fn file_digest(&mut self, id: FlowId, digest: Digest) {
        self.kinds_width = self.kinds_width.max(fit::kinds_width(&digest.kinds));
        self.digests.insert(id, Box::new(digest));
    }

    fn forget(&mut self, evicted: &[FlowId]) {
        if evicted.is_empty() {
            return;
        }
        // The store no longer holds them: recount the marks (evictions are rare and batched).
        self.marked = self.store.iter().filter(|f| f.marked).count();
        let gone: HashSet<FlowId> = evicted.iter().copied().collect();
        for id in evicted {
            self.digests.remove(id);
            self.cache.remove(*id);
        }
        if let Some(job) = &mut self.rebuild {
            job.passed.retain(|(id, _)| !gone.contains(id));
        }
        self.invalidate_stories(false);
        let before = self.shown.len();
        self.shown.retain(|id| !gone.contains(id));
        if !self.reverse {
            let removed_before_sel = before - self.shown.len();
            self.selected = self.selected.saturating_sub(removed_before_sel);
        }
        if self.view.as_ref().is_some_and(|v| gone.contains(&v.id)) {
            self.view = None;
            self.message = Some("the open flow was evicted (--max-flows)".into());
        }
    }

    /// Adds new flows that pass the filter to the shown list (or leaves them to the rebuild
    /// under way, which reaches them: they are at the end of the store).
    fn admit(&mut self, ids: &[FlowId]) {
        if self.rebuild.is_some() {
            return;
        }
        let passing: Vec<FlowId> = ids
            .iter()
            .copied()
            .filter(|id| self.store.get(*id).is_some_and(|f| self.passes(f)))
            .collect();
        if passing.is_empty() {
            return;
        }
        if self.order == Order::Time {
            if self.reverse && !self.shown.is_empty() {
                // New rows appear above: keep the selection on the same flow.
                self.selected += passing.len();
            }
            self.shown.extend(passing);
            if self.follow {
                self.select_newest();
            }
        } else {
            self.start_rebuild("sorting", false);
        }
    }

    pub(super) fn select_newest(&mut self) {
        self.selected = if self.reverse {
            0
        } else {
            self.shown.len().saturating_sub(1)
        };
    }

    /// Puts the selection back on flow `keep` if it is shown.
    pub(super) fn reselect(&mut self, keep: Option<FlowId>) {
        if let Some(id) = keep
            && let Some(pos) = self.shown.iter().position(|x| *x == id)
        {
            self.selected = if self.reverse {
                self.shown.len() - 1 - pos
            } else {
                pos
            };
        }
    }

    /// True when the flow passes the marks-only switch, the noise switch (`!~noise`) and the
    /// filter. Decoded-aware operators read the flow's digest; every flow has one (loaded with
    /// it, or decoded on arrival), and one without (none today) would count as having nothing
    /// decoded. Never decodes.
    pub(super) fn passes(&self, flow: &Flow) -> bool {
        if self.marked_only && !flow.marked {
            return false;
        }
        if self.hide_noise
            && let Some(noise) = &self.noise
            && noise.matches(&Subject::plain(flow))
        {
            return false;
        }
        let Some(filter) = &self.filter else {
            return true;
        };
        filter.matches(&Subject {
            flow,
            in_flight: self.store.in_flight_count() > 0 && self.store.is_in_flight(flow.id),
            digest: if filter.reads_decoded() {
                self.digests.get(&flow.id).map(Box::as_ref)
            } else {
                None
            },
            report: None,
        })
    }
}
