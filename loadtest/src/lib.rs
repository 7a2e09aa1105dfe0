//! Load generator for the live-room gateway. A coordinator (`loadtest run
//! scenario.toml`) sets up rooms and tokens through the admin API, splits
//! the scenario over worker processes (`loadtest worker`, the same binary),
//! and merges their JSON reports into a summary, JSON, Markdown and an SVG
//! chart, with SLO checks for the exit code.
//!
//! **Invariant:** every run is bounded in time and connection count, and
//! targets outside 127.0.0.0/8 are refused unless explicitly allowed.

pub mod admin;
pub mod chain;
pub mod chart;
pub mod conn;
pub mod coordinator;
pub mod costream;
pub mod costream_report;
pub mod hist;
pub mod plan;
pub mod procstat;
pub mod report;
pub mod scenario;
pub mod sdp;
pub mod sender;
pub mod token;
pub mod viewer;
pub mod wire;
pub mod worker;
