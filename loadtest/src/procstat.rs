//! Resident memory and CPU time of local processes (gateways, workers),
//! from /proc/<pid>/status and /proc/<pid>/stat.

use serde::{Deserialize, Serialize};

/// Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on Linux).
pub const TICKS_PER_S: f64 = 100.0;

/// Resident set in KiB (`VmRSS`).
pub fn rss_kib(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    parse_rss(&s)
}

fn parse_rss(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// utime + stime in clock ticks.
pub fn cpu_ticks(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_ticks(&s)
}

fn parse_ticks(stat: &str) -> Option<u64> {
    // The command name may hold spaces and parentheses: fields start after the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
}

/// Busy and total jiffies of the whole machine (the `cpu` line of /proc/stat).
pub fn machine_ticks() -> Option<(u64, u64)> {
    let s = std::fs::read_to_string("/proc/stat").ok()?;
    parse_machine(&s)
}

fn parse_machine(stat: &str) -> Option<(u64, u64)> {
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let v: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect();
    let total: u64 = v.iter().take(8).sum();
    // idle + iowait are not busy.
    let idle = v.get(3)? + v.get(4).copied().unwrap_or(0);
    Some((total - idle, total))
}

/// Machine CPU over a window, in percent of one core (200 = two cores busy).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct MachineCpu {
    /// Cores.
    pub cores: usize,
    /// Busy percent of one core over the traffic window, every process.
    pub busy_pct: f64,
}

impl MachineCpu {
    /// Busy CPU between two `machine_ticks` readings.
    pub fn between(a: (u64, u64), b: (u64, u64)) -> MachineCpu {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let total = b.1.saturating_sub(a.1).max(1) as f64;
        let busy = b.0.saturating_sub(a.0) as f64;
        MachineCpu {
            cores,
            busy_pct: busy / total * 100.0 * cores as f64,
        }
    }
}

/// One process observed over a run.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ProcWatch {
    /// Pid.
    pub pid: u32,
    /// `gateway` or `worker`.
    pub role: String,
    /// RSS at the first sample (KiB).
    pub rss_first_kib: u64,
    /// Largest RSS seen (KiB).
    pub rss_peak_kib: u64,
    /// RSS at the last sample (KiB).
    pub rss_last_kib: u64,
    /// CPU used between the first and last sample, percent of one core.
    pub cpu_pct: f64,
    /// CPU used over the traffic window (marked by the coordinator), percent of one core.
    pub cpu_pct_traffic: Option<f64>,
    /// RSS when the traffic window ended (KiB), before the viewers leave.
    #[serde(default)]
    pub rss_traffic_end_kib: Option<u64>,
    /// CPU percent of one core per sampled second.
    pub cpu_series: Vec<f64>,
    /// Whether the process was gone at the last sample.
    pub exited: bool,
    #[serde(skip)]
    window_start: Option<(std::time::Instant, u64)>,
    #[serde(skip)]
    first_ticks: Option<(std::time::Instant, u64)>,
    #[serde(skip)]
    prev_ticks: Option<(std::time::Instant, u64)>,
}

impl ProcWatch {
    /// Starts watching `pid`.
    pub fn new(pid: u32, role: &str) -> ProcWatch {
        let mut w = ProcWatch {
            pid,
            role: role.to_string(),
            ..ProcWatch::default()
        };
        w.sample();
        w
    }

    /// Marks the start of the traffic window.
    pub fn mark_start(&mut self) {
        if let Some(t) = cpu_ticks(self.pid) {
            self.window_start = Some((std::time::Instant::now(), t));
        }
    }

    /// Marks the end of the traffic window.
    pub fn mark_end(&mut self) {
        self.rss_traffic_end_kib = rss_kib(self.pid);
        if let (Some((t0, p0)), Some(t)) = (self.window_start, cpu_ticks(self.pid)) {
            let secs = t0.elapsed().as_secs_f64();
            if secs > 0.0 {
                self.cpu_pct_traffic =
                    Some(t.saturating_sub(p0) as f64 / TICKS_PER_S / secs * 100.0);
            }
        }
    }

    /// Takes one sample.
    pub fn sample(&mut self) {
        let now = std::time::Instant::now();
        let (Some(rss), Some(ticks)) = (rss_kib(self.pid), cpu_ticks(self.pid)) else {
            self.exited = true;
            return;
        };
        if self.first_ticks.is_none() {
            self.first_ticks = Some((now, ticks));
            self.rss_first_kib = rss;
        }
        if let Some((t, p)) = self.prev_ticks {
            let secs = now.duration_since(t).as_secs_f64();
            if secs > 0.0 {
                self.cpu_series
                    .push(ticks.saturating_sub(p) as f64 / TICKS_PER_S / secs * 100.0);
            }
        }
        if let Some((t, p)) = self.first_ticks {
            let secs = now.duration_since(t).as_secs_f64();
            if secs > 0.0 {
                self.cpu_pct = ticks.saturating_sub(p) as f64 / TICKS_PER_S / secs * 100.0;
            }
        }
        self.prev_ticks = Some((now, ticks));
        self.rss_peak_kib = self.rss_peak_kib.max(rss);
        self.rss_last_kib = rss;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn parses_proc_files() {
        assert_eq!(parse_rss("Name:\tx\nVmRSS:\t  1234 kB\n"), Some(1234));
        let stat = "42 (a b) c) S 1 2 3 4 5 6 7 8 9 10 111 222 0 0";
        assert_eq!(parse_ticks(stat), Some(333));
        let m = "cpu  10 0 5 80 5 0 0 0 0 0\ncpu0 1 2 3 4\n";
        assert_eq!(parse_machine(m), Some((15, 100)));
        let c = MachineCpu::between((0, 0), (50, 100));
        assert!(c.busy_pct > 0.0);
    }

    #[test]
    fn watches_itself() {
        let mut w = ProcWatch::new(std::process::id(), "self");
        w.sample();
        assert!(w.rss_peak_kib > 0);
        assert!(!w.exited);
    }
}
