import { posix } from "node:path";
import type { Host } from "../runners/host.ts";
import type { Node } from "./balancer.ts";
import { FileBalancer, type FileBackendOptions } from "./file-backend.ts";
import { parseNginxPool, renderNginxPool } from "./nginx-config.ts";
import { checkPool } from "./nodes.ts";

export interface NginxOptions extends FileBackendOptions {
  /** The directory of Raptor's pool files (`<include_dir>/<pool>.conf`). */
  includeDir: string;
  /** argv of the reload (default in the playbook schema: [nginx, -s, reload]). */
  reload: readonly string[];
}

/**
 * nginx: one `upstream` file per pool on every balancer host, `validate` (nginx -t) before every
 * `reload`. Draining: open-source nginx has no per-server drain state; a reload is itself the
 * drain — the old worker processes stop accepting, finish their in-flight requests and exit,
 * while new workers route with the new upstream (nginx docs, "Controlling nginx": graceful
 * shutdown of old workers). The engine then waits the environment's `drain` before stopping the
 * old procs, which bounds how long a slow request may keep an old worker busy.
 */
export class NginxBalancer extends FileBalancer {
  private readonly includeDir: string;
  private readonly reloadArgv: readonly string[];

  constructor(opts: NginxOptions) {
    super(opts);
    this.includeDir = opts.includeDir;
    this.reloadArgv = opts.reload;
  }

  protected poolPath(pool: string, host: Host): string {
    checkPool(this.name, pool);
    return posix.join(this.expand(host, this.includeDir), `${pool}.conf`);
  }

  protected render(pool: string, nodes: readonly Node[]): string {
    return renderNginxPool(this.name, pool, nodes);
  }

  protected parse(text: string): Node[] {
    return parseNginxPool(text);
  }

  protected async apply(host: Host): Promise<string> {
    await this.run(host, this.expandAll(host, this.reloadArgv));
    return "reloaded";
  }
}
