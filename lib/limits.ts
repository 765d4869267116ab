/**
 * Bounds on what playbooks and chat commands may ask for, shared by both so a size the playbook
 * takes can also be typed as `scale`, and quoted in the messages that refuse a value past them.
 */

/** Procs of one proc type in one environment (`size:` in a playbook, `scale web=N` in chat). */
export const MAX_PROCS_PER_TYPE = 100;

/** Longest `drain:` (the wait between taking old procs out of the pool and stopping them). */
export const MAX_DRAIN_MS = 3_600_000;

/**
 * Longest `uptest_timeout:` and `uptest_run_timeout:` (a new proc's uptests, all runs; one run).
 * An hour is far past any warm-up; Node's timers cannot wait past ~24.8 days (2^31-1 ms) at all.
 */
export const MAX_UPTEST_TIMEOUT_MS = 3_600_000;

/** Longest `approval: { timeout: }`: a week (a request nobody approves in a week is stale). */
export const MAX_APPROVAL_TIMEOUT_MS = 7 * 24 * 3_600_000;

/**
 * Lowest port a squad's `ports:` range may start at: below it are the privileged ports
 * (1-1023), which procs, running as an unprivileged user, cannot bind.
 */
export const MIN_PROC_PORT = 1024;

/**
 * Most ports a squad's range may span. A host runs a few hundred procs at most; a wider range
 * is most likely a typo (5000-59999), and it reaches into the kernel's ephemeral ports
 * (Linux: 32768-60999) that outgoing connections take.
 */
export const MAX_PORT_RANGE = 10_000;
