import { describe, expect, it } from "vitest";
import { restartBatches } from "../../engine/pipeline/steps/restart.ts";

interface P {
  host: string;
  name: string;
  /** In the pool as this node, or not (a worker, a proc not routed). */
  node?: string;
}
const web = (host: string, port: number): P => ({ host, name: `web-${port}`, node: `${host}:${port}` });
const worker = (host: string, i: number): P => ({ host, name: `worker-w${i}` });

/** Batches as "host: names | nodes taken out". */
function plan(procs: P[], poolSize: number): string[] {
  return restartBatches(procs, poolSize, (p) => p.node).map((b) => `${b.host}: ${b.procs.map((p) => p.name).join(",")} | ${b.nodes.join(",")}`);
}

describe("restartBatches: one host at a time, never the whole pool at once", () => {
  const cases: [string, P[], number, string[]][] = [
    ["one host, two nodes: one at a time", [web("a", 1), web("a", 2)], 2, ["a: web-1 | a:1", "a: web-2 | a:2"]],
    ["one host, four nodes: three, then one", [web("a", 1), web("a", 2), web("a", 3), web("a", 4)], 4, ["a: web-1,web-2,web-3 | a:1,a:2,a:3", "a: web-4 | a:4"]],
    ["a single-node pool restarts its one proc", [web("a", 1)], 1, ["a: web-1 | a:1"]],
    ["hosts in turn, whole hosts when the pool allows", [web("a", 1), web("b", 1), web("a", 2), web("c", 1)], 4, ["a: web-1,web-2 | a:1,a:2", "b: web-1 | b:1", "c: web-1 | c:1"]],
    ["two hosts, one node each", [web("a", 1), web("b", 1)], 2, ["a: web-1 | a:1", "b: web-1 | b:1"]],
    ["hand-added nodes count towards the pool", [web("a", 1), web("a", 2)], 3, ["a: web-1,web-2 | a:1,a:2"]],
    ["workers go with the host's first batch", [web("a", 1), worker("a", 0), web("a", 2)], 2, ["a: web-1,worker-w0 | a:1", "a: web-2 | a:2"]],
    ["a host of workers only is one batch", [worker("a", 0), worker("a", 1), web("b", 1)], 1, ["a: worker-w0,worker-w1 | ", "b: web-1 | b:1"]],
    ["no pool: whole hosts", [{ host: "a", name: "web-1" }, { host: "a", name: "web-2" }], 0, ["a: web-1,web-2 | "]],
  ];
  it.each(cases)("%s", (_, procs, poolSize, expected) => {
    expect(plan(procs, poolSize)).toEqual(expected);
  });
});
