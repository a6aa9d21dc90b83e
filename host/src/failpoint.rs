//! Failpoints: `REVOPS_FAILPOINT=<name>` makes the process abort at that named point, as a
//! crash (kill -9, power loss) would. The crash tests use them to stop revops exactly between
//! an action and its booking; in normal operation the variable is unset and nothing happens.

const ENV: &str = "REVOPS_FAILPOINT";

/// Aborts the process if `REVOPS_FAILPOINT` names `point`.
pub fn hit(point: &str) {
    if std::env::var(ENV).is_ok_and(|set| set.split(',').any(|p| p.trim() == point)) {
        tracing::warn!(point, "failpoint reached: aborting");
        std::process::abort();
    }
}
