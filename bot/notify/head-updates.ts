/**
 * Coalesces head-message edits so a channel gets at most one chat.update per interval (Slack's
 * chat.update is rate limited per channel) while the latest state of every thread always lands:
 * a newer state for a deployment replaces the one waiting, and every caller's promise resolves
 * when a state at least as new as theirs has been sent. Urgent edits (a deployment's end, an
 * approval) go before the others waiting in their channel: the caller waits on them, and with many
 * deployments in one channel an edit queued last would wait one interval per deployment ahead of it.
 */

export interface HeadUpdate {
  channel: string;
  ts: string;
  deploymentId: string;
}

type Send<S> = (head: HeadUpdate, state: S) => Promise<void>;

interface Waiter {
  resolve: () => void;
  reject: (err: unknown) => void;
}

interface Pending<S> {
  head: HeadUpdate;
  state: S;
  waiters: Waiter[];
  urgent: boolean;
}

interface Channel<S> {
  lastAt: number;
  pending: Map<string, Pending<S>>;
  timer?: NodeJS.Timeout;
  current?: Promise<void>;
}

export class HeadUpdates<S> {
  private readonly channels = new Map<string, Channel<S>>();

  constructor(
    private readonly send: Send<S>,
    private readonly intervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Queues `state` as the head of `head`; resolves once it (or a newer state) is on Slack.
   * `urgent`: sent before the channel's other waiting edits (still one per interval).
   */
  schedule(head: HeadUpdate, state: S, opts: { urgent?: boolean } = {}): Promise<void> {
    const ch = this.channel(head.channel);
    const entry = ch.pending.get(head.deploymentId) ?? { head, state, waiters: [], urgent: false };
    entry.head = head;
    entry.state = state;
    entry.urgent ||= opts.urgent === true;
    const done = new Promise<void>((resolve, reject) => entry.waiters.push({ resolve, reject }));
    ch.pending.set(head.deploymentId, entry);
    this.kick(head.channel, ch);
    return done;
  }

  /** Sends everything queued (still spaced by the interval) and waits for it. */
  async flush(): Promise<void> {
    const all: Promise<unknown>[] = [];
    for (const ch of this.channels.values()) {
      if (ch.current) all.push(ch.current.catch(() => {}));
      for (const p of ch.pending.values()) all.push(new Promise<void>((resolve) => p.waiters.push({ resolve, reject: () => resolve() })));
    }
    await Promise.all(all);
  }

  /** Pending edits not yet sent, across channels. */
  get size(): number {
    let n = 0;
    for (const ch of this.channels.values()) n += ch.pending.size;
    return n;
  }

  private channel(id: string): Channel<S> {
    let ch = this.channels.get(id);
    if (!ch) {
      ch = { lastAt: -Infinity, pending: new Map() };
      this.channels.set(id, ch);
    }
    return ch;
  }

  private kick(id: string, ch: Channel<S>): void {
    if (ch.timer || ch.current || ch.pending.size === 0) return;
    const wait = Math.max(0, ch.lastAt + this.intervalMs - this.now());
    ch.timer = setTimeout(() => {
      ch.timer = undefined;
      ch.current = this.pump(ch).finally(() => {
        ch.current = undefined;
        if (ch.pending.size === 0) this.channels.delete(id);
        else this.kick(id, ch);
      });
    }, wait);
  }

  private async pump(ch: Channel<S>): Promise<void> {
    let next: [string, Pending<S>] | undefined;
    for (const e of ch.pending) {
      if (e[1].urgent) {
        next = e;
        break;
      }
      next ??= e;
    }
    if (!next) return;
    const [key, entry] = next;
    ch.pending.delete(key);
    try {
      await this.send(entry.head, entry.state);
      for (const w of entry.waiters) w.resolve();
    } catch (err) {
      for (const w of entry.waiters) w.reject(err);
    } finally {
      // The interval counts from the answer, not the request: Slack sees an edit when it arrives, and
      // one slow to arrive would otherwise be followed milliseconds later by the next (29 ms seen in CI).
      ch.lastAt = this.now();
    }
  }
}
