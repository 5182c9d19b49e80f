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
//!
//! The state and its types are defined here; the methods of [`App`] are split by concern:
//! `events` (`update` and flows arriving), `work` (the sliced rebuild and stories), `keys`
//! (key dispatch and navigation), `prompt` (prompts and `:` commands), `controls` (marks,
//! replay, copying) and `flow_view` (opening a flow, folding, the Story tab).

mod controls;
mod events;
mod flow_view;
mod keys;
mod prompt;
mod summary;
mod work;

pub use summary::SummaryScreen;

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use idscope_decoders::Trust;

use super::command::Order;
use super::text::{TextLine, tree};
use crate::analysis::FlowReport;
use crate::analysis::digest::Digest;
use crate::analysis::story::{self, Story};
use crate::filter::{Filter, FilterError};
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
    /// Write these flows to `path` as a redacted HTML report.
    ExportReport {
        /// The flows, in list order.
        ids: Vec<FlowId>,
        /// Where.
        path: PathBuf,
    },
    /// Put this text on the clipboard.
    Copy(String),
}

/// The tabs of the flow view (defined with the keys that select them).
pub use crate::tui::keymap::Tab;

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
    /// The path to write the redacted HTML report to.
    ExportReport,
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
    /// The screen width the text tabs are wrapped to.
    pub width: u16,
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
    /// The columns the widest kinds text of any flow filed so far needs (the KIND column's
    /// width; see `fit::kinds_width`).
    pub(crate) kinds_width: usize,
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
    /// Browsers' background requests (`~noise`) are hidden.
    pub(crate) hide_noise: bool,
    /// The `~noise` filter the noise switch applies: parsed when first needed (the active host
    /// list, see `filter::noise`) or given with [`App::noise_hosts`].
    noise: Option<Filter>,
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
    /// The trace summary screen (`S`, `:summary`).
    pub(crate) summary: Option<SummaryScreen>,
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
    /// Starts from the user's trust anchors and decryption keys (`--trust-cert`, `--jwks`,
    /// `--key` …): flows are decoded against them and what the capture publishes.
    pub fn trusting(mut self, trust: Trust) -> Self {
        self.trust = trust;
        self
    }

    /// Starts with secrets shown (`--show-secrets`), as the reveal key toggles them.
    pub fn revealing(mut self, reveal: bool) -> Self {
        self.reveal = reveal;
        self
    }

    /// Takes the browsers' background hosts the noise switch hides from `list` instead of the
    /// active list (`--noise-hosts`, the user's file or the built-in one).
    pub fn noise_hosts(mut self, list: Arc<crate::filter::noise::NoiseHosts>) -> Self {
        self.noise = crate::filter::parse_with_noise("~noise", list).ok();
        self
    }

    /// The trust flows are decoded against.
    pub fn trust(&self) -> &Trust {
        &self.trust
    }

    /// A new app with no flows.
    pub fn new(config: Config) -> Self {
        App {
            store: FlowStore::new(config.max_flows),
            digests: HashMap::new(),
            kinds_width: 0,
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
            hide_noise: false,
            noise: None,
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
            summary: None,
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

    /// True while browsers' background requests are hidden (`N`).
    pub fn hiding_noise(&self) -> bool {
        self.hide_noise
    }

    /// True while follow mode is on.
    pub fn following(&self) -> bool {
        self.follow
    }

    /// The digest of a flow.
    pub fn digest(&self, id: FlowId) -> Option<&Digest> {
        self.digests.get(&id).map(Box::as_ref)
    }

    /// The columns the widest kinds text (`provisioning`, `saml,wsfed`, `provisioning+2`) of any
    /// flow filed since the start or the last clear needs, its first kind whole: the list sizes
    /// its KIND column to it.
    pub fn kinds_width(&self) -> usize {
        self.kinds_width
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
}
