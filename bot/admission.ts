/**
 * How much chat work the bot takes on at once. Slack wants every command acked within 3 s, and
 * acking is cheap; answering is not (database reads, a worker's host read, a reply over HTTP).
 * A bot that acks everything and queues the answers grows without bound under a burst (issue 14
 * item 4: 24,000 `status` in 20 s, a 95 s backlog, 2.4 GB). So a command is admitted only while
 * its author has fewer than `perUser` commands being answered and the bot fewer than `overall`;
 * past either, the author is told at once that Raptor is busy, and nothing is started.
 */

/** Limits on commands being answered at once. */
export interface AdmissionLimits {
  /** Per person (Slack user id). Default 5. */
  perUser: number;
  /** For the whole bot process. Default 100. */
  overall: number;
}

export const defaultAdmissionLimits: AdmissionLimits = { perUser: 5, overall: 100 };

export type Admission = { ok: true; done: () => void } | { ok: false; limit: "user" | "overall"; inFlight: number };

/** Counts commands in flight per user and overall; pure bookkeeping, no I/O. */
export class WorkGate {
  private readonly byUser = new Map<string, number>();
  private total = 0;

  constructor(readonly limits: AdmissionLimits = defaultAdmissionLimits) {}

  /** Admits one command of `user`, or says which limit refused it. Call `done()` exactly once when its reply is sent. */
  enter(user: string): Admission {
    const mine = this.byUser.get(user) ?? 0;
    if (mine >= this.limits.perUser) return { ok: false, limit: "user", inFlight: mine };
    if (this.total >= this.limits.overall) return { ok: false, limit: "overall", inFlight: this.total };
    this.byUser.set(user, mine + 1);
    this.total++;
    let released = false;
    return {
      ok: true,
      done: () => {
        if (released) return;
        released = true;
        this.total--;
        const left = (this.byUser.get(user) ?? 1) - 1;
        if (left <= 0) this.byUser.delete(user);
        else this.byUser.set(user, left);
      },
    };
  }

  /** Commands being answered now. */
  get inFlight(): number {
    return this.total;
  }
}

/** What the person reads when their command was not taken (shown only to them). */
export function busyText(refused: Extract<Admission, { ok: false }>): string {
  const why =
    refused.limit === "user"
      ? `you already have ${refused.inFlight} commands being answered`
      : `it is answering ${refused.inFlight} commands at once`;
  return `Raptor is busy: ${why}. Nothing was started for this one; send it again in a few seconds.`;
}

/** RAPTOR_BOT_MAX_PER_USER and RAPTOR_BOT_MAX_IN_FLIGHT (positive integers), else the defaults. */
export function admissionLimitsFromEnv(env: NodeJS.ProcessEnv): AdmissionLimits {
  const num = (v: string | undefined, d: number) => (v && /^[1-9]\d*$/.test(v) ? Number(v) : d);
  return {
    perUser: num(env.RAPTOR_BOT_MAX_PER_USER, defaultAdmissionLimits.perUser),
    overall: num(env.RAPTOR_BOT_MAX_IN_FLIGHT, defaultAdmissionLimits.overall),
  };
}
