//! `rampart waivers [PATH…]`: every waiver and inline suppression with its
//! status (active, expiring, expired, unused).

use std::io::Write;
use std::path::Path;

use super::{CheckArgs, EXIT_ERROR, EXIT_OK};
use crate::render::printable;
use crate::session::{self, CheckRequest};

pub(super) fn run(a: &CheckArgs, cwd: &Path, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let request = CheckRequest {
        paths: a.paths.clone(),
        policies: a.policies.request(),
        profile: a.profile,
        config: a.config.clone(),
        no_ignore: a.no_ignore,
    };
    let Some(report) = session::check(&request, cwd, err) else {
        return EXIT_ERROR;
    };
    let mut list = report.acceptances.clone();
    list.sort_by(|x, y| (&x.file, x.line).cmp(&(&y.file, y.line)));
    for x in &list {
        let who = if x.kind == "waiver" {
            format!(" owner {} expires {}", x.owner, x.expires)
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "{}:{}: {:<8} {:<6} {}{who} hides {} finding{}{}",
            printable(&x.file),
            x.line,
            x.status,
            x.kind,
            printable(&x.covers),
            x.hidden,
            if x.hidden == 1 { "" } else { "s" },
            if x.reason.is_empty() {
                String::new()
            } else {
                format!(" -- {}", printable(&x.reason))
            },
        );
    }
    let count = |s: &str| list.iter().filter(|x| x.status == s).count();
    let _ = writeln!(
        out,
        "{} waiver(s) and suppression(s): {} active, {} expiring, {} expired, {} unused",
        list.len(),
        count("active"),
        count("expiring"),
        count("expired"),
        count("unused"),
    );
    EXIT_OK
}
