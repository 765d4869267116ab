import { describe, expect, it } from "vitest";
import { restartBatches, restartRoundText } from "../../engine/pipeline/steps/restart.ts";
import { procsOnHosts } from "../../lib/plural.ts";

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

// Issue 11 trial: a restart of 2 procs on one host said "restarting 1 proc on 127.0.0.1" twice and
// ended with "2 procs on 1 hosts".
describe("restart messages", () => {
  it.each<[string, { host: string; name: string }[], number, number, string]>([
    ["two rounds on one host name their round and proc", [{ host: "127.0.0.1", name: "hello-local-v3-web-5001" }], 0, 2, "round 1 of 2: restarting hello-local-v3-web-5001 on 127.0.0.1"],
    ["the second round differs from the first", [{ host: "127.0.0.1", name: "hello-local-v3-web-5002" }], 1, 2, "round 2 of 2: restarting hello-local-v3-web-5002 on 127.0.0.1"],
    ["a single round says no round", [{ host: "a", name: "web-1" }, { host: "a", name: "web-2" }], 0, 1, "restarting web-1, web-2 on a"],
    ["many procs are counted past three names", ["1", "2", "3", "4", "5"].map((n) => ({ host: "a", name: `web-${n}` })), 0, 1, "restarting web-1, web-2, web-3 and 2 more procs on a"],
  ])("%s", (_, procs, index, rounds, text) => {
    expect(restartRoundText({ host: procs[0]!.host, procs, nodes: [] }, index, rounds)).toBe(text);
  });

  it.each<[{ host: string }[], string]>([
    [[{ host: "127.0.0.1" }, { host: "127.0.0.1" }], "2 procs on 1 host"],
    [[{ host: "a" }], "1 proc on 1 host"],
    [[{ host: "a" }, { host: "b" }, { host: "a" }], "3 procs on 2 hosts"],
    [[], "0 procs on 0 hosts"],
  ])("procsOnHosts(%j) = %s", (procs, text) => expect(procsOnHosts(procs)).toBe(text));
});
