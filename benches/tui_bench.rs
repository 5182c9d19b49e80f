//! TUI latency over a 100,000-flow capture, rendering into ratatui's `TestBackend`:
//!
//! * time to first frame: from opening the file to a drawn frame whose list is full, while the
//!   background loader is still reading (goal ≤ 1.5 s);
//! * key press to frame: `App::update` for a key plus the redraw, for moves, page jumps, opening
//!   a flow (decode on selection), switching tabs, applying a filter over every flow, changing
//!   the order, and a first visit to the Story tab (goal ≤ 16 ms);
//! * for the keys that start work over every flow (a filter, an order, stories), also the time
//!   until the result is complete: the loop then runs one slice per turn (`Event::Work`) with a
//!   frame after each, as `tui::event_loop` does when idle;
//! * the render cost per frame on its own, and the full load time (the loader's worker pool
//!   decodes every flow for its digest) for reference.
//!
//! The capture is synthetic: the flows of `captures/aadconnect-sync.har` plus SAML and WS-Fed
//! sign-ins from the decoder fixtures, repeated with fresh ids and times.
//!
//! `cargo bench --bench tui_bench --features testing` (release). `TUI_BENCH_FLOWS=N` changes the
//! size.

// A benchmark harness, like a test: a failed setup step should stop it loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::time::{Duration, Instant, UNIX_EPOCH};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use idscope::capture::HarWriter;
use idscope::flow::{Body, Flow, FlowId};
use idscope::tui::{App, Config, Event, app::Meta};
use idscope_decoders::OwnedMessage;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn templates(root: &Path) -> Vec<Flow> {
    let mut t =
        idscope::capture::read_all(&root.join("captures/aadconnect-sync.har")).unwrap_or_default();
    for name in [
        "saml/post_response_signed_assertion",
        "wsfed/login_srf_post",
        "saml/redirect_authnrequest_unsigned",
    ] {
        let path = root.join(format!("decoders/tests/fixtures/{name}.http"));
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let Ok(m) = OwnedMessage::parse_http_text(&text) else {
            continue;
        };
        let mut req = idscope::flow::testing::request(
            m.method.as_deref().unwrap_or("GET"),
            m.url.as_deref().unwrap_or("https://x/"),
        );
        req.headers = m.headers.into();
        req.body = Body::plain(m.body);
        t.push(idscope::flow::testing::flow(
            0,
            req,
            idscope::flow::testing::response(200, "text/html", b"<html>ok</html>"),
        ));
    }
    t
}

fn key(c: KeyCode) -> Event {
    Event::Key(KeyEvent::new(c, KeyModifiers::NONE))
}

/// Runs `ev` and draws (the key-to-frame time), then runs slices of work with a frame after
/// each until the app is idle. Returns (key to frame, key to complete, slices, longest slice).
fn until_idle(
    terminal: &mut Terminal<TestBackend>,
    app: &mut App,
    ev: Event,
) -> (Duration, Duration, usize, Duration) {
    let t = Instant::now();
    app.update(ev);
    terminal.draw(|f| idscope::tui::ui::render(f, app)).unwrap();
    let first = t.elapsed();
    let mut slices = 0;
    let mut longest = Duration::ZERO;
    while app.busy() {
        let s = Instant::now();
        app.update(Event::Work);
        terminal.draw(|f| idscope::tui::ui::render(f, app)).unwrap();
        longest = longest.max(s.elapsed());
        slices += 1;
    }
    (first, t.elapsed(), slices, longest)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

struct Stats {
    name: &'static str,
    samples: Vec<Duration>,
}

impl Stats {
    fn report(&mut self) {
        self.samples.sort();
        let n = self.samples.len().max(1);
        let pct = |p: usize| {
            self.samples
                .get((n * p / 100).min(n - 1))
                .copied()
                .unwrap_or_default()
        };
        let mean = self.samples.iter().sum::<Duration>() / n as u32;
        println!(
            "  {:<28} n={:<5} mean {:>8.3} ms  p50 {:>8.3} ms  p99 {:>8.3} ms  max {:>8.3} ms",
            self.name,
            self.samples.len(),
            mean.as_secs_f64() * 1e3,
            pct(50).as_secs_f64() * 1e3,
            pct(99).as_secs_f64() * 1e3,
            self.samples
                .last()
                .copied()
                .unwrap_or_default()
                .as_secs_f64()
                * 1e3,
        );
    }
}

fn main() {
    let n: u64 = std::env::var("TUI_BENCH_FLOWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let templates = templates(root);
    assert!(!templates.is_empty(), "no template flows");
    let dir = std::env::temp_dir().join(format!("idscope-tui-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("big.har");
    let t = Instant::now();
    let mut w = HarWriter::create(&path).unwrap();
    for i in 0..n {
        let mut f = templates[(i as usize) % templates.len()].clone();
        f.id = FlowId(i);
        f.started_at = UNIX_EPOCH + Duration::from_secs(1_700_000_000 + i);
        w.write_flow(&f).unwrap();
    }
    w.finish().unwrap();
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    println!(
        "capture: {n} flows, {:.1} MB, written in {:.2} s",
        size as f64 / 1e6,
        t.elapsed().as_secs_f64()
    );

    // Time to first frame: open, load in the background, draw as soon as the list is full.
    let mut terminal = Terminal::new(TestBackend::new(160, 50)).unwrap();
    let start = Instant::now();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let loader = idscope::tui::spawn_loader(path.clone(), tx);
    let mut app = App::new(Config {
        meta: Meta {
            source: path.display().to_string(),
            ..Meta::default()
        },
        max_flows: 1_000_000,
        filter: None,
        now: UNIX_EPOCH,
        loading: true,
    });
    app.update(Event::Resize(160, 50));
    let mut done = false;
    while !done && app.store().len() < app.list_height() {
        match rx.blocking_recv() {
            Some(ev) => {
                done = matches!(ev, Event::LoadDone(_));
                app.update(ev);
            }
            None => break,
        }
    }
    terminal
        .draw(|f| idscope::tui::ui::render(f, &app))
        .unwrap();
    let first_frame = start.elapsed();
    println!(
        "time to first frame: {:.1} ms ({} flows loaded so far; goal ≤ 1500 ms)",
        first_frame.as_secs_f64() * 1e3,
        app.store().len()
    );
    // The rest of the load, redrawing per batch as the UI loop would.
    let mut frames_while_loading = Stats {
        name: "batch + redraw while loading",
        samples: vec![],
    };
    let mut slowest = (Duration::ZERO, 0, 0);
    while !done {
        let Some(ev) = rx.blocking_recv() else { break };
        done = matches!(ev, Event::LoadDone(_));
        let before = app.store().len();
        let t = Instant::now();
        app.update(ev);
        terminal
            .draw(|f| idscope::tui::ui::render(f, &app))
            .unwrap();
        let took = t.elapsed();
        if took > slowest.0 {
            slowest = (took, before, app.store().len());
        }
        frames_while_loading.samples.push(took);
    }
    println!(
        "slowest batch + redraw while loading: {:.1} ms, taking the store from {} to {} flows",
        slowest.0.as_secs_f64() * 1e3,
        slowest.1,
        slowest.2
    );
    let _ = loader.join();
    println!(
        "full load (parse, then decode every flow for its digest on {} worker threads): {:.2} s, {} flows",
        idscope::analysis::pipeline::default_workers(),
        start.elapsed().as_secs_f64(),
        app.store().len()
    );
    // After the load the app builds the stories in the background (idle turns of the loop).
    let t = Instant::now();
    let mut slices = 0;
    let mut longest = Duration::ZERO;
    while app.busy() {
        let s = Instant::now();
        app.update(Event::Work);
        terminal
            .draw(|f| idscope::tui::ui::render(f, &app))
            .unwrap();
        longest = longest.max(s.elapsed());
        slices += 1;
    }
    println!(
        "stories built after the load: {:.1} ms in {slices} slices (longest slice + frame {:.2} ms)",
        ms(t.elapsed()),
        ms(longest)
    );

    // Render alone, the list full.
    let mut render = Stats {
        name: "render only (list)",
        samples: vec![],
    };
    for _ in 0..500 {
        let t = Instant::now();
        terminal
            .draw(|f| idscope::tui::ui::render(f, &app))
            .unwrap();
        render.samples.push(t.elapsed());
    }
    // Key press to frame.
    let mut press = |app: &mut App, name: &'static str, code: KeyCode, reps: usize| {
        let mut s = Stats {
            name,
            samples: vec![],
        };
        for _ in 0..reps {
            let t = Instant::now();
            app.update(key(code));
            terminal.draw(|f| idscope::tui::ui::render(f, app)).unwrap();
            s.samples.push(t.elapsed());
        }
        s
    };
    println!("key press to frame (update + render into TestBackend 160x50; goal ≤ 16 ms):");
    let mut all = vec![
        press(&mut app, "j (down)", KeyCode::Char('j'), 2_000),
        press(&mut app, "PgDn", KeyCode::PageDown, 500),
        press(&mut app, "k (up)", KeyCode::Char('k'), 500),
        press(&mut app, "G (last)", KeyCode::Char('G'), 20),
        press(&mut app, "g (first)", KeyCode::Char('g'), 20),
    ];
    // Open a flow (decode on selection), cycle its tabs, go back, move on: 200 flows.
    let mut open = Stats {
        name: "enter (open: decode)",
        samples: vec![],
    };
    let mut tabs = Stats {
        name: "tab (next tab)",
        samples: vec![],
    };
    let mut back = Stats {
        name: "q (back to list)",
        samples: vec![],
    };
    app.update(key(KeyCode::Char('g')));
    for _ in 0..200 {
        let mut timed = |s: &mut Stats, app: &mut App, ev: Event| {
            let t = Instant::now();
            app.update(ev);
            terminal.draw(|f| idscope::tui::ui::render(f, app)).unwrap();
            s.samples.push(t.elapsed());
        };
        timed(&mut open, &mut app, key(KeyCode::Enter));
        for _ in 0..5 {
            timed(&mut tabs, &mut app, key(KeyCode::Tab));
        }
        timed(&mut back, &mut app, key(KeyCode::Char('q')));
        for _ in 0..7 {
            app.update(key(KeyCode::Char('j')));
        }
    }
    all.extend([open, tabs, back]);
    // Applying a filter tests every flow: the key's frame comes after the first slice, the
    // result when the last slice is done.
    let mut filter = Stats {
        name: "enter on a filter (1st frame)",
        samples: vec![],
    };
    let mut filter_done = Stats {
        name: "enter on a filter (complete)",
        samples: vec![],
    };
    println!(
        "filters over {} flows (key → first frame / → result complete):",
        app.store().len()
    );
    for expr in [
        "~k saml",
        "~d login & ~c 200",
        "~finding error",
        "~op Provision",
        "~claim upn=alice",
        "~hq soapaction",
        "!~k realm & ~m POST",
        "~b invalid_grant",
        "",
    ] {
        app.update(key(KeyCode::Char('f')));
        app.update(Event::Key(KeyEvent::new(
            KeyCode::Char('u'),
            KeyModifiers::CONTROL,
        )));
        for c in expr.chars() {
            app.update(key(KeyCode::Char(c)));
        }
        let (first, done, slices, longest) =
            until_idle(&mut terminal, &mut app, key(KeyCode::Enter));
        filter.samples.push(first);
        filter_done.samples.push(done);
        println!(
            "  filter {:<22} {:>7.2} ms / {:>8.2} ms ({slices} more slices, longest + frame {:.2} ms) → {} of {} flows",
            if expr.is_empty() { "(cleared)" } else { expr },
            ms(first),
            ms(done),
            ms(longest),
            app.shown().len(),
            app.store().len()
        );
    }
    all.push(filter);
    all.push(filter_done);
    // The order key sorts every shown flow.
    println!("order key `o` (key → first frame / → complete):");
    for _ in 0..6 {
        let (first, done, slices, _) = until_idle(&mut terminal, &mut app, key(KeyCode::Char('o')));
        println!(
            "  → {:<9} {:>7.2} ms / {:>8.2} ms ({slices} more slices)",
            app.message().unwrap_or("").trim_start_matches("order: "),
            ms(first),
            ms(done)
        );
    }
    // A first visit to the Story tab when the stories are not built: a replayed flow arrives
    // (which makes them stale), then the user opens a flow and tabs to Story.
    app.update(Event::Replayed(Box::new(templates[0].clone())));
    app.update(key(KeyCode::Char('g')));
    app.update(key(KeyCode::Enter));
    for _ in 0..2 {
        app.update(key(KeyCode::Tab));
    }
    let t = Instant::now();
    app.update(key(KeyCode::Tab));
    terminal
        .draw(|f| idscope::tui::ui::render(f, &app))
        .unwrap();
    let first = t.elapsed();
    let shown_first = app
        .flow_view()
        .and_then(|v| v.story.first())
        .map(|l| l.text.clone())
        .unwrap_or_default();
    let (_, rest, slices, longest) = until_idle(&mut terminal, &mut app, Event::Work);
    println!(
        "story tab, first visit with stale stories: {:.2} ms to the first frame (\"{shown_first}\"), {:.1} ms until built ({} more slices, longest + frame {:.2} ms)",
        ms(first),
        ms(first + rest),
        slices + 1,
        ms(longest)
    );
    app.update(key(KeyCode::Char('q')));
    for s in &mut all {
        s.report();
    }
    frames_while_loading.report();
    render.report();
    let _ = std::fs::remove_dir_all(&dir);
}
