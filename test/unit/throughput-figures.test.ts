import { describe, expect, it } from "vitest";
import { burstFigures, peakOverlap } from "../../bench/throughput-figures.ts";

/** bench/throughput.ts's arithmetic: how many deployments ran at once, and the medians it reports. */
describe("peakOverlap", () => {
  it.each([
    [[], 0],
    [[{ start: 0, end: 10 }], 1],
    [[{ start: 0, end: 10 }, { start: 5, end: 15 }], 2],
    // one ends where the next starts: a worker slot handed on, not two at once
    [[{ start: 0, end: 10 }, { start: 10, end: 20 }], 1],
    [[{ start: 0, end: 30 }, { start: 5, end: 10 }, { start: 10, end: 20 }, { start: 12, end: 13 }], 3],
  ])("%j -> %i", (intervals, peak) => {
    expect(peakOverlap(intervals)).toBe(peak);
  });
});

describe("burstFigures", () => {
  it("wall time from the burst's start to the last end; medians of run, wait and each step", () => {
    const cpu = { workersCpuMs: 1, hostsCpuMs: 2, machineCpuMs: 3, benchCpuMs: 4, loadAvg: 0.5 };
    const f = burstFigures(1000, [
      { requestedAt: 1000, startedAt: 1100, finishedAt: 2100, steps: { start: 300, uptest: 600 } },
      { requestedAt: 1010, startedAt: 2100, finishedAt: 3300, steps: { start: 400, uptest: 700 } },
      { requestedAt: 1020, startedAt: 1200, finishedAt: 2000, steps: { start: 200, uptest: 500 } },
    ], cpu);
    expect(f).toEqual({ wallMs: 2300, peak: 2, runMs: 1000, waitMs: 180, stepMs: { start: 300, uptest: 600 }, ...cpu });
  });
});
