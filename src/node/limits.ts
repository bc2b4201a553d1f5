/**
 * Every limit of the node's background jobs and of the programs `sup exec` runs on it, in one place,
 * each with the reason for its value. Job meta (`intervalMs`, `budgetSteps`, `budgetMs`) is read
 * against these; docs/node.md lists them.
 */

/**
 * Shortest interval a job may ask for. Jobs run on the node's one JS thread between requests, so a
 * job every few milliseconds would turn the node into a busy loop; 100 ms is ten runs a second.
 */
export const JOB_INTERVAL_MS_MIN = 100;

/**
 * Longest interval a job may ask for: one week. It keeps every delay below setTimeout's 2^31 ms
 * ceiling (about 24.8 days), past which timers fire at once, and a job rarer than weekly is better
 * triggered from outside.
 */
export const JOB_INTERVAL_MS_MAX = 7 * 24 * 60 * 60 * 1000;

/**
 * Steps (lambda calls and loop turns) a job run may take unless its meta says otherwise. Ten times a
 * handler's default: a job does batch work nobody waits on, but a loop that never ends still stops.
 */
export const JOB_STEPS_DEFAULT = 1_000_000;

/**
 * Wall time a job run may take unless its meta says otherwise. While a job runs no request is
 * served, so this bounds the stall a job causes by default.
 */
export const JOB_TIME_MS_DEFAULT = 1000;

/** Highest step budget job meta may ask for (`budgetSteps`): the ceiling on one run's work. */
export const JOB_STEPS_MAX = 100_000_000;

/** Highest time budget job meta may ask for (`budgetMs`): the longest a job may stall the node's thread. */
export const JOB_TIME_MS_MAX = 10_000;

/** How long `sup exec` gathers answers when `--timeout` is not given: a few seconds covers a slow node. */
export const EXEC_TIMEOUT_MS_DEFAULT = 5_000;

/**
 * Steps an exec'd program may take on a node: a job's default. Exec is for looking at a node and
 * poking it, and a program that loops forever must stop without its wall budget running out.
 */
export const EXEC_STEPS = JOB_STEPS_DEFAULT;

/**
 * Longest wall time an exec'd program runs on a node, whatever deadline the asker gives: the same
 * ceiling as a job or a handler, since it holds the node's one thread just as they do.
 */
export const EXEC_TIME_MS_MAX = JOB_TIME_MS_MAX;

/**
 * Longest a `(cluster/exec …)` call waits for answers, whatever its caller's budget. The node's one
 * thread is blocked meanwhile: it answers no request and no membership probe, and a member silent
 * for over a probe interval (1 s) starts to be suspected, so the wait stays within one interval.
 */
export const CLUSTER_EXEC_WAIT_MS_MAX = 1_000;

/**
 * Time a `(cluster/exec …)` call keeps from its caller's remaining budget to build its result and
 * return before that budget runs out.
 */
export const CLUSTER_EXEC_RETURN_MS = 2;

/**
 * How much sooner than the caller's wait ends the exec worker closes its own gathering: the worker
 * learns of the request a little later than it was made, and must publish before the caller stops
 * waiting.
 */
export const CLUSTER_EXEC_WORKER_LEAD_MS = 3;
