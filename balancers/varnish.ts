import { randomBytes } from "node:crypto";
import { posix } from "node:path";
import type { Host } from "../runners/host.ts";
import type { Node } from "./balancer.ts";
import { FileBalancer, type FileBackendOptions, type FileState } from "./file-backend.ts";
import { checkPool } from "./nodes.ts";
import { parsePoolsVcl, parseVarnishPool, renderPoolsVcl, renderVarnishPool, VCL_POOL, VCL_POOL_RULE } from "./varnish-config.ts";

export interface VarnishOptions extends FileBackendOptions {
  includeDir: string;
  /** The main VCL (it includes `<include_dir>/pools.vcl`); what the built-in load compiles. */
  vcl: string;
  /** The varnishadm argv prefix (`[varnishadm]`, or with `-n <workdir>` / `-T` `-S`). */
  varnishadm: readonly string[];
  /** The operator's own apply command; absent = the built-in varnishadm load. */
  reload?: readonly string[];
}

/** VCLs Raptor loaded are named `raptor_<ms>_<hex>`, so old ones can be discarded safely. */
const RAPTOR_VCL = /^raptor_\d+_[0-9a-f]+$/;

/**
 * Varnish: `<pool>.vcl` and `pools.vcl` on every balancer host, `validate` (varnishd -C) before
 * every load. With no `reload`, a change is loaded the way varnishreload does it (the script is
 * not on PATH in Debian's package): `vcl.load raptor_<ms>_<hex> <vcl>`, `vcl.use` it, then
 * `vcl.discard` the older raptor_ VCLs that are no longer active. Draining: requests already in
 * the previous VCL finish on its backends; new requests take the new VCL (varnish-cache docs,
 * "vcl.use"), so the engine's `drain` wait before stopping old procs covers them.
 */
export class VarnishBalancer extends FileBalancer {
  private readonly includeDir: string;
  private readonly vcl: string;
  private readonly varnishadm: readonly string[];
  private readonly reloadArgv: readonly string[] | undefined;

  constructor(opts: VarnishOptions) {
    super(opts);
    this.includeDir = opts.includeDir;
    this.vcl = opts.vcl;
    this.varnishadm = opts.varnishadm;
    this.reloadArgv = opts.reload;
  }

  protected poolPath(pool: string, host: Host): string {
    checkPool(this.name, pool, VCL_POOL, VCL_POOL_RULE);
    return posix.join(this.expand(host, this.includeDir), `${pool}.vcl`);
  }

  protected render(pool: string, nodes: readonly Node[]): string {
    return renderVarnishPool(this.name, pool, nodes);
  }

  protected parse(text: string): Node[] {
    return parseVarnishPool(text);
  }

  /** pools.vcl, when this pool is not in it yet. */
  protected override async companions(host: Host, pool: string): Promise<FileState[]> {
    const dir = this.expand(host, this.includeDir);
    const path = posix.join(dir, "pools.vcl");
    const text = await this.read(host, path);
    const pools = text === null ? [] : parsePoolsVcl(text);
    if (text !== null && pools.includes(pool)) return [];
    return [{ path, content: renderPoolsVcl(dir, [...pools, pool]) }];
  }

  protected async apply(host: Host): Promise<string> {
    if (this.reloadArgv) {
      await this.run(host, this.expandAll(host, this.reloadArgv));
      return "reloaded";
    }
    const adm = this.expandAll(host, this.varnishadm);
    const name = `raptor_${Date.now()}_${randomBytes(3).toString("hex")}`;
    await this.run(host, [...adm, "vcl.load", name, this.expand(host, this.vcl)]);
    try {
      await this.run(host, [...adm, "vcl.use", name]);
    } catch (e) {
      await host.exec([...adm, "vcl.discard", name], { timeoutMs: this.timeoutMs }).catch(() => undefined);
      throw e;
    }
    await this.discardOld(host, adm, name);
    return `loaded as ${name}`;
  }

  /** Best effort: older raptor_ VCLs that are merely available go, so they do not pile up. */
  private async discardOld(host: Host, adm: string[], keep: string): Promise<void> {
    const list = await host.exec([...adm, "vcl.list"], { timeoutMs: this.timeoutMs }).catch(() => undefined);
    if (!list || list.code !== 0) return;
    for (const line of list.stdout.split("\n")) {
      const cols = line.trim().split(/\s+/);
      const name = cols[4];
      if (cols[0] === "available" && name && name !== keep && RAPTOR_VCL.test(name)) {
        await host.exec([...adm, "vcl.discard", name], { timeoutMs: this.timeoutMs }).catch(() => undefined);
      }
    }
  }
}
