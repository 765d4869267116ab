import { describe, expect, it } from "vitest";
import { MIN_RUN_MS, runTimeout, seconds } from "../../runners/uptest.ts";

/** uptest_timeout is the deadline; one run gets the time left, or the playbook's per-run cap. */
describe("runTimeout", () => {
  const cases: [string, number, number | undefined, number][] = [
    ["no cap: a run may take all the time left (a 15 s uptest under a 60 s deadline)", 60_000, undefined, 60_000],
    ["a cap shorter than the time left", 60_000, 10_000, 10_000],
    ["the time left is shorter than the cap", 4_157, 10_000, 4_157],
    ["past the deadline a script still gets a real try", -50, undefined, MIN_RUN_MS],
    ["past the deadline, cap below the minimum", 0, 200, 200],
  ];
  for (const [name, left, cap, want] of cases) it(name, () => expect(runTimeout(left, cap)).toBe(want));
  it("shows durations in seconds with a tenth", () => {
    expect(seconds(61_034)).toBe("61.0s");
    expect(seconds(800)).toBe("0.8s");
  });
});
