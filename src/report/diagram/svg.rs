//! The `<svg class="sequence">` of a story: the lanes with their lifelines, then one
//! `<g class="step">` per step drawn, laid out top to bottom. Text is measured in columns of a
//! 12px monospace font and shortened to the room it has.

use std::fmt::Write as _;

use super::parties::{Party, party_of};
use super::{STEPS_DRAWN, StepFlow, number, text};
use crate::analysis::story::{Step, Story};
use crate::fit;
use crate::flow::FlowId;

/// Space around the drawing.
const MARGIN: u32 = 16;
/// The width of one lane.
const LANE_W: u32 = 220;
/// Where the lane headers' boxes begin, and how tall they are.
const HEAD_Y: u32 = 8;
const HEAD_H: u32 = 24;
/// Where the first step begins.
const TOP: u32 = HEAD_Y + HEAD_H + 12;
/// The height of a step's row, and of a failed step's (one more line: the reason).
const ROW_H: u32 = 66;
const FAILED_ROW_H: u32 = 82;
/// The height of the note where steps were left out.
const GAP_H: u32 = 24;
/// The room a request's text has at least, however short its arrow.
const REQUEST_MIN_W: u32 = 300;
/// The width of one column of text in tenths of a pixel (a 12px monospace font).
const COLUMN_TENTHS: u32 = 73;
/// The most lanes; parties past the last share it.
const MAX_LANES: usize = 12;
/// The name of the shared last lane.
const OTHERS: &str = "other hosts";

/// Default colours, which the page's stylesheet may override through the classes.
const INK: &str = "#1f2328";
const LINE: &str = "#57606a";
const FAINT: &str = "#d0d7de";
const HEAD_FILL: &str = "#f6f8fa";
const RED: &str = "#cf222e";

/// How many columns of text fit in `px` pixels.
fn columns(px: u32) -> usize {
    (px.saturating_mul(10) / COLUMN_TENTHS) as usize
}

/// The x of lane `i`'s lifeline.
fn lane_x(i: usize) -> u32 {
    MARGIN + LANE_W / 2 + LANE_W * i as u32
}

/// A row of the diagram: a step, or a note that `n` steps were left out.
enum Row<'s> {
    Step {
        step: &'s Step,
        flow: Option<StepFlow>,
        lane: usize,
    },
    Gap(usize),
}

/// Writes the story's SVG into `out`.
pub(super) fn diagram(out: &mut String, story: &Story, flow: &dyn Fn(FlowId) -> Option<StepFlow>) {
    let mut lanes = vec![Party::Client];
    let mut rows = Vec::new();
    let mut next = 0;
    for i in drawn(story) {
        if i > next {
            rows.push(Row::Gap(i - next));
        }
        next = i + 1;
        let Some(step) = story.steps.get(i) else {
            continue;
        };
        let flow = flow(step.id);
        let party = flow
            .as_ref()
            .map_or_else(|| Party::Host("unknown".into()), party_of);
        rows.push(Row::Step {
            step,
            flow,
            lane: lane_of(&mut lanes, party),
        });
    }
    if next < story.steps.len() {
        rows.push(Row::Gap(story.steps.len() - next));
    }

    let width = 2 * MARGIN + LANE_W * lanes.len() as u32;
    let body: u32 = rows
        .iter()
        .map(|r| match r {
            Row::Step { step, .. } if step.failed.is_some() => FAILED_ROW_H,
            Row::Step { .. } => ROW_H,
            Row::Gap(_) => GAP_H,
        })
        .sum();
    let height = TOP + body + MARGIN;
    let _ = write!(
        out,
        "<svg class=\"sequence\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} \
         {height}\" width=\"{width}\" height=\"{height}\" role=\"img\" aria-label=\"{}\" \
         font-family=\"ui-monospace, SFMono-Regular, Menlo, Consolas, monospace\" \
         font-size=\"12\" fill=\"{INK}\">",
        text(&format!(
            "sequence diagram of the {}: {} steps between {}",
            story.kind.title(),
            story.steps.len(),
            lanes.iter().map(Party::name).collect::<Vec<_>>().join(", ")
        )),
    );
    for (i, party) in lanes.iter().enumerate() {
        lane(out, i, party, height);
    }
    let mut y = TOP;
    for row in &rows {
        match row {
            Row::Step { step, flow, lane } => {
                step_group(out, step, flow.as_ref(), *lane, y, width);
                y += if step.failed.is_some() {
                    FAILED_ROW_H
                } else {
                    ROW_H
                };
            }
            Row::Gap(n) => {
                let _ = write!(
                    out,
                    "<g class=\"gap\"><text class=\"gap-note\" x=\"{}\" y=\"{}\" >… {n} step{} not drawn</text></g>",
                    lane_x(0) + 6,
                    y + 16,
                    if *n == 1 { "" } else { "s" },
                );
                y += GAP_H;
            }
        }
    }
    out.push_str("</svg>");
}

/// The indices of the steps drawn, in order: all of them, or past [`STEPS_DRAWN`] the failed
/// ones (at most half of that) and the first others.
fn drawn(story: &Story) -> Vec<usize> {
    let n = story.steps.len();
    if n <= STEPS_DRAWN {
        return (0..n).collect();
    }
    let mut keep = vec![false; n];
    let failed = story
        .steps
        .iter()
        .enumerate()
        .filter(|(_, s)| s.failed.is_some())
        .map(|(i, _)| i)
        .take(STEPS_DRAWN / 2);
    let mut kept = 0;
    for i in failed {
        keep[i] = true;
        kept += 1;
    }
    for k in keep.iter_mut() {
        if kept == STEPS_DRAWN {
            break;
        }
        if !*k {
            *k = true;
            kept += 1;
        }
    }
    (0..n).filter(|&i| keep[i]).collect()
}

/// The lane of `party`, added when new; past [`MAX_LANES`] new parties share the last lane.
fn lane_of(lanes: &mut Vec<Party>, party: Party) -> usize {
    if let Some(i) = lanes.iter().position(|p| *p == party) {
        return i;
    }
    if lanes.len() + 1 >= MAX_LANES {
        let others = Party::Host(OTHERS.into());
        if let Some(i) = lanes.iter().position(|p| *p == others) {
            return i;
        }
        lanes.push(others);
    } else {
        lanes.push(party);
    }
    lanes.len() - 1
}

/// A lane's header and its lifeline.
fn lane(out: &mut String, i: usize, party: &Party, height: u32) {
    let x = lane_x(i);
    let name = party.name();
    let shown = fit::host(name, columns(LANE_W - 16));
    let _ = write!(
        out,
        "<g class=\"lane\" data-party=\"{name_attr}\"><title>{name_attr}</title>\
         <line class=\"lifeline\" x1=\"{x}\" y1=\"{y0}\" x2=\"{x}\" y2=\"{y1}\" \
         stroke=\"{FAINT}\" stroke-dasharray=\"4 4\"/>\
         <rect class=\"lane-head\" x=\"{rx}\" y=\"{HEAD_Y}\" width=\"{rw}\" height=\"{HEAD_H}\" \
         rx=\"4\" fill=\"{HEAD_FILL}\" stroke=\"{FAINT}\"/>\
         <text class=\"lane-name\" x=\"{x}\" y=\"{ty}\" text-anchor=\"middle\" \
         font-weight=\"bold\">{}</text></g>",
        text(&shown),
        name_attr = text(name),
        y0 = HEAD_Y + HEAD_H,
        y1 = height - MARGIN / 2,
        rx = x - (LANE_W - 12) / 2,
        rw = LANE_W - 12,
        ty = HEAD_Y + 16,
    );
}

/// One step: its label, the request arrow to its lane and the dashed response arrow back, and
/// for a failed step the reason, all in one `<g class="step">` whose `<title>` says it all.
fn step_group(
    out: &mut String,
    step: &Step,
    flow: Option<&StepFlow>,
    lane: usize,
    y: u32,
    width: u32,
) {
    let (x0, x1) = (lane_x(0), lane_x(lane));
    let failed = step.failed.as_deref();
    let (method, host, path) = flow.map_or(("?", "unknown", ""), |f| {
        (f.method.as_str(), f.host.as_str(), f.path.as_str())
    });
    let response = match flow {
        Some(StepFlow {
            status: Some(s), ..
        }) => s.to_string(),
        Some(StepFlow { error: true, .. }) => "error".to_string(),
        Some(_) => "no response".to_string(),
        None => "not in this report".to_string(),
    };
    let head = format!("{} {method} ", step.id);
    // The request's text may run past a short arrow, over the next lane, up to a minimum room.
    let room =
        columns(x1.saturating_sub(x0 + 12).max(REQUEST_MIN_W)).saturating_sub(fit::width(&head));
    let request = format!("{head}{}", fit::path(path, room.max(8)));
    let line_room = columns(width.saturating_sub(x0 + 6 + MARGIN));
    let (arrow_colour, class) = match failed {
        Some(_) => (RED, "step failed"),
        None => (LINE, "step ok"),
    };
    let mut title = format!(
        "{}\n{} {method} {host}{path}\n→ {response}",
        step.label, step.id
    );
    if let Some(why) = failed {
        title.push_str("\n✗ ");
        title.push_str(why);
    }
    let y = y + 4;
    let (ya, yb) = (y + 34, y + 56);
    let _ = write!(
        out,
        "<g class=\"{class}\" data-flow=\"{}\"><title>{}</title>\
         <rect class=\"hit\" x=\"{x0}\" y=\"{y}\" width=\"{hit_w}\" height=\"{hit_h}\" \
         fill=\"transparent\"/>\
         <text class=\"step-label\" x=\"{lx}\" y=\"{}\" font-weight=\"bold\">{}</text>\
         <text class=\"request-label\" x=\"{lx}\" y=\"{}\">{}</text>\
         <line class=\"request\" x1=\"{x0}\" y1=\"{ya}\" x2=\"{x1}\" y2=\"{ya}\" \
         stroke=\"{arrow_colour}\" stroke-width=\"1.5\"/>\
         <polygon class=\"arrowhead\" points=\"{x1},{ya} {},{} {},{}\" fill=\"{arrow_colour}\"/>\
         <text class=\"response-label\" x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\
         <line class=\"response\" x1=\"{x1}\" y1=\"{yb}\" x2=\"{x0}\" y2=\"{yb}\" \
         stroke=\"{arrow_colour}\" stroke-width=\"1.5\" stroke-dasharray=\"5 4\"/>\
         <polygon class=\"arrowhead\" points=\"{x0},{yb} {},{} {},{}\" fill=\"{arrow_colour}\"/>",
        number(step.id),
        text(&title),
        y + 12,
        text(&fit::cut_end(&step.label, line_room)),
        y + 28,
        text(&request),
        x1 - 8,
        ya - 4,
        x1 - 8,
        ya + 4,
        x1 - 6,
        y + 50,
        text(&fit::cut_end(
            &response,
            columns(x1.saturating_sub(x0 + 12))
        )),
        x0 + 8,
        yb - 4,
        x0 + 8,
        yb + 4,
        lx = x0 + 6,
        // A transparent box under the whole step, so a click anywhere on it lands on the step
        // (an SVG group's empty space is not part of it).
        hit_w = width.saturating_sub(x0 + MARGIN),
        hit_h = if failed.is_some() {
            FAILED_ROW_H
        } else {
            ROW_H
        } - 4,
    );
    if let Some(why) = failed {
        let _ = write!(
            out,
            "<text class=\"reason\" x=\"{}\" y=\"{}\" fill=\"{RED}\">✗ {}</text>",
            x0 + 6,
            y + 72,
            text(&fit::cut_end(why, line_room.saturating_sub(2))),
        );
    }
    out.push_str("</g>");
}
