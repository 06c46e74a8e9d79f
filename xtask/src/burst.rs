//! `cargo xtask burst`: what a page that fires its requests all at once does
//! to the dev server, round after round. Each round starts a fresh dev server
//! (so its functions are cold) and sends three bursts of 200 parallel
//! requests: completions of one task (complete-task cold), creates sharing
//! one Idempotency-Key, and list reads followed by one more read. Every
//! request must be answered, with a status the API gives such a request.
//!
//! `--direct` sends the same bursts to `cargo lambda watch` itself, past the
//! dev proxy: the figure from before the proxy queued requests per function
//! (ARCHITECTURE.md, "Decisions", on the emulator's stall).

use crate::dev::{DevServer, Settings, REQUEST_TIMEOUT};
use crate::{project_root, token, tools};
use anyhow::bail;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

/// Requests per burst: twice the emulator's queue of 100 per function.
pub const BURST: usize = 200;
/// How long a client waits for its answer: past the proxy's own timeout, so
/// that a request the proxy gave up on is seen as its 504, not as silence.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(REQUEST_TIMEOUT.as_secs() + 30);

/// `cargo xtask burst [--rounds N] [--direct]` on a throwaway PostgreSQL.
pub fn command(rounds: u32, direct: bool) -> anyhow::Result<()> {
    let root = project_root();
    let ground = crate::emulator::Ground::prepare(&root, "tasks_burst")?;
    let path = tools::path_with(&ground.lambda_dir);
    let path = path.to_string_lossy();
    let env = crate::emulator::local_env(&ground.url, &path);
    run(&root, &env, token::LOCAL_DEV_SECRET, rounds, direct)
}

/// `rounds` rounds against dev servers with the functions' environment
/// `env` (tokens signed with `secret`); a line per round on stderr. Fails
/// after the last round if a request of any round went unanswered or got an
/// unexpected status.
pub fn run(
    root: &Path,
    env: &[(&str, &str)],
    secret: &str,
    rounds: u32,
    direct: bool,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut failed = Vec::new();
    for round in 1..=rounds {
        let round_started = Instant::now();
        let server = DevServer::start(root, &Settings::quiet(env))?;
        let base_url = if direct {
            &server.emulator_url
        } else {
            &server.base_url
        };
        let user = format!("burst-{round}-{}", crate::token::now_secs());
        let token = token::mint(secret, &user, Duration::from_secs(3600));
        let client = Client {
            base_url,
            tasks: format!("/api/{user}/tasks"),
            token,
        };
        let bursts = client.round();
        drop(server);
        let line: Vec<String> = bursts.iter().map(Burst::to_string).collect();
        eprintln!(
            "xtask: burst round {round}/{rounds} ({:.1} s): {}",
            round_started.elapsed().as_secs_f64(),
            line.join("; ")
        );
        if bursts.iter().any(|b| !b.all_answered()) {
            failed.push(round);
        }
    }
    eprintln!(
        "xtask: burst: {} of {rounds} rounds with every request answered, in {:.1} s{}",
        rounds as usize - failed.len(),
        started.elapsed().as_secs_f64(),
        if direct {
            " (direct to cargo lambda watch)"
        } else {
            ""
        }
    );
    if !failed.is_empty() {
        bail!("burst: requests went unanswered or wrong in rounds {failed:?}");
    }
    Ok(())
}

struct Client<'a> {
    base_url: &'a str,
    tasks: String,
    token: String,
}

/// One burst's outcome: statuses counted, and the requests without an answer.
pub struct Burst {
    name: &'static str,
    expected: &'static [u16],
    statuses: BTreeMap<u16, usize>,
    unanswered: usize,
    took: Duration,
}

impl Burst {
    fn all_answered(&self) -> bool {
        self.unanswered == 0 && self.statuses.keys().all(|s| self.expected.contains(s))
    }
}

impl std::fmt::Display for Burst {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let answered: usize = self.statuses.values().sum();
        let statuses: Vec<String> = self
            .statuses
            .iter()
            .map(|(status, n)| format!("{status}×{n}"))
            .collect();
        write!(
            f,
            "{} {answered}/{} answered in {:.2} s ({})",
            self.name,
            answered + self.unanswered,
            self.took.as_secs_f64(),
            statuses.join(" ")
        )
    }
}

/// A request of a burst: method, path below the user's tasks, headers, body.
type Shot<'a> = (&'a str, String, Vec<(&'a str, &'a str)>, Option<&'a str>);

impl Client<'_> {
    /// The three bursts; a round ends at the first burst with a request
    /// unanswered (the emulator is then stuck, and each further request
    /// would only wait out its timeout).
    fn round(&self) -> Vec<Burst> {
        let mut bursts = Vec::new();
        let created = self.send(&("POST", String::new(), vec![], Some(r#"{"title":"burst"}"#)));
        let id = match &created {
            Some((201, body)) => serde_json::from_str::<serde_json::Value>(body)
                .ok()
                .and_then(|task| task["id"].as_i64()),
            _ => None,
        };
        let Some(id) = id else {
            bursts.push(Burst {
                name: "the first create",
                expected: &[201],
                statuses: created.iter().map(|(status, _)| (*status, 1)).collect(),
                unanswered: usize::from(created.is_none()),
                took: Duration::ZERO,
            });
            return bursts;
        };
        let complete = ("PATCH", format!("/{id}/complete"), vec![], None);
        bursts.push(self.burst("complete-task (cold)", &[200], &complete));
        if !bursts[0].all_answered() {
            return bursts;
        }
        let create = (
            "POST",
            String::new(),
            vec![("Idempotency-Key", "one-key-for-the-burst")],
            Some(r#"{"title":"once"}"#),
        );
        bursts.push(self.burst("create, one key", &[201, 409], &create));
        if !bursts[1].all_answered() {
            return bursts;
        }
        let list = ("GET", String::new(), vec![], None);
        let mut reads = self.burst("list", &[200], &list);
        match self.send(&list) {
            Some((status, _)) => *reads.statuses.entry(status).or_default() += 1,
            None => reads.unanswered += 1,
        }
        bursts.push(reads);
        bursts
    }

    /// `BURST` copies of `shot` at once (they start together at a barrier).
    fn burst(&self, name: &'static str, expected: &'static [u16], shot: &Shot) -> Burst {
        let barrier = std::sync::Barrier::new(BURST);
        let started = Instant::now();
        let answers: Vec<Option<u16>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..BURST)
                .map(|_| {
                    let barrier = &barrier;
                    scope.spawn(move || {
                        barrier.wait();
                        self.send(shot).map(|(status, _)| status)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().ok().flatten())
                .collect()
        });
        let mut burst = Burst {
            name,
            expected,
            statuses: BTreeMap::new(),
            unanswered: 0,
            took: started.elapsed(),
        };
        for answer in answers {
            match answer {
                Some(status) => *burst.statuses.entry(status).or_default() += 1,
                None => burst.unanswered += 1,
            }
        }
        burst
    }

    /// One request; its status and body, or `None` without an answer in time.
    fn send(&self, (method, path, headers, body): &Shot) -> Option<(u16, String)> {
        let agent = ureq::AgentBuilder::new().timeout(CLIENT_TIMEOUT).build();
        let mut request = agent
            .request(method, &format!("{}{}{path}", self.base_url, self.tasks))
            .set("Authorization", &format!("Bearer {}", self.token));
        for (name, value) in headers {
            request = request.set(name, value);
        }
        let result = match body {
            Some(body) => request
                .set("Content-Type", "application/json")
                .send_string(body),
            None => request.call(),
        };
        let response = match result {
            Ok(response) | Err(ureq::Error::Status(_, response)) => response,
            Err(ureq::Error::Transport(_)) => return None,
        };
        let status = response.status();
        response.into_string().ok().map(|body| (status, body))
    }
}
