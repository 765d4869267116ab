import { describe, expect, it } from "vitest";
import { avoidFailed, freeWorkerIndexes, pickForRemoval, place, PlacementError, type HostLoad, type SwarmWant } from "../../engine/placement.ts";

/** A host with `swarmProcs` live procs of the `web` swarm being placed. */
const load = (host: string, swarmProcs = 0, totalProcs = swarmProcs, used: number[] = []): HostLoad => ({
  host,
  swarmProcs: { web: swarmProcs },
  totalProcs,
  usedPorts: new Set(used),
});
const show = (ps: { host: string; port?: number }[]) => ps.map((p) => (p.port ? `${p.host}:${p.port}` : p.host));

describe("place", () => {
  const cases: { name: string; loads: HostLoad[]; n: number; ports?: { from: number; to: number }; want: string[] }[] = [
    { name: "4 procs over 3 empty hosts spread round-robin", loads: [load("a"), load("b"), load("c")], n: 4, ports: { from: 5000, to: 5009 }, want: ["a:5000", "b:5000", "c:5000", "a:5001"] },
    { name: "the host with fewer procs of the swarm goes first", loads: [load("a", 2), load("b", 0), load("c", 1)], n: 2, ports: { from: 5000, to: 5009 }, want: ["b:5000", "b:5001"] },
    { name: "ties broken by total load", loads: [load("a", 0, 9), load("b", 0, 1)], n: 1, ports: { from: 5000, to: 5009 }, want: ["b:5000"] },
    { name: "used ports are skipped", loads: [load("a", 0, 0, [5000, 5001])], n: 2, ports: { from: 5000, to: 5009 }, want: ["a:5002", "a:5003"] },
    { name: "a host with no free port is passed over", loads: [load("a", 0, 0, [5000, 5001]), load("b", 5, 5)], n: 1, ports: { from: 5000, to: 5001 }, want: ["b:5000"] },
    { name: "workers get no port", loads: [load("a"), load("b")], n: 3, want: ["a", "b", "a"] },
    { name: "zero procs places nothing", loads: [load("a")], n: 0, ports: { from: 1, to: 2 }, want: [] },
    // A repair's replacement of a proc that failed again on a:5000 (issue 12: it went back there).
    { name: "a host to avoid goes last, before spread", loads: avoidFailed([load("a", 0), load("b", 1)], [{ host: "a", port: 5000 }]), n: 1, ports: { from: 5000, to: 5009 }, want: ["b:5000"] },
    { name: "a host to avoid is taken when it is the only one, on another port", loads: avoidFailed([load("a", 0)], [{ host: "a", port: 5000 }]), n: 1, ports: { from: 5000, to: 5009 }, want: ["a:5001"] },
    { name: "a host to avoid is taken when the others have no free port", loads: avoidFailed([load("a", 0), load("b", 0, 2, [5000, 5001])], [{ host: "a", port: 5000 }]), n: 1, ports: { from: 5000, to: 5001 }, want: ["a:5001"] },
    { name: "nothing failed: nothing avoided", loads: avoidFailed([load("a", 0), load("b", 1)], []), n: 1, ports: { from: 5000, to: 5009 }, want: ["a:5000"] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(show(place(c.loads, [{ procType: "web", count: c.n, ...(c.ports ? { ports: c.ports } : {}) }]).web!)).toEqual(c.want);
    });
  }

  it("says so when the squad has no host", () => {
    expect(() => place([], [{ procType: "web", count: 1, ports: { from: 1, to: 2 } }])).toThrow(new PlacementError("no_hosts", "the squad has no active hosts"));
  });
  it("says so when every port is taken", () => {
    expect(() => place([load("a", 0, 0, [1, 2])], [{ procType: "web", count: 1, ports: { from: 1, to: 2 } }])).toThrow("no free port left in 1-2 on any host of the squad");
  });
});

/** Several swarms placed together: every proc on a host counts, whatever its proc type. */
describe("place: several proc types at once", () => {
  const ports = { from: 5000, to: 5009 };
  const empty = (host: string, totalProcs = 0): HostLoad => ({ host, swarmProcs: {}, totalProcs, usedPorts: new Set() });
  const perHost = (placed: Record<string, { host: string }[]>) => {
    const n: Record<string, number> = {};
    for (const list of Object.values(placed)) for (const p of list) n[p.host] = (n[p.host] ?? 0) + 1;
    return n;
  };
  const cases: { name: string; loads: HostLoad[]; wants: SwarmWant[]; want: Record<string, string[]>; perHost: Record<string, number> }[] = [
    {
      name: "3 web + 1 worker on 2 hosts land 2/2 (issue 9: it was 3/1)",
      loads: [empty("a"), empty("b")],
      wants: [{ procType: "web", count: 3, ports }, { procType: "worker", count: 1 }],
      want: { web: ["a:5000", "b:5000", "a:5001"], worker: ["b"] },
      perHost: { a: 2, b: 2 },
    },
    {
      name: "the worker first, then 3 web: still 2/2",
      loads: [empty("a"), empty("b")],
      wants: [{ procType: "worker", count: 1 }, { procType: "web", count: 3, ports }],
      want: { worker: ["a"], web: ["b:5000", "a:5000", "b:5001"] },
      perHost: { a: 2, b: 2 },
    },
    {
      name: "2 web + 2 worker + 2 clock on 3 hosts: 2/2/2",
      loads: [empty("a"), empty("b"), empty("c")],
      wants: [{ procType: "web", count: 2, ports }, { procType: "worker", count: 2 }, { procType: "clock", count: 2 }],
      want: { web: ["a:5000", "b:5000"], worker: ["c", "a"], clock: ["b", "c"] },
      perHost: { a: 2, b: 2, c: 2 },
    },
    {
      name: "other apps' procs count in the total, after the spread of each swarm",
      loads: [empty("a", 3), empty("b", 0)],
      wants: [{ procType: "web", count: 2, ports }, { procType: "worker", count: 2 }],
      want: { web: ["b:5000", "a:5000"], worker: ["b", "a"] },
      perHost: { a: 2, b: 2 },
    },
    {
      name: "a swarm is still spread first, even onto a busier host",
      loads: [empty("a", 5), empty("b", 0)],
      wants: [{ procType: "web", count: 2, ports }],
      want: { web: ["b:5000", "a:5000"] },
      perHost: { a: 1, b: 1 },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const placed = place(c.loads, c.wants);
      expect(Object.fromEntries(Object.entries(placed).map(([t, ps]) => [t, show(ps)]))).toEqual(c.want);
      expect(perHost(placed)).toEqual(c.perHost);
    });
  }
});

describe("pickForRemoval", () => {
  const t = (s: number) => new Date(s * 1000);
  it("takes from the busiest host first, newest first", () => {
    const procs = [
      { id: 1, host: "a", createdAt: t(1) },
      { id: 2, host: "a", createdAt: t(2) },
      { id: 3, host: "a", createdAt: t(3) },
      { id: 4, host: "b", createdAt: t(4) },
    ];
    expect(pickForRemoval(procs, 2).map((p) => p.id)).toEqual([3, 2]);
    expect(pickForRemoval(procs, 3).map((p) => p.id)).toEqual([3, 2, 1]); // a tie (1 and 1) goes by host name
    expect(pickForRemoval(procs, 9).map((p) => p.id)).toEqual([3, 2, 1, 4]);
  });
});

describe("freeWorkerIndexes", () => {
  const w = (i: number) => `web-production-v42-worker-w${i}`;
  const cases: [string, string[], number, number[]][] = [
    ["none live", [], 2, [0, 1]],
    ["after the live ones", [w(0), w(1)], 1, [2]],
    ["fills the gap a scale down left", [w(0), w(2)], 1, [1]],
    ["gap first, then past the end", [w(0), w(2)], 3, [1, 3, 4]],
    ["w0 gone", [w(1), w(2)], 2, [0, 3]],
    ["nothing asked", [w(0)], 0, []],
    ["names with ports or foreign ones take no index", ["web-production-v42-worker-5001", "foreign", w(1)], 2, [0, 2]],
    ["an app name with dashes", ["my-app-production-v1-worker-w0"], 1, [1]],
  ];
  it.each(cases)("%s", (_, names, count, expected) => {
    expect(freeWorkerIndexes(names, count)).toEqual(expected);
  });
});
