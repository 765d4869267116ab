import { describe, expect, it } from "vitest";
import { sharedProcessInfo } from "../../runners/running-watch.ts";
import type { ProcessInfo, Supervisor } from "../../runners/supervisor/types.ts";

/** A Supervisor whose getAllProcessInfo answers only when the test says so. */
function slowSupervisor() {
  const pending: ((v: ProcessInfo[]) => void)[] = [];
  const sup = { getAllProcessInfo: () => new Promise<ProcessInfo[]>((r) => pending.push(r)) } as unknown as Supervisor;
  return { sup, pending };
}

describe("sharedProcessInfo", () => {
  it("waiters that began before a call in flight share it: one call for three waiters", async () => {
    const { sup, pending } = slowSupervisor();
    const since = performance.now();
    const answers = [sharedProcessInfo(sup, since), sharedProcessInfo(sup, since), sharedProcessInfo(sup, since)];
    expect(pending).toHaveLength(1);
    pending[0]!([]);
    expect(await Promise.all(answers)).toEqual([[], [], []]);
  });

  it("a waiter that began after the call in flight was sent gets a call of its own (the old one may predate its proc)", async () => {
    const { sup, pending } = slowSupervisor();
    const first = sharedProcessInfo(sup, performance.now());
    await new Promise((r) => setTimeout(r, 5));
    const second = sharedProcessInfo(sup, performance.now());
    expect(pending).toHaveLength(2);
    pending.forEach((r) => r([]));
    await Promise.all([first, second]);
  });

  it("a finished call is never reused: the next poll asks again", async () => {
    const { sup, pending } = slowSupervisor();
    const since = performance.now();
    const first = sharedProcessInfo(sup, since);
    pending[0]!([]);
    await first;
    void sharedProcessInfo(sup, since);
    expect(pending).toHaveLength(2);
  });
});
