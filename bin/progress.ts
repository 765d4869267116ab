/**
 * Start-up progress of the long-running commands (`raptor all | bot | worker | beat`): one line on
 * stderr per phase, with the seconds since the process started, so the wait before `make run`'s
 * prompt says what it is doing (`raptor: 4.2s opening the embedded database …`). `say` prints none:
 * its output is the command's answer.
 */
export type Progress = (phase: string) => void;

/** A Progress writing `raptor: <s>s <phase>` lines to `out`; `uptime` is seconds since start (process.uptime). */
export function progressLines(out: { write(s: string): unknown }, uptime: () => number = process.uptime): Progress {
  return (phase) => void out.write(`raptor: ${uptime().toFixed(1)}s ${phase}\n`);
}

/** A Progress that says nothing. */
export const quiet: Progress = () => {};
