//! The TUI's state and its one pure transition, [`App::update`]: an [`Event`] (a key, a flow from
//! the proxy, a batch from the capture loader, a replay result, a clock tick) changes the state
//! and may ask the event loop for a side effect through [`Control`] (quit, replay, export, copy).
//! Nothing here touches the terminal, the network or the file system, so every key is tested by
//! calling `update` (gitui's and ratatui's habit).
//!
//! Decoding happens here and only here: a flow is decoded when it arrives live, or when it is
//! opened (cached in a small LRU); rows are drawn, and filters evaluated, from each flow's
//! [`Digest`] (a loaded capture's digests are built by the loader's workers). Rendering (`ui`)
//! reads this state and never decodes, and the clock comes in through [`Event::Tick`].
//!
//! Work over every flow is done in slices so that no key waits for it: applying a filter (or
//! marks-only, or an order) and building the stories run a slice of at most
//! [`WORK_BUDGET`] in the update of the key that asked, then one slice per [`Event::Work`],
//! which the event loop sends whenever [`App::busy`] and nothing else is pending. Meanwhile the
//! list shows the previous result and the status bar says `filtering… N/M` (the Story tab says
//! `building stories…`). On a small capture the first slice finishes the job, so the key's own
//! update has the result.

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use idscope_decoders::{Limits, Registry, Trust};

use super::command::{self, Command, Order};
use super::keymap::{self, Action, Context};
use super::text::{TextLine, Tone, flow as flow_text, help, mask, story as story_text, tree};
use crate::analysis::digest::Digest;
use crate::analysis::story::{self, Story};
use crate::analysis::{FlowReport, decode_flow, learn_trust};
use crate::filter::{self, Filter, FilterError, Subject};
use crate::flow::{Flow, FlowEvent, FlowId};
use crate::session::FlowStore;

/// How many decoded reports are kept for flows the user opened.
pub const REPORT_CACHE: usize = 256;

/// The longest a slice of work (a filter pass, a story build) may run in one update: with about
/// a millisecond to draw, a key still gets its frame within 16 ms while a job runs.
pub const WORK_BUDGET: Duration = Duration::from_millis(8);

/// How often (in flows) a slice looks at the clock.
const CLOCK_EVERY: usize = 256;

/// Something that happened, for [`App::update`].
// Events are moved once from a channel into `update` and never stored, so the size of the flow
// variants costs nothing worth a box (and the proxy sends `FlowEvent`s unboxed).
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Event {
    /// A key was pressed.
    Key(KeyEvent),
    /// The terminal has a new size (columns, rows).
    Resize(u16, u16),
    /// The clock moved (the loop ticks; tests pass fixed times).
    Tick(SystemTime),
    /// The proxy reported a flow event.
    Flow(FlowEvent),
    /// The capture loader read more flows, each with its digest.
    Loaded(Vec<(Flow, Digest)>),
    /// The capture loader finished: `Ok(note)` (possibly a repair or skip note) or the error
    /// that stopped it.
    LoadDone(Result<Option<String>, String>),
    /// A replay came back; the flow gets its id from the store.
    Replayed(Box<Flow>),
    /// A side effect finished and has something to say (export written, copy done).
    Notice(String),
    /// Nothing else is pending and [`App::busy`]: run the next slice of work.
    Work,
}

/// What the event loop should do after an update.
#[derive(Debug, Clone, PartialEq)]
pub enum Control {
    /// Redraw and wait for the next event.
    Continue,
    /// Leave the UI.
    Quit,
    /// Replay this flow and send the result back as [`Event::Replayed`].
    Replay(Box<Flow>),
    /// Replay a whole sequence (`R`, see `sequence_actions`).
    ReplaySequence(Box<SequenceJob>),
    /// Write these flows to `path` as HAR (redacted when asked).
    Export {
        /// The flows, in list order.
        ids: Vec<FlowId>,
        /// Where.
        path: PathBuf,
        /// Redacted HAR instead of plain HAR.
        redacted: bool,
    },
    /// Put this text on the clipboard.
    Copy(String),
}

/// The tabs of the flow view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    /// Request line, headers and body.
    Request,
    /// Status line, headers and body (content-encoding removed).
    Response,
    /// The decoder trees.
    Decoded,
    /// The sequence this flow belongs to, with its checks.
    Story,
    /// Timings, TLS, addresses, findings.
    Detail,
}

impl Tab {
    /// Every tab in order.
    pub const ALL: [Tab; 5] = [
        Tab::Request,
        Tab::Response,
        Tab::Decoded,
        Tab::Story,
        Tab::Detail,
    ];

    /// The tab's title.
    pub fn title(self) -> &'static str {
        match self {
            Tab::Request => "Request",
            Tab::Response => "Response",
            Tab::Decoded => "Decoded",
            Tab::Story => "Story",
            Tab::Detail => "Detail",
        }
    }

    fn index(self) -> usize {
        Tab::ALL.iter().position(|t| *t == self).unwrap_or(0)
    }
}

/// The diff overlay: what `=` shows until `esc`, `q` or `=` again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffOverlay {
    /// The box title (`#3 ≠ #18`).
    pub title: String,
    /// One line per difference, after a heading.
    pub lines: Vec<TextLine>,
    /// First visible line.
    pub scroll: usize,
}

/// A whole-sequence replay for the event loop to run.
#[derive(Debug, Clone, PartialEq)]
pub struct SequenceJob {
    /// The story's title (`sync cycle`).
    pub title: String,
    /// The story's flows, in capture order.
    pub flows: Vec<Flow>,
}

/// What the bottom line is asking for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptKind {
    /// The list filter.
    Filter,
    /// Jump to the next flow matching an expression.
    ListSearch,
    /// Text search within the open flow.
    FlowSearch,
    /// The path to export to.
    Export {
        /// Redacted HAR.
        redacted: bool,
    },
    /// "Clear all flows?" (y/n).
    ConfirmClear,
    /// A `:` command ([`super::command`]).
    Command,
}

/// A line being edited at the bottom of the screen.
#[derive(Debug, Clone, PartialEq)]
pub struct Prompt {
    /// What for.
    pub kind: PromptKind,
    /// The text typed so far.
    pub input: String,
    /// Why the last submission was refused (the filter error with its position).
    pub error: Option<FilterError>,
    /// What tab completion offers (command prompt).
    pub hint: Option<String>,
}

impl Prompt {
    fn new(kind: PromptKind, input: impl Into<String>) -> Self {
        Prompt {
            kind,
            input: input.into(),
            error: None,
            hint: None,
        }
    }
}

/// The open flow.
#[derive(Debug, Clone)]
pub struct FlowView {
    /// Which flow.
    pub id: FlowId,
    /// The tab shown.
    pub tab: Tab,
    /// First visible line per tab.
    pub scroll: [usize; 5],
    /// The tree cursor (Decoded tab), an index into `tree`.
    pub cursor: usize,
    /// Folded tree nodes.
    pub folded: HashSet<tree::NodePath>,
    /// Request tab text.
    pub request: Vec<TextLine>,
    /// Response tab text.
    pub response: Vec<TextLine>,
    /// Decoded tab lines.
    pub tree: Vec<tree::TreeLine>,
    /// Story tab text.
    pub story: Vec<TextLine>,
    /// Detail tab text.
    pub detail: Vec<TextLine>,
    /// The text search in this flow.
    pub search: Option<regex::Regex>,
}

impl FlowView {
    /// The plain text of line `i` of the current tab, for search.
    fn line_text(&self, i: usize) -> Option<String> {
        match self.tab {
            Tab::Request => self.request.get(i).map(|l| l.text.clone()),
            Tab::Response => self.response.get(i).map(|l| l.text.clone()),
            Tab::Decoded => self.tree.get(i).map(tree::TreeLine::plain),
            Tab::Story => self.story.get(i).map(|l| l.text.clone()),
            Tab::Detail => self.detail.get(i).map(|l| l.text.clone()),
        }
    }

    /// How many lines the current tab has.
    pub fn line_count(&self) -> usize {
        match self.tab {
            Tab::Request => self.request.len(),
            Tab::Response => self.response.len(),
            Tab::Decoded => self.tree.len(),
            Tab::Story => self.story.len(),
            Tab::Detail => self.detail.len(),
        }
    }
}

/// Progress of a capture being loaded in the background.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loading {
    /// Flows received so far.
    pub flows: u64,
    /// Done (with the loader's note or error).
    pub done: bool,
}

/// Where the flows come from, for the status bar.
#[derive(Debug, Clone, Default)]
pub struct Meta {
    /// The capture file or `proxy`.
    pub source: String,
    /// The proxy's listen address.
    pub listen: Option<String>,
    /// The file the proxy records to.
    pub recording: Option<PathBuf>,
}

/// A small least-recently-used cache of decoded reports.
#[derive(Debug, Default)]
pub struct ReportCache {
    map: HashMap<FlowId, Arc<FlowReport>>,
    order: VecDeque<FlowId>,
}

impl ReportCache {
    /// The cached report, marking it recently used.
    pub fn get(&mut self, id: FlowId) -> Option<Arc<FlowReport>> {
        let r = self.map.get(&id).cloned()?;
        if let Some(pos) = self.order.iter().position(|x| *x == id) {
            self.order.remove(pos);
        }
        self.order.push_back(id);
        Some(r)
    }

    /// The cached report without touching the recency (for rendering).
    pub fn peek(&self, id: FlowId) -> Option<&Arc<FlowReport>> {
        self.map.get(&id)
    }

    /// Caches a report, evicting the least recently used beyond [`REPORT_CACHE`].
    pub fn put(&mut self, id: FlowId, report: Arc<FlowReport>) {
        if self.map.insert(id, report).is_none() {
            self.order.push_back(id);
        }
        while self.order.len() > REPORT_CACHE {
            if let Some(old) = self.order.pop_front() {
                self.map.remove(&old);
            }
        }
    }

    /// Forgets a flow.
    pub fn remove(&mut self, id: FlowId) {
        if self.map.remove(&id).is_some() {
            self.order.retain(|x| *x != id);
        }
    }

    /// How many reports are cached.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// True when nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

/// The shown list being rebuilt over the whole store, a slice at a time, because the filter,
/// the marks-only switch or the order changed. The old list stays on screen until it is done.
#[derive(Debug)]
pub(crate) struct Rebuild {
    /// `filtering` or `sorting`, for the status bar.
    pub(crate) what: &'static str,
    /// The store sequence number of the next flow to test ([`FlowStore::first_seq`]).
    next: u64,
    /// Flows tested so far.
    pub(crate) done: usize,
    /// The flows that pass, in store order, each with its sort key ([`App::order_key`]).
    passed: Vec<(FlowId, u64)>,
    /// Method or host names met so far, numbered in order of appearance (string orders).
    names: HashMap<String, u64>,
    /// Every flow is tested; what is left is sorting.
    scanned: bool,
    /// Say how many match when done (a new filter).
    announce: bool,
}

/// Stories being built over the whole store, a slice at a time ([`story::Builder`]).
#[derive(Debug, Default)]
pub(crate) struct StoryJob {
    /// The store sequence number of the next flow to feed.
    next: u64,
    /// False during the first pass (learning values), true during the second (placing steps).
    placing: bool,
    /// Flows fed in the current pass.
    pub(crate) done: usize,
    builder: story::Builder,
}

/// Everything an [`App`] starts from.
#[derive(Debug, Clone)]
pub struct Config {
    /// Source, listen address and recording, for the status bar.
    pub meta: Meta,
    /// The flow cap (`--max-flows`).
    pub max_flows: usize,
    /// The initial filter (`--filter`).
    pub filter: Option<Filter>,
    /// The clock at start.
    pub now: SystemTime,
    /// True when flows come from a capture being loaded.
    pub loading: bool,
}

impl Config {
    /// The configuration of a live session (`idscope proxy`, `idscope demo`): flows arrive
    /// from the proxy, at most 100,000 are held, no initial filter.
    pub fn live(source: &str, listen: String, recording: Option<std::path::PathBuf>) -> Self {
        Config {
            meta: Meta {
                source: source.to_string(),
                listen: Some(listen),
                recording,
            },
            max_flows: 100_000,
            filter: None,
            now: SystemTime::now(),
            loading: false,
        }
    }
}

/// The whole state of the TUI.
#[derive(Debug)]
pub struct App {
    pub(crate) store: FlowStore,
    /// Each flow's digest, boxed: when the map grows it moves every entry at once, and with
    /// digests held inline that was the slowest loader batch of tui_bench (28–62 ms, at the
    /// resize after 57,344 flows); boxed, a resize moves pointers.
    pub(crate) digests: HashMap<FlowId, Box<Digest>>,
    pub(crate) cache: ReportCache,
    trust: Trust,
    /// Ids shown (filtered and sorted), in forward order; `reverse` flips the display.
    pub(crate) shown: Vec<FlowId>,
    /// The shown list being rebuilt (filter, marks-only or order changed).
    pub(crate) rebuild: Option<Rebuild>,
    /// Display index of the selection.
    pub(crate) selected: usize,
    /// Display index of the first visible row.
    pub(crate) offset: usize,
    pub(crate) order: Order,
    pub(crate) reverse: bool,
    pub(crate) follow: bool,
    pub(crate) marked_only: bool,
    /// How many stored flows are marked (kept up to date so the status bar never counts).
    pub(crate) marked: usize,
    pub(crate) filter: Option<Filter>,
    list_search: Option<Filter>,
    pub(crate) view: Option<FlowView>,
    pub(crate) prompt: Option<Prompt>,
    pub(crate) help: bool,
    /// First line of the help overlay shown (it is longer than a small screen).
    pub(crate) help_scroll: usize,
    pub(crate) reveal: bool,
    pub(crate) meta: Meta,
    pub(crate) message: Option<String>,
    pub(crate) loading: Option<Loading>,
    pub(crate) now: SystemTime,
    pub(crate) size: (u16, u16),
    pub(crate) stories: Option<Arc<Vec<Story>>>,
    /// Stories being built.
    pub(crate) story_job: Option<StoryJob>,
    /// At most this many flows per slice of work (tests make it small to see a job half done).
    slice_flows: usize,
    /// The diff overlay (`=`, see `sequence_actions`).
    pub(crate) diff: Option<DiffOverlay>,
    /// Flows decoded by `update` itself (on the UI thread), for [`App::decodes`].
    decodes: u64,
}

fn key_char(k: &KeyEvent) -> Option<char> {
    match k.code {
        KeyCode::Char(c) if !k.modifiers.contains(KeyModifiers::CONTROL) => Some(c),
        _ => None,
    }
}

impl App {
    /// A new app with no flows.
    pub fn new(config: Config) -> Self {
        App {
            store: FlowStore::new(config.max_flows),
            digests: HashMap::new(),
            cache: ReportCache::default(),
            trust: Trust::default(),
            shown: Vec::new(),
            rebuild: None,
            selected: 0,
            offset: 0,
            order: Order::Time,
            reverse: false,
            follow: false,
            marked_only: false,
            marked: 0,
            filter: config.filter,
            list_search: None,
            view: None,
            prompt: None,
            help: false,
            help_scroll: 0,
            reveal: false,
            meta: config.meta,
            message: None,
            loading: config.loading.then_some(Loading {
                flows: 0,
                done: false,
            }),
            now: config.now,
            size: (100, 30),
            stories: None,
            story_job: None,
            slice_flows: usize::MAX,
            diff: None,
            decodes: 0,
        }
    }

    /// An app for tests: source `test.har`, no cap worth mentioning, a fixed clock, 100×30.
    pub fn for_test() -> Self {
        App::new(Config {
            meta: Meta {
                source: "test.har".into(),
                ..Meta::default()
            },
            max_flows: 1_000_000,
            filter: None,
            now: UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000),
            loading: false,
        })
    }

    /// The flow store (read-only).
    pub fn store(&self) -> &FlowStore {
        &self.store
    }

    /// The ids of the shown flows, in display order.
    pub fn shown(&self) -> Vec<FlowId> {
        (0..self.shown.len())
            .filter_map(|i| self.shown_at(i))
            .collect()
    }

    /// The flow id at display index `i`.
    pub fn shown_at(&self, i: usize) -> Option<FlowId> {
        let idx = if self.reverse {
            self.shown.len().checked_sub(1)?.checked_sub(i)?
        } else {
            i
        };
        self.shown.get(idx).copied()
    }

    /// The selected flow id.
    pub fn selected_id(&self) -> Option<FlowId> {
        self.shown_at(self.selected)
    }

    /// The open flow view, if any.
    pub fn flow_view(&self) -> Option<&FlowView> {
        self.view.as_ref()
    }

    /// The current filter.
    pub fn filter(&self) -> Option<&Filter> {
        self.filter.as_ref()
    }

    /// The open prompt.
    pub fn prompt(&self) -> Option<&Prompt> {
        self.prompt.as_ref()
    }

    /// The last message shown on the bottom line.
    pub fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }

    /// True while the help overlay is shown.
    pub fn help_shown(&self) -> bool {
        self.help
    }

    /// The first line of the help overlay shown.
    pub fn help_scroll(&self) -> usize {
        self.help_scroll
    }

    /// True while follow mode is on.
    pub fn following(&self) -> bool {
        self.follow
    }

    /// The digest of a flow.
    pub fn digest(&self, id: FlowId) -> Option<&Digest> {
        self.digests.get(&id).map(Box::as_ref)
    }

    /// How many flows [`App::update`] has decoded itself so far: live flows, replays and opened
    /// flows. Loaded batches arrive with their digests and cost none, which is what keeps
    /// loading a large capture off this thread; filters and searches read digests only.
    pub fn decodes(&self) -> u64 {
        self.decodes
    }

    /// True while work over every flow is under way (a filter being applied, stories being
    /// built): the event loop then sends [`Event::Work`] whenever nothing else is pending.
    pub fn busy(&self) -> bool {
        self.rebuild.is_some() || self.story_job.is_some()
    }

    /// Limits a slice of work to `flows` flows (besides [`WORK_BUDGET`]), so that tests can
    /// see a job half done.
    pub fn set_work_slice(&mut self, flows: usize) {
        self.slice_flows = flows.max(1);
    }

    /// The shown list being rebuilt, as `(what, flows tested, flows held)`, e.g.
    /// `("filtering", 20000, 100000)`.
    pub fn rebuilding(&self) -> Option<(&'static str, usize, usize)> {
        self.rebuild
            .as_ref()
            .map(|r| (r.what, r.done, self.store.len()))
    }

    /// The cached report of a flow, if it was decoded.
    pub fn cached_report(&self, id: FlowId) -> Option<&Arc<FlowReport>> {
        self.cache.peek(id)
    }

    /// Rows available to the list (screen minus header, status bar and bottom line).
    pub fn list_height(&self) -> usize {
        usize::from(self.size.1.saturating_sub(3)).max(1)
    }

    /// Lines available to a flow-view tab (screen minus title, tabs, status and bottom line).
    pub fn content_height(&self) -> usize {
        usize::from(self.size.1.saturating_sub(4)).max(1)
    }

    /// Applies one event. Pure: side effects come back as [`Control`]. A key or
    /// [`Event::Work`] also runs a slice of the pending work.
    pub fn update(&mut self, event: Event) -> Control {
        let works = matches!(event, Event::Key(_) | Event::Work);
        let control = match event {
            Event::Key(k) => self.on_key(k),
            Event::Resize(w, h) => {
                self.size = (w, h);
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

    // -- flows arriving ------------------------------------------------------------------------

    fn decode(&mut self, flow: &Flow) -> Arc<FlowReport> {
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
        self.digests
            .insert(id, Box::new(Digest::of(&flow, &report)));
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
            self.digests.insert(id, Box::new(digest));
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

    fn select_newest(&mut self) {
        self.selected = if self.reverse {
            0
        } else {
            self.shown.len().saturating_sub(1)
        };
    }

    /// Puts the selection back on flow `keep` if it is shown.
    fn reselect(&mut self, keep: Option<FlowId>) {
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

    /// True when the flow passes the marks-only switch and the filter. Decoded-aware operators
    /// read the flow's digest; every flow has one (loaded with it, or decoded on arrival), and
    /// one without (none today) would count as having nothing decoded. Never decodes.
    fn passes(&self, flow: &Flow) -> bool {
        if self.marked_only && !flow.marked {
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

    /// Starts rebuilding the shown list from the whole store (the filter, the marks-only switch
    /// or the order changed), replacing a rebuild under way. The first slice runs in this
    /// update; the old list stays until the last.
    fn start_rebuild(&mut self, what: &'static str, announce: bool) {
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
    fn work(&mut self) {
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
    fn order_key(&self, f: &Flow, names: &mut HashMap<String, u64>) -> u64 {
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

    fn refresh(&mut self) {
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

    // -- keys ----------------------------------------------------------------------------------

    fn on_key(&mut self, k: KeyEvent) -> Control {
        if self.prompt.is_some() {
            return self.on_prompt_key(k);
        }
        let context = if self.view.is_some() {
            Context::Flow
        } else {
            Context::List
        };
        let action = keymap::action(context, k);
        if self.diff.is_some() {
            return self.on_diff_key(action);
        }
        if self.help {
            match action {
                Some(Action::Quit) => return Control::Quit,
                Some(Action::Help | Action::Back) => self.help = false,
                Some(a @ (Action::Down | Action::Up | Action::PageDown | Action::PageUp)) => {
                    let page = self.list_height();
                    self.help_scroll = match a {
                        Action::Down => self.help_scroll + 1,
                        Action::Up => self.help_scroll.saturating_sub(1),
                        Action::PageDown => self.help_scroll + page,
                        _ => self.help_scroll.saturating_sub(page),
                    }
                    .min(help::lines().len().saturating_sub(1));
                }
                Some(Action::First) => self.help_scroll = 0,
                Some(Action::Last) => self.help_scroll = help::lines().len().saturating_sub(1),
                _ => {}
            }
            return Control::Continue;
        }
        let Some(action) = action else {
            return Control::Continue;
        };
        self.message = None;
        match context {
            Context::List => self.list_action(action),
            Context::Flow => self.flow_action(action, k),
        }
    }

    fn move_selection(&mut self, delta: isize) {
        let len = self.shown.len();
        if len == 0 {
            return;
        }
        let max = len - 1;
        self.selected = self.selected.saturating_add_signed(delta).min(max);
    }

    fn list_action(&mut self, action: Action) -> Control {
        let page = self.list_height() as isize;
        match action {
            Action::Down => self.move_selection(1),
            Action::Up => {
                self.follow = false;
                self.move_selection(-1)
            }
            Action::PageDown => self.move_selection(page),
            Action::PageUp => {
                self.follow = false;
                self.move_selection(-page)
            }
            Action::First => {
                self.follow = false;
                self.selected = 0
            }
            Action::Last => self.selected = self.shown.len().saturating_sub(1),
            Action::Open => {
                if let Some(id) = self.selected_id() {
                    self.open(id);
                }
            }
            Action::Back | Action::Quit => return Control::Quit,
            Action::Filter => {
                self.prompt = Some(Prompt {
                    kind: PromptKind::Filter,
                    input: self
                        .filter
                        .as_ref()
                        .map(|f| f.text().to_string())
                        .unwrap_or_default(),
                    error: None,
                    hint: None,
                });
            }
            Action::Search => {
                self.prompt = Some(Prompt {
                    kind: PromptKind::ListSearch,
                    input: self
                        .list_search
                        .as_ref()
                        .map(|f| f.text().to_string())
                        .unwrap_or_default(),
                    error: None,
                    hint: None,
                })
            }
            Action::SearchNext => self.list_search_next(),
            Action::Mark => self.toggle_mark(),
            Action::MarkedOnly => {
                self.marked_only = !self.marked_only;
                self.start_rebuild("filtering", false);
                self.message = Some(if self.marked_only {
                    "showing marked flows only".into()
                } else {
                    "showing all flows".into()
                });
            }
            Action::Replay => return self.replay(),
            Action::Diff => return self.diff_marked(),
            Action::ReplaySequence => return self.replay_story(),
            Action::Export | Action::ExportRedacted => {
                let redacted = action == Action::ExportRedacted;
                let secs = self
                    .now
                    .duration_since(UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or(0);
                let suffix = if redacted { "-redacted" } else { "" };
                self.prompt = Some(Prompt {
                    kind: PromptKind::Export { redacted },
                    input: format!("idscope-export-{secs}{suffix}.har"),
                    error: None,
                    hint: None,
                });
            }
            Action::Clear => {
                self.prompt = Some(Prompt {
                    kind: PromptKind::ConfirmClear,
                    input: String::new(),
                    error: None,
                    hint: None,
                })
            }
            Action::Order => {
                self.order = self.order.next();
                self.start_rebuild("sorting", false);
                self.message = Some(format!("order: {}", self.order.name()));
            }
            Action::Reverse => {
                let keep = self.selected_id();
                self.reverse = !self.reverse;
                if keep.is_some() {
                    self.selected = self.shown.len().saturating_sub(1) - self.selected;
                }
            }
            Action::Follow => {
                self.follow = !self.follow;
                if self.follow {
                    self.select_newest();
                }
                self.message = Some(format!("follow {}", if self.follow { "on" } else { "off" }));
            }
            Action::Help => {
                self.help = true;
                self.help_scroll = 0;
            }
            Action::Command => self.prompt = Some(Prompt::new(PromptKind::Command, "")),
            Action::Copy => {
                if let Some(f) = self.selected_id().and_then(|id| self.store.get(id)) {
                    return Control::Copy(f.request.url.clone());
                }
            }
            Action::CopyCurl => return self.copy_curl(),
            Action::NextTab
            | Action::PrevTab
            | Action::NextFlow
            | Action::PrevFlow
            | Action::Toggle
            | Action::Reveal => {}
        }
        Control::Continue
    }

    fn flow_action(&mut self, action: Action, k: KeyEvent) -> Control {
        let page = self.content_height() as isize;
        match action {
            Action::Down => self.scroll(1),
            Action::Up => self.scroll(-1),
            Action::PageDown => self.scroll(page),
            Action::PageUp => self.scroll(-page),
            Action::First => self.scroll(isize::MIN / 2),
            Action::Last => self.scroll(isize::MAX / 2),
            Action::Back => self.view = None,
            Action::Quit => return Control::Quit,
            Action::NextTab | Action::PrevTab => {
                let back = action == Action::PrevTab || k.code == KeyCode::BackTab;
                if let Some(v) = &mut self.view {
                    let i = v.tab.index();
                    let n = Tab::ALL.len();
                    let next = if back { (i + n - 1) % n } else { (i + 1) % n };
                    v.tab = Tab::ALL.get(next).copied().unwrap_or(Tab::Request);
                }
                self.ensure_story();
            }
            Action::NextFlow | Action::PrevFlow => {
                let back = action == Action::PrevFlow;
                self.move_selection(if back { -1 } else { 1 });
                if let Some(id) = self.selected_id() {
                    self.open(id);
                }
            }
            Action::Toggle => self.toggle_fold(),
            Action::Reveal => {
                self.reveal = !self.reveal;
                if let Some(id) = self.view.as_ref().map(|v| v.id) {
                    self.open(id);
                }
                self.message = Some(if self.reveal {
                    "secrets revealed".into()
                } else {
                    "secrets masked".into()
                });
            }
            Action::Copy => return self.copy_value(),
            Action::CopyCurl => return self.copy_curl(),
            Action::Search => {
                self.prompt = Some(Prompt {
                    kind: PromptKind::FlowSearch,
                    input: self
                        .view
                        .as_ref()
                        .and_then(|v| v.search.as_ref())
                        .map(|r| r.as_str().trim_start_matches("(?i)").to_string())
                        .unwrap_or_default(),
                    error: None,
                    hint: None,
                })
            }
            Action::SearchNext => self.flow_search_next(),
            Action::Mark => self.toggle_mark(),
            Action::Replay => return self.replay(),
            Action::Help => {
                self.help = true;
                self.help_scroll = 0;
            }
            Action::Command => self.prompt = Some(Prompt::new(PromptKind::Command, "")),
            Action::Diff => return self.diff_marked(),
            Action::ReplaySequence => return self.replay_story(),
            Action::Open
            | Action::Filter
            | Action::MarkedOnly
            | Action::Export
            | Action::ExportRedacted
            | Action::Clear
            | Action::Order
            | Action::Reverse
            | Action::Follow => {}
        }
        Control::Continue
    }

    fn scroll(&mut self, delta: isize) {
        let Some(v) = &mut self.view else { return };
        let max = v.line_count().saturating_sub(1);
        if v.tab == Tab::Decoded {
            v.cursor = v.cursor.saturating_add_signed(delta).min(max);
        } else if let Some(s) = v.scroll.get_mut(v.tab.index()) {
            *s = s.saturating_add_signed(delta).min(max);
        }
    }

    fn toggle_mark(&mut self) {
        let Some(id) = self.view.as_ref().map(|v| v.id).or(self.selected_id()) else {
            return;
        };
        if let Some(f) = self.store.get_mut(id) {
            f.marked = !f.marked;
            let marked = f.marked;
            if marked {
                self.marked += 1;
            } else {
                self.marked = self.marked.saturating_sub(1);
            }
            self.message = Some(format!(
                "{id} {}",
                if marked { "marked" } else { "unmarked" }
            ));
            if self.marked_only && !marked {
                let keep = self.selected_id();
                self.shown.retain(|x| *x != id);
                if let Some(job) = &mut self.rebuild {
                    job.passed.retain(|(x, _)| *x != id);
                }
                if keep != Some(id) {
                    self.reselect(keep);
                }
            }
        }
    }

    fn replay(&mut self) -> Control {
        let id = self.view.as_ref().map(|v| v.id).or(self.selected_id());
        match id.and_then(|id| self.store.get(id)) {
            Some(f) => {
                self.message = Some(format!("replaying {}…", f.id));
                Control::Replay(Box::new(f.clone()))
            }
            None => Control::Continue,
        }
    }

    fn copy_value(&mut self) -> Control {
        let Some(v) = &self.view else {
            return Control::Continue;
        };
        if v.tab == Tab::Decoded {
            if let Some(line) = v.tree.get(v.cursor) {
                if line.masked {
                    self.message =
                        Some("secret masked: press s to reveal it before copying".into());
                    return Control::Continue;
                }
                if let Some(val) = &line.value {
                    self.message = Some(format!("copied {}", line.label));
                    return Control::Copy(val.clone());
                }
            }
            return Control::Continue;
        }
        match self.store.get(v.id) {
            Some(f) => {
                self.message = Some("copied the URL".into());
                Control::Copy(f.request.url.clone())
            }
            None => Control::Continue,
        }
    }

    fn copy_curl(&mut self) -> Control {
        let id = self.view.as_ref().map(|v| v.id).or(self.selected_id());
        let Some(f) = id.and_then(|id| self.store.get(id)).cloned() else {
            return Control::Continue;
        };
        let secrets = if self.reveal {
            Vec::new()
        } else {
            let report = match self.cache.get(f.id) {
                Some(r) => r,
                None => {
                    let r = self.decode(&f);
                    self.cache.put(f.id, r.clone());
                    r
                }
            };
            mask::secrets(&report)
        };
        let cmd = flow_text::curl(&f, self.reveal, &secrets);
        self.message = Some(if self.reveal {
            "copied as curl".into()
        } else {
            "copied as curl (credentials masked: press s in the flow view to include them)".into()
        });
        Control::Copy(cmd)
    }

    fn toggle_fold(&mut self) {
        let reveal = self.reveal;
        let Some(v) = &mut self.view else { return };
        if v.tab != Tab::Decoded {
            return;
        }
        let Some(line) = v.tree.get(v.cursor) else {
            return;
        };
        if !line.has_children {
            return;
        }
        let Some(path) = line.path.clone() else {
            return;
        };
        if !v.folded.remove(&path) {
            v.folded.insert(path);
        }
        if let Some(report) = self.cache.peek(v.id) {
            v.tree = tree::lines(report, &v.folded, reveal);
        }
    }

    fn list_search_next(&mut self) {
        let Some(search) = self.list_search.clone() else {
            self.message = Some("no search: press / first".into());
            return;
        };
        let len = self.shown.len();
        for step in 1..=len {
            let i = (self.selected + step) % len;
            let Some(id) = self.shown_at(i) else { continue };
            let Some(flow) = self.store.get(id) else {
                continue;
            };
            if search.matches(&Subject {
                flow,
                in_flight: self.store.is_in_flight(id),
                digest: self.digests.get(&id).map(Box::as_ref),
                report: None,
            }) {
                self.selected = i;
                self.message = Some(format!("{id} matches {}", search.text()));
                return;
            }
        }
        self.message = Some(format!("no shown flow matches {}", search.text()));
    }

    fn flow_search_next(&mut self) {
        let Some(v) = &mut self.view else { return };
        let Some(re) = v.search.clone() else {
            self.message = Some("no search: press / first".into());
            return;
        };
        let n = v.line_count();
        let start = if v.tab == Tab::Decoded {
            v.cursor
        } else {
            v.scroll.get(v.tab.index()).copied().unwrap_or(0)
        };
        for step in 1..=n {
            let i = (start + step) % n;
            if v.line_text(i).is_some_and(|t| re.is_match(&t)) {
                if v.tab == Tab::Decoded {
                    v.cursor = i;
                } else if let Some(s) = v.scroll.get_mut(v.tab.index()) {
                    *s = i;
                }
                self.message = Some(format!("match at line {}", i + 1));
                return;
            }
        }
        self.message = Some(format!(
            "`{}` not found in this tab",
            re.as_str().trim_start_matches("(?i)")
        ));
    }

    fn on_prompt_key(&mut self, k: KeyEvent) -> Control {
        let Some(prompt) = &mut self.prompt else {
            return Control::Continue;
        };
        if k.code == KeyCode::Char('c') && k.modifiers.contains(KeyModifiers::CONTROL) {
            return Control::Quit;
        }
        if prompt.kind == PromptKind::ConfirmClear {
            let yes = key_char(&k).is_some_and(|c| c == 'y' || c == 'Y');
            self.prompt = None;
            if yes {
                let n = self.store.len();
                self.store.clear();
                self.digests.clear();
                self.cache = ReportCache::default();
                self.shown.clear();
                self.marked = 0;
                self.stories = None;
                self.story_job = None;
                self.rebuild = None;
                self.selected = 0;
                self.message = Some(format!("cleared {n} flows"));
            } else {
                self.message = Some("not cleared".into());
            }
            return Control::Continue;
        }
        match k.code {
            KeyCode::Esc => {
                self.prompt = None;
                return Control::Continue;
            }
            KeyCode::Backspace => {
                prompt.input.pop();
                prompt.error = None;
                prompt.hint = None;
            }
            KeyCode::Tab if prompt.kind == PromptKind::Command => {
                let c = command::complete(&prompt.input);
                prompt.input = c.input;
                prompt.error = None;
                prompt.hint = (!c.candidates.is_empty()).then(|| c.candidates.join("  "));
            }
            KeyCode::Char('u') if k.modifiers.contains(KeyModifiers::CONTROL) => {
                prompt.input.clear();
                prompt.error = None;
            }
            KeyCode::Enter => return self.submit_prompt(),
            _ => {
                if let Some(c) = key_char(&k) {
                    prompt.input.push(c);
                    prompt.error = None;
                    prompt.hint = None;
                }
            }
        }
        Control::Continue
    }

    fn submit_prompt(&mut self) -> Control {
        let Some(prompt) = self.prompt.clone() else {
            return Control::Continue;
        };
        let text = prompt.input.trim().to_string();
        match prompt.kind {
            PromptKind::Filter => match self.set_filter(&text) {
                Ok(()) => self.prompt = None,
                Err(e) => self.set_prompt_error(e),
            },
            PromptKind::ListSearch => match filter::parse(&text) {
                Ok(f) => {
                    self.list_search = Some(f);
                    self.prompt = None;
                    self.list_search_next();
                }
                Err(e) => self.set_prompt_error(e),
            },
            PromptKind::FlowSearch => {
                match regex::RegexBuilder::new(&text)
                    .case_insensitive(true)
                    .size_limit(1 << 20)
                    .build()
                {
                    Ok(re) if !text.is_empty() => {
                        self.prompt = None;
                        if let Some(v) = &mut self.view {
                            v.search = Some(re);
                        }
                        self.flow_search_next();
                    }
                    Ok(_) => {
                        self.prompt = None;
                        if let Some(v) = &mut self.view {
                            v.search = None;
                        }
                    }
                    Err(e) => self.set_prompt_error(FilterError {
                        pos: 0,
                        message: format!(
                            "invalid regex: {}",
                            e.to_string().lines().last().unwrap_or("")
                        ),
                    }),
                }
            }
            PromptKind::Export { redacted } => {
                self.prompt = None;
                if text.is_empty() {
                    self.message = Some("export cancelled: no file name".into());
                    return Control::Continue;
                }
                let marked: Vec<FlowId> = if self.marked == 0 {
                    Vec::new()
                } else {
                    self.store
                        .iter()
                        .filter(|f| f.marked)
                        .map(|f| f.id)
                        .collect()
                };
                let ids = if marked.is_empty() {
                    self.shown()
                } else {
                    marked
                };
                self.message = Some(format!("exporting {} flows to {text}…", ids.len()));
                return Control::Export {
                    ids,
                    path: PathBuf::from(text),
                    redacted,
                };
            }
            PromptKind::ConfirmClear => self.prompt = None,
            PromptKind::Command => return self.run_command(&prompt.input),
        }
        Control::Continue
    }

    /// Runs a `:` command line. A command that cannot run leaves the prompt open with the
    /// reason (and the column) and changes nothing else.
    fn run_command(&mut self, line: &str) -> Control {
        let cmd = match command::parse(line) {
            Ok(c) => c,
            Err(e) => {
                self.set_prompt_error(e);
                return Control::Continue;
            }
        };
        // Errors inside an argument (a filter expression) point into the whole line.
        let arg_at = command::arg_offset(line);
        let fail = |app: &mut App, pos: usize, message: String| {
            app.set_prompt_error(FilterError { pos, message });
            Control::Continue
        };
        self.prompt = None;
        let in_list = self.view.is_none();
        match cmd {
            Command::Filter(text) => {
                self.prompt = Some(Prompt::new(PromptKind::Command, line));
                match self.set_filter(text.as_deref().unwrap_or("")) {
                    Ok(()) => self.prompt = None,
                    Err(e) => return fail(self, arg_at + e.pos, e.message),
                }
            }
            Command::Search(text) => match filter::parse(&text) {
                Ok(f) => {
                    self.list_search = Some(f);
                    self.list_search_next();
                }
                Err(e) => {
                    self.prompt = Some(Prompt::new(PromptKind::Command, line));
                    return fail(self, arg_at + e.pos, e.message);
                }
            },
            Command::Goto(id) => match self.shown.iter().position(|x| *x == id) {
                Some(pos) => {
                    self.selected = if self.reverse {
                        self.shown.len() - 1 - pos
                    } else {
                        pos
                    };
                    self.follow = false;
                    if !in_list {
                        self.open(id);
                    }
                    self.message = Some(format!("{id}"));
                }
                None => {
                    self.prompt = Some(Prompt::new(PromptKind::Command, line));
                    let why = if self.store.get(id).is_some() {
                        "is not shown (filtered out)"
                    } else {
                        "does not exist"
                    };
                    return fail(self, arg_at, format!("flow {id} {why}"));
                }
            },
            Command::Mark => self.toggle_mark(),
            Command::MarkedOnly => {
                return self.list_action(Action::MarkedOnly);
            }
            Command::Export { redacted, path } => {
                self.prompt = Some(Prompt::new(PromptKind::Export { redacted }, path));
                return self.submit_prompt();
            }
            Command::Replay => return self.replay(),
            Command::Clear => {
                self.prompt = Some(Prompt::new(PromptKind::ConfirmClear, ""));
            }
            Command::Order(order) => {
                self.order = order;
                self.start_rebuild("sorting", false);
                self.message = Some(format!("order: {}", order.name()));
            }
            Command::Reverse(on) => {
                if on != self.reverse {
                    return self.list_action(Action::Reverse);
                }
            }
            Command::Follow(on) => {
                if on != self.follow {
                    return self.list_action(Action::Follow);
                }
            }
            Command::Help => {
                self.help = true;
                self.help_scroll = 0;
            }
            Command::Quit => return Control::Quit,
        }
        Control::Continue
    }

    /// Sets the filter from its text (empty clears it) and starts applying it; on a parse error
    /// nothing changes.
    fn set_filter(&mut self, text: &str) -> Result<(), FilterError> {
        let text = text.trim();
        if text.is_empty() {
            self.filter = None;
            self.start_rebuild("filtering", false);
            self.message = Some("filter cleared".into());
            return Ok(());
        }
        self.filter = Some(filter::parse(text)?);
        self.start_rebuild("filtering", true);
        Ok(())
    }

    fn set_prompt_error(&mut self, e: FilterError) {
        if let Some(p) = &mut self.prompt {
            p.error = Some(e);
        }
    }

    // -- the flow view -------------------------------------------------------------------------

    /// Opens flow `id` in the flow view, decoding it (or taking it from the cache).
    fn open(&mut self, id: FlowId) {
        let Some(flow) = self.store.get(id).cloned() else {
            return;
        };
        let report = match self.cache.get(id) {
            Some(r) => r,
            None => {
                let r = self.decode(&flow);
                self.cache.put(id, r.clone());
                r
            }
        };
        let (tab, folded, search, scroll, cursor) = match self.view.take() {
            Some(v) if v.id == id => (v.tab, v.folded, v.search, v.scroll, v.cursor),
            Some(v) => (v.tab, HashSet::new(), v.search, [0; 5], 0),
            None => (Tab::Request, HashSet::new(), None, [0; 5], 0),
        };
        let in_flight = self.store.is_in_flight(id);
        let secrets = mask::secrets(&report);
        self.view = Some(FlowView {
            id,
            tab,
            scroll,
            cursor,
            request: flow_text::request_lines(&flow, self.reveal, &secrets),
            response: flow_text::response_lines(&flow, in_flight, self.reveal, &secrets),
            tree: tree::lines(&report, &folded, self.reveal),
            story: Vec::new(),
            detail: flow_text::detail_lines(&flow, &report),
            folded,
            search,
        });
        self.ensure_story();
    }

    /// On the Story tab: shows the stories, or starts building them (the tab says so until
    /// they are built; a slice runs in this update, so a small capture shows them at once).
    fn ensure_story(&mut self) {
        if !self.view.as_ref().is_some_and(|v| v.tab == Tab::Story) {
            return;
        }
        if self.stories.is_none() && self.story_job.is_none() {
            self.story_job = Some(StoryJob::default());
        }
        self.fill_story();
    }

    /// The Story tab's lines: the flow's stories, or how far building them has got.
    fn fill_story(&mut self) {
        let Some(id) = self
            .view
            .as_ref()
            .filter(|v| v.tab == Tab::Story)
            .map(|v| v.id)
        else {
            return;
        };
        let lines = match (&self.stories, &self.story_job) {
            (Some(stories), _) => story_text::story_lines(id, stories, &self.store),
            (None, job) => {
                let (pass, done) = job
                    .as_ref()
                    .map_or((1, 0), |j| (if j.placing { 2 } else { 1 }, j.done));
                vec![TextLine::new(
                    format!(
                        "building stories… pass {pass} of 2, {done} of {} flows",
                        self.store.len()
                    ),
                    Tone::Dim,
                )]
            }
        };
        if let Some(v) = &mut self.view {
            v.story = lines;
        }
    }
}
