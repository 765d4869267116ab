/** One deployment of a burst, from its rows: times in ms since the epoch, step durations in ms. */
export interface DeploymentTimes {
  requestedAt: number;
  /** When it took its turn (a worker picked it up and it began its first step). */
  startedAt: number;
  finishedAt: number;
  /** Duration of each step it ran, by step name. */
  steps: Record<string, number>;
}

/** What bench/throughput.ts reports of one burst. */
export interface BurstFigures {
  /** From the first request to the last deployment's end. */
  wallMs: number;
  /** Most deployments running at the same moment (taken their turn, not yet ended). */
  peak: number;
  /** Median time of one deployment from taking its turn to its end. */
  runMs: number;
  /** Median wait from its request to taking its turn: mostly waiting for a free worker slot. */
  waitMs: number;
  /** Median duration of each step. */
  stepMs: Record<string, number>;
  /** CPU of the worker processes and what they ran (git), ms. */
  workersCpuMs: number;
  /** CPU of the test bed: sshd, supervisord, the procs and uptests, ms. */
  hostsCpuMs: number;
  /** CPU the whole machine spent busy (both cores, every process, anyone's), ms. */
  machineCpuMs: number;
  benchCpuMs: number;
  /** The machine's 1-minute load average as the burst began (`uptime`): other people's work shows here. */
  loadAvg: number;
}

const median = (xs: number[]) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]! : 0);

/** Most intervals [start, end) open at one moment; an interval ending where another starts does not overlap it. */
export function peakOverlap(intervals: readonly { start: number; end: number }[]): number {
  // Ends sort before starts at the same time.
  const edges = intervals.flatMap((i) => [{ t: i.start, d: 1 }, { t: i.end, d: -1 }]).sort((a, b) => a.t - b.t || a.d - b.d);
  let open = 0;
  let peak = 0;
  for (const e of edges) peak = Math.max(peak, (open += e.d));
  return peak;
}

/** The figures of a burst that began at `t0` (ms since the epoch), from its deployments and the CPU it took (measured around it). */
export function burstFigures(t0: number, rows: readonly DeploymentTimes[], cpu: { workersCpuMs: number; hostsCpuMs: number; machineCpuMs: number; benchCpuMs: number; loadAvg: number }): BurstFigures {
  const names = [...new Set(rows.flatMap((r) => Object.keys(r.steps)))];
  return {
    wallMs: Math.max(...rows.map((r) => r.finishedAt)) - t0,
    peak: peakOverlap(rows.map((r) => ({ start: r.startedAt, end: r.finishedAt }))),
    runMs: median(rows.map((r) => r.finishedAt - r.startedAt)),
    waitMs: median(rows.map((r) => r.startedAt - r.requestedAt)),
    stepMs: Object.fromEntries(names.map((n) => [n, median(rows.flatMap((r) => (n in r.steps ? [r.steps[n]!] : [])))])),
    ...cpu,
  };
}
