import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";

/** Renews the lease only if this holder still has it (compare-and-expire). */
const RENEW = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("pexpire", KEYS[1], ARGV[2]) else return 0 end`;
/** Gives the lease up only if this holder still has it. */
const RELEASE = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) else return 0 end`;

/**
 * A leader lease in Redis: `SET key holder NX PX leaseMs` takes it, a compare-and-pexpire renews
 * it. A holder that dies stops renewing, the key expires, and another candidate's next attempt
 * takes it: a new leader within one lease period (plus one attempt interval).
 *
 * `isLeader()` is local and conservative: it is true only until `leaseMs` after the last successful
 * renewal began, so a holder cut off from Redis stops acting before another can have taken over.
 * Two leaders may still overlap (a paused process); the beat's job ids make that harmless.
 */
export class LeaderLease {
  readonly holder: string;
  private validUntil = 0;

  constructor(
    private readonly redis: Redis,
    private readonly key: string,
    private readonly leaseMs: number,
    holder?: string,
  ) {
    this.holder = holder ?? `${process.pid}-${randomBytes(4).toString("hex")}`;
  }

  /** Takes the lease if free, renews it if ours. Returns whether we hold it now. Never throws. */
  async attempt(): Promise<boolean> {
    const began = Date.now();
    try {
      let ok = (await this.redis.eval(RENEW, 1, this.key, this.holder, String(this.leaseMs))) === 1;
      if (!ok) ok = (await this.redis.set(this.key, this.holder, "PX", this.leaseMs, "NX")) === "OK";
      this.validUntil = ok ? began + this.leaseMs : 0;
      return ok;
    } catch {
      // Redis unreachable: whatever we held, we can no longer say so.
      this.validUntil = 0;
      return false;
    }
  }

  isLeader(now = Date.now()): boolean {
    return now < this.validUntil;
  }

  /** Hands the lease over at once (a clean shutdown), so another beat need not wait it out. */
  async release(): Promise<void> {
    this.validUntil = 0;
    await this.redis.eval(RELEASE, 1, this.key, this.holder).catch(() => undefined);
  }

  /** Who holds the lease now, if anyone (for `beat` in chat). */
  async currentHolder(): Promise<string | null> {
    return this.redis.get(this.key);
  }
}
