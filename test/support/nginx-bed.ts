/**
 * The reliability files' test bed: app hosts with sshd and supervisord, a real nginx on one more
 * host reached over SSH as balancer `edge`, and the demo app `hello` (environment `prod`, pool
 * `hello_prod`) in a git repo of its own.
 */
import { join } from "node:path";
import { dump } from "js-yaml";
import { makeAppRepo, HELLO_APP, type AppRepo } from "./app-repo.ts";
import { startNginx, type TestNginx } from "./nginx.ts";
import { startTestbed, type Testbed } from "./testbed.ts";
import { releasePorts, reservePort } from "./testbed/ports.ts";

export interface NginxBed {
  bed: Testbed;
  nginx: TestNginx;
  repo: AppRepo;
  /** The app hosts (the bed's hosts but the last, which runs nginx). */
  appHosts: string[];
  /**
   * A playbook: squad `bed` on the app hosts, balancer `edge`, app hello with `prod` (and each
   * other environment of `envs`, pool `hello_<env>`) given these keys.
   */
  playbookYaml(prod: Record<string, unknown>): string;
  stop(): Promise<void>;
}

/**
 * Starts `appHosts + 1` hosts (default 2 + 1), nginx on the last, and the app's repo at VERSION v1.
 * `envs` (default `prod`): hello's environments, each routed by its pool `hello_<env>`: the first at
 * nginx's `/`, every one at `/hello_<env>/`.
 */
export async function startNginxBed(opts: { appHosts?: number; retry?: boolean; envs?: string[] } = {}): Promise<NginxBed> {
  const envs = opts.envs ?? ["prod"];
  const held: string[] = [];
  const bed = await startTestbed({ hosts: (opts.appHosts ?? 2) + 1 });
  const lbHost = bed.hosts.at(-1)!.name;
  const appHosts = bed.hosts.slice(0, -1).map((h) => h.name);
  const port = await reservePort(18680, 1, [lbHost], held);
  const nginx = await startNginx({ prefix: join(bed.dir, "nginx"), address: lbHost, port, pools: envs.map((e) => `hello_${e}`), retry: opts.retry });
  const repo = await makeAppRepo(HELLO_APP, { VERSION: "v1\n" });
  const q = JSON.stringify;
  const balancer = [
    "balancers:",
    "  edge:",
    "    kind: nginx",
    `    hosts: [${q(lbHost)}]`,
    `    ssh: { user: ${q(bed.user)}, port: ${bed.hosts[0]!.sshPort}, key: ${q(bed.sshKeyPath)}, known_hosts: ${q(bed.knownHostsPath)} }`,
    `    include_dir: ${q(nginx.includeDir)}`,
    `    validate: ${q(nginx.validate)}`,
    `    reload: ${q(nginx.reload)}`,
  ];
  return {
    bed,
    nginx,
    repo,
    appHosts,
    playbookYaml: (prod) =>
      [
        "squads:",
        bed.squadYaml("bed", { hosts: appHosts }),
        ...balancer,
        dump({ apps: { hello: { repo: repo.path, environments: Object.fromEntries(envs.map((e) => [e, { squad: "bed", balancer: "edge", pool: `hello_${e}`, ...prod }])) } } }, { flowLevel: 4 }),
      ].join("\n"),
    async stop() {
      await nginx.stop();
      releasePorts(held);
      await bed.stop();
    },
  };
}
