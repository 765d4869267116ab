/**
 * The playbooks tests run on: a few squads, one memory balancer `lb`, and apps whose
 * environments differ only in a few keys. Apps are written as objects and dumped with the YAML
 * library the loader reads them with, environments in flow style, one line each.
 */
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dump } from "js-yaml";
import type { Testbed, TestbedHost } from "./testbed.ts";

export interface AppYaml {
  repo: string;
  environments: Record<string, Record<string, unknown>>;
}

/**
 * A playbook file: `squads` (entries as Testbed.squadYaml writes them, indented two spaces), the
 * memory balancer `lb`, and `apps`.
 */
export function playbookYaml(squads: string[], apps: Record<string, AppYaml>): string {
  return `squads:\n${squads.join("\n")}\nbalancers:\n  lb: { kind: memory }\n${dump({ apps }, { flowLevel: 4 })}`;
}

/** An environment of `web` procs on squad `bed`, in `pool` of balancer `lb`; `more` adds keys or overrides these. */
export function bedEnv(web: number, pool: string, more: Record<string, unknown> = {}): Record<string, unknown> {
  return { squad: "bed", size: { web }, balancer: "lb", pool, ...more };
}

/**
 * The `squads:` and `balancers:` lines for a squad `here` of one test bed host reached with
 * `transport: local` (as `make run` reaches its demo host), and a memory balancer `lb`.
 */
export function localSquadLines(bed: Testbed, host: TestbedHost): string[] {
  return [
    "squads:",
    "  here:",
    `    hosts: [${host.name}]`,
    "    transport: local",
    `    supervisor: { url: ${JSON.stringify(host.supervisorUrl)}, username: ${bed.supervisor.username}, password: ${bed.supervisor.password} }`,
    `    ports: ${bed.appPorts.from}-${bed.appPorts.to}`,
    `    root: ${JSON.stringify(host.root)}`,
    "balancers:",
    "  lb: { kind: memory }",
  ];
}

/**
 * The playbook of a harness that deploys nothing: app `hello` on squad `here`, one local host with a
 * supervisor nobody listens at (port 9), its root and repo a fresh directory named from
 * `tmpPrefix`. `environments` are the lines under `environments:` (`"local: { squad: here }"`).
 * Returns the `playbookYaml` startHarness takes.
 */
export async function localHelloPlaybook(tmpPrefix: string, environments: string[]): Promise<Record<string, string>> {
  const root = await mkdtemp(join(tmpdir(), tmpPrefix));
  const pb = [
    "squads:",
    `  here: { hosts: [127.0.0.1], transport: local, supervisor: { url: 'http://127.0.0.1:9/RPC2', username: u, password: p }, ports: 7000-7010, root: ${root} }`,
    "apps:",
    "  hello:",
    `    repo: ${JSON.stringify(root)}`,
    "    environments:",
    ...environments.map((e) => `      ${e}`),
  ];
  return { "pb.yaml": pb.join("\n") };
}
