import { BaseSequencer, type TestSpecification } from "vitest/node";

/**
 * The files that take longest, longest first, as measured in a whole run (2026-11-30, 2 cores,
 * wall seconds of a loaded machine in brackets). With two forks the run ends when the last long
 * file does: vitest's own order is by past durations when it has a cache, and by file size in a
 * clean clone (CI), where embedded-db (162 s) came 53rd and the varnish contract (55 s) 109th of
 * 117, so a long file started near the end and one fork ran it alone.
 */
export const SLOW_FIRST = [
  "test/e2e/zero-downtime.test.ts", // 254
  "test/reliability/worker-kill.test.ts", // 190
  "test/e2e/embedded-db.test.ts", // 162
  "test/e2e/cli.test.ts", // 111
  "test/e2e/beat-fleet.test.ts", // 62
  // New after fr1, not measured as a file: 3 bin/raptor starts, 20 deployments ending 20-27 s after
  // the first request (docs/guarantees.md), then 1,000 commands over 10 s.
  "test/reliability/slack-load.test.ts",
  "test/e2e/playbook-reload.test.ts", // 60
  "test/reliability/infra-restart.test.ts", // 60
  "test/e2e/rollback-config.test.ts", // 59
  "test/contract/varnish-balancer.test.ts", // 55
  "test/integration/embedded-handover.test.ts", // 54, then +30 s (the idle-in-transaction timeout case, 2026-11-30 audit), then +32 s (red team M1/M2 frames and trickle)
  "test/e2e/route-nginx.test.ts", // 53
  "test/e2e/host-faults.test.ts", // 51, then +2-10 s (a balancer that cannot be reached, audit9b)
  "test/integration/pglite.test.ts", // 46
  "test/reliability/hosts-lost.test.ts", // 41
  "test/e2e/deploy.test.ts", // 38
  // New with the trial's truth fixes, alone: 27 s (one host, four deploys, a cancel waiting on a pool lock).
  "test/e2e/trial-truth.test.ts",
  "test/e2e/ordering.test.ts", // 37
  "test/e2e/failures.test.ts", // 35
  "test/reliability/slack-burst.test.ts", // 35
  "test/e2e/beat-leader.test.ts", // 34
  "test/e2e/recovery.test.ts", // 34
  "test/e2e/chat-values.test.ts", // 33
  "test/e2e/uptest-timeout.test.ts", // 32
  "test/e2e/build-store-s3.test.ts", // 30
  // 23 s on a quiet machine, 72 s loaded: five new embedded databases opened three at a time;
  // then +6 s (bot, two workers and the beat started at once, 2026-11-30 audit9b).
  "test/integration/migrate-race.test.ts",
  // New with beat12, alone on a loaded machine: 40 s (4 deploys, a stuck one, two prunes, a repair).
  "test/e2e/beat-one-host.test.ts",
];

/** vitest's order (projects, then cache or size), with the files of SLOW_FIRST moved to the front in its order. */
export default class SlowFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (f: TestSpecification) => {
      const i = SLOW_FIRST.findIndex((p) => f.moduleId.endsWith(`/${p}`));
      return i < 0 ? SLOW_FIRST.length : i;
    };
    return (await super.sort(files))
      .map((f, i) => ({ f, i }))
      .sort((a, b) => rank(a.f) - rank(b.f) || a.i - b.i)
      .map(({ f }) => f);
  }
}
