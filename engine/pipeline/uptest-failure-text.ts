/**
 * What the uptest step says when new procs failed their checks: one message and the evidence
 * under it, consistent with each other (trial 2, M4). The report read
 *   "hello-local-v7-web-7000 on 127.0.0.1 did not come up (2 of 2 checks failed)."
 *   "── hello-local-v7-web-7000 on 127.0.0.1: running"
 *   "proc hello-local-v7-web-7000 is BACKOFF (Exited too quickly (process log may have details))"
 * : a heading that named the check ("running") as if it were the state, nested parentheses, and a
 * count that did not say what was counted. Now each proc is named with what was checked and what
 * was seen: "did not come up: supervisord last saw it BACKOFF (...)" or "failed its uptest http",
 * and the count is of new procs. Pure.
 */

/** One proc's failed check, as checkProc returns it: `name` "running" is the RUNNING-and-port check. */
export interface FailedCheck {
  proc: { name: string; host: string };
  result: { name: string; output: string };
}

/** "hello-local-v7-web-7000 on 127.0.0.1 did not come up: supervisord last saw it BACKOFF (…)". */
export function failedCheckHeading(f: FailedCheck): string {
  const who = `${f.proc.name} on ${f.proc.host}`;
  if (f.result.name !== "running") return `${who} failed its uptest ${f.result.name}`;
  const first = f.result.output.split("\n")[0]!.trim();
  // The runner's sentence names the proc again ("proc X was last seen BACKOFF (…)"): said once.
  const own = `proc ${f.proc.name} `;
  const why = first.startsWith(own) ? `supervisord ${first.slice(own.length).replace(/^was last seen /, "last saw it ")}` : first;
  return `${who} did not come up${why ? `: ${why.replace(/\.$/, "")}` : ""}`;
}

/** The evidence under a heading: for a proc that did not come up, its output after the reason line. */
function evidence(f: FailedCheck): string {
  if (f.result.name !== "running") return f.result.output.trim();
  return f.result.output.split("\n").slice(1).join("\n").trim();
}

/**
 * The step's message and output for `failed` (in order, non-empty) of `total` new procs checked;
 * up to `shown` procs' evidence goes into the output.
 */
export function uptestFailureText(failed: readonly FailedCheck[], total: number, shown: number): { message: string; output: string } {
  const first = failed[0]!;
  const head = failedCheckHeading(first);
  const sentence = `${head}${/[.?!]$/.test(head) ? "" : "."}`;
  const count = `${failed.length} of ${total} new procs failed their checks.`;
  const message = failed.length > 1 ? `${count} First: ${sentence}` : total > 1 ? `${sentence} ${count}` : sentence;
  const output =
    failed.length === 1
      ? evidence(first)
      : failed.slice(0, shown).map((f) => [`── ${failedCheckHeading(f)}`, evidence(f)].filter(Boolean).join("\n")).join("\n\n");
  return { message, output };
}
