/**
 * The playbook of a running process, kept current. Before each command and each job the process
 * asks `refresh()`: when a `*.yaml` file of the directory was added, removed or changed (name,
 * size, mtime), the directory is loaded and validated again. A valid edit replaces the playbook;
 * a broken one keeps the last good playbook, is logged, and `refresh()` returns the reason until
 * the files are fixed, so the next command's answer can say so.
 */
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "../lib/logger.ts";
import { isPlainWord } from "../lib/vocabulary.ts";
import { loadPlaybooks, PlaybookError, playbookDirs } from "./load.ts";
import type { Playbook } from "./types.ts";

/** What the directories look like: each playbook file's path, size and mtime. */
async function signature(dirs: string): Promise<string> {
  const parts: string[] = [];
  for (const dir of playbookDirs(dirs)) {
    const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => /\.ya?ml$/.test(n)).sort();
    const mine = await Promise.all(
      names.map(async (n) => {
        const s = await stat(join(dir, n)).catch(() => undefined);
        return s ? `${join(dir, n)}:${s.size}:${s.mtimeMs}` : `${join(dir, n)}:gone`;
      }),
    );
    parts.push(...mine);
  }
  return parts.join("|");
}

/**
 * Logs a warning when values substituted from the environment into the playbook (`${VAR}`) are
 * ordinary words (lib/vocabulary.ts isPlainWord: `succeeded`, `password`). They cannot be refused
 * when typed, as chat-set ones are, so they stay secrets and are masked in free text (app output,
 * reasons), which hides that word wherever it appears (red team 2 N4). Names no value, only the count.
 */
export function warnPlainWordSecrets(pb: Pick<Playbook, "secrets">, logger: Logger): void {
  const plain = new Set(pb.secrets.filter(isPlainWord)).size;
  if (plain === 0) return;
  logger.warn(
    { plainWordSecrets: plain },
    `${plain} value${plain === 1 ? "" : "s"} substituted into the playbook from the environment (\${VAR}) ${plain === 1 ? "is an ordinary word" : "are ordinary words"} (letters only, or one of Raptor's own words): masked as secrets, so that word becomes [REDACTED] in app output and messages wherever it appears. Use a long random value.`,
  );
}

export class LivePlaybook {
  private seen: string | undefined;
  private problem: string | undefined;
  private running: Promise<string | undefined> | undefined;

  /**
   * @param dir the playbook directory (RAPTOR_PLAYBOOKS)
   * @param apply called with each new valid playbook (the caller swaps it in)
   */
  constructor(
    private readonly dir: string,
    private readonly apply: (pb: Playbook) => void,
    private readonly logger: Logger,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  /** Records the directory as it is now, for a playbook just loaded from it. */
  async prime(): Promise<void> {
    this.seen = await signature(this.dir);
  }

  /**
   * Reloads when the files changed. Resolves with the reason the current files are not in use
   * (a sentence for the channel), or undefined when they are.
   */
  refresh(): Promise<string | undefined> {
    // One reload at a time; concurrent callers share it.
    this.running ??= this.check().finally(() => (this.running = undefined));
    return this.running;
  }

  private async check(): Promise<string | undefined> {
    const now = await signature(this.dir);
    if (now === this.seen) return this.problem;
    this.seen = now;
    try {
      const pb = await loadPlaybooks(this.dir, this.env);
      warnPlainWordSecrets(pb, this.logger);
      this.apply(pb);
      if (this.problem) this.logger.info({ dir: this.dir }, "playbook fixed: using the edited playbook");
      else this.logger.info({ dir: this.dir }, "playbook changed: reloaded");
      this.problem = undefined;
    } catch (err) {
      const detail = err instanceof PlaybookError ? err.message : (err as Error).message;
      this.problem = `the playbook in ${playbookDirs(this.dir).join(" and ")} has mistakes, so Raptor keeps using the last good one until they are fixed:\n${detail}`;
      this.logger.warn({ dir: this.dir, err: detail }, "playbook edit rejected; keeping the last good playbook");
    }
    return this.problem;
  }
}
