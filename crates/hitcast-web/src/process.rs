//! The process's own resource use, read from Linux's `/proc/self` (elsewhere: none).

/// What `/proc/self` says of this process; NaN where a figure cannot be read.
pub(crate) struct Process {
    pub cpu_seconds: f64,
    pub resident_bytes: f64,
    pub virtual_bytes: f64,
    pub start_unix: f64,
    pub open_fds: f64,
    pub max_fds: f64,
    pub threads: f64,
}

/// Clock ticks a second in `/proc`'s times: Linux reports them in USER_HZ, which is 100 on every
/// architecture it runs on (the kernel converts from its own HZ).
const TICKS: f64 = 100.0;

impl Process {
    /// Reads it now; `None` without `/proc/self/stat`.
    pub(crate) fn read() -> Option<Process> {
        let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
        // The command's name, in parentheses, may hold spaces: fields are counted after it.
        let after = stat.rsplit_once(')')?.1;
        let fields: Vec<&str> = after.split_whitespace().collect();
        // Numbered as proc(5) numbers them: field 3 (state) is fields[0].
        let field = |n: usize| -> f64 {
            fields
                .get(n - 3)
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(f64::NAN)
        };
        let boot = std::fs::read_to_string("/proc/stat").ok().and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("btime "))
                .and_then(|v| v.trim().parse::<f64>().ok())
        });
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let resident_kb = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok());
        let max_fds = std::fs::read_to_string("/proc/self/limits")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("Max open files"))
                    .and_then(|l| l.split_whitespace().nth(3))
                    .and_then(|v| v.parse::<f64>().ok())
            });
        let open_fds = std::fs::read_dir("/proc/self/fd").map(|d| d.count() as f64);
        Some(Process {
            cpu_seconds: (field(14) + field(15)) / TICKS,
            resident_bytes: resident_kb.map_or(f64::NAN, |kb| kb * 1024.0),
            virtual_bytes: field(23),
            start_unix: boot.map_or(f64::NAN, |b| b + field(22) / TICKS),
            open_fds: open_fds.unwrap_or(f64::NAN),
            max_fds: max_fds.unwrap_or(f64::NAN),
            threads: field(20),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(target_os = "linux")]
    fn this_process_reads_as_alive() {
        let p = Process::read().unwrap_or_else(|| panic!("no /proc/self/stat"));
        assert!(p.cpu_seconds >= 0.0);
        assert!(p.resident_bytes > 1e5, "{}", p.resident_bytes);
        assert!(p.virtual_bytes >= p.resident_bytes);
        assert!(p.open_fds >= 3.0 && p.max_fds >= p.open_fds);
        assert!(p.threads >= 1.0);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        assert!(p.start_unix <= now + 1.0 && p.start_unix > now - 86_400.0 * 365.0);
    }
}
