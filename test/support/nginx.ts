/**
 * A real nginx for tests: its own prefix (config, pid, logs, Raptor's include dir), listening on
 * one loopback address, proxying `/` to each pool (`location /` for the first pool, `/<pool>/`
 * for every pool) with `proxy_next_upstream off`, so a request sent to a dead node fails visibly
 * instead of being retried elsewhere. Runs in the foreground (daemon off) as our child, so a
 * test that dies does not leave it behind; `nginx -s reload` still works through its pid file.
 */
import type { ChildProcess } from "node:child_process";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { renderNginxPool } from "../../balancers/nginx-config.ts";
import { spawnDaemon, stopChild, waitForPort } from "./testbed/processes.ts";

export interface TestNginx {
  address: string;
  port: number;
  prefix: string;
  /** `<prefix>/raptor`: the balancer's include_dir. */
  includeDir: string;
  /** argv for the balancer's `validate` / `reload` keys. */
  validate: string[];
  reload: string[];
  url(path?: string): string;
  errorLog(): Promise<string>;
  stop(): Promise<void>;
}

/** The argv prefix that points nginx at a prefix and its config (no system paths). */
export function nginxArgv(prefix: string): string[] {
  return ["nginx", "-p", prefix, "-c", join(prefix, "nginx.conf"), "-e", join(prefix, "error.log")];
}

/** The operator's config of a test nginx, as docs/balancers.md tells an operator to write it. */
export function nginxConf(prefix: string, address: string, port: number, pools: readonly string[], opts: { retry?: boolean } = {}): string {
  const retry = opts.retry ? "" : " proxy_next_upstream off;";
  const locations = pools.map((p, i) => {
    // `/<pool>/` passes the request on as `/` (the URI part of proxy_pass replaces the location's).
    const loc = (path: string, uri: string) => `    location ${path} { proxy_pass http://${p}${uri};${retry} proxy_connect_timeout 2s; }`;
    return [i === 0 ? loc("/", "") : "", loc(`/${p}/`, "/")].filter(Boolean).join("\n");
  });
  return `pid ${join(prefix, "nginx.pid")};
error_log ${join(prefix, "error.log")} warn;
worker_processes 1;
events { worker_connections 512; }
http {
  access_log off;
  client_body_temp_path ${join(prefix, "tmp")};
  proxy_temp_path ${join(prefix, "tmp")};
  include ${join(prefix, "raptor")}/*.conf;
  server {
    listen ${address}:${port};
${locations.join("\n")}
  }
}
`;
}

/**
 * Starts nginx on `address:port` under `prefix`. Each pool gets its empty-pool file first (what
 * Raptor writes for an empty pool), so the `proxy_pass http://<pool>` lines load.
 */
export async function startNginx(opts: {
  prefix: string;
  address: string;
  port: number;
  pools: readonly string[];
  /** Keep nginx's default `proxy_next_upstream error timeout` (a refused node is retried on the next), as an operator's config does. */
  retry?: boolean;
}): Promise<TestNginx> {
  const { prefix, address, port, pools } = opts;
  const includeDir = join(prefix, "raptor");
  await mkdir(includeDir, { recursive: true });
  await mkdir(join(prefix, "tmp"), { recursive: true });
  await writeFile(join(prefix, "nginx.conf"), nginxConf(prefix, address, port, pools, { retry: opts.retry }));
  for (const pool of pools) await writeFile(join(includeDir, `${pool}.conf`), renderNginxPool("test", pool, []), { flag: "wx" }).catch(() => {});
  const argv = nginxArgv(prefix);
  const child: ChildProcess = spawnDaemon(argv[0]!, [...argv.slice(1), "-g", "daemon off;"], join(prefix, "stderr.log"));
  const errorLog = () => readFile(join(prefix, "error.log"), "utf8").catch(() => "");
  await waitForPort(address, port, child, () => `see ${join(prefix, "error.log")}`);
  return {
    address,
    port,
    prefix,
    includeDir,
    validate: [...argv, "-t", "-q"],
    reload: [...argv, "-s", "reload"],
    url: (path = "/") => `http://${address}:${port}${path}`,
    errorLog,
    stop: () => stopChild(child, "SIGQUIT", 5_000),
  };
}
