import { Agent, request, type Dispatcher } from "undici";
import { BalancerError, type Balancer, type ChangeOptions, type Node } from "./balancer.ts";
import { errorText, nodesTable, poolUrl, putBody, tableNodes, withNodesActive, withNodesDraining, withoutNodes, type NodesTableRow } from "./stingray-api.ts";
import { plural } from "../lib/plural.ts";

/** The playbook's `kind: stingray` keys, resolved. */
export interface StingrayOptions {
  name: string;
  /** The REST API root, e.g. `https://vtm.internal:9070/api/tm/7.0`. */
  url: string;
  username: string;
  password: string;
  /** Accept a self-signed certificate (this client only). Default false. */
  insecure?: boolean;
  /** How long removed nodes stay `draining` before their rows go (ms). Default 10 000. */
  drainMs?: number;
  /** Per-request timeout (ms). Default 15 000. */
  timeoutMs?: number;
}

/**
 * A Stingray / Pulse vTM pool through the REST configuration API: the pool's `nodes_table` is
 * read, changed and PUT back. New nodes join as `active`; leaving nodes are set `draining`, kept
 * so for the drain time, then their rows are removed. A pool that does not exist is empty;
 * adding to it creates it. Errors are BalancerError with the appliance's `error_id: error_text`;
 * the password never appears in them (it travels only in the Authorization header).
 */
export class StingrayBalancer implements Balancer {
  readonly name: string;
  private readonly dispatcher: Dispatcher;
  private readonly auth: string;

  constructor(private readonly opts: StingrayOptions) {
    this.name = opts.name;
    if (!/^https?:\/\//.test(opts.url)) throw new BalancerError(opts.name, `url ${JSON.stringify(opts.url)} must start with https://`);
    this.auth = `Basic ${Buffer.from(`${opts.username}:${opts.password}`).toString("base64")}`;
    // Only this client skips certificate checks, and only when the playbook says `insecure: true`.
    this.dispatcher = new Agent({ connect: { rejectUnauthorized: !opts.insecure }, headersTimeout: opts.timeoutMs ?? 15_000, bodyTimeout: opts.timeoutMs ?? 15_000 });
  }

  async getNodes(pool: string): Promise<Node[]> {
    return tableNodes((await this.read(pool)) ?? []);
  }

  async addNodes(pool: string, nodes: readonly Node[], opts: ChangeOptions = {}): Promise<Node[]> {
    const existing = await this.read(pool);
    const table = existing ?? [];
    const next = withNodesActive(table, nodes);
    if (JSON.stringify(next) !== JSON.stringify(table)) {
      await this.write(pool, next);
      await report(opts, `${new URL(this.opts.url).host}: +${nodes.length} active (${plural(next.length, "node")})`);
    }
    return tableNodes(next);
  }

  /** Leaving nodes stay `draining` for `opts.drainMs` (default StingrayOptions.drainMs), then go. */
  async deleteNodes(pool: string, nodes: readonly Node[], opts: ChangeOptions = {}): Promise<Node[]> {
    const table = await this.read(pool);
    if (table === undefined) return [];
    const present = nodes.filter((n) => table.some((r) => r.node === n));
    if (present.length === 0) return tableNodes(table);
    await this.write(pool, withNodesDraining(table, present));
    await report(opts, `${new URL(this.opts.url).host}: ${present.length} draining`);
    const drainMs = opts.drainMs ?? this.opts.drainMs ?? 10_000;
    if (drainMs > 0) await new Promise((r) => setTimeout(r, drainMs));
    // Read again: the pool lock keeps Raptor out, but an operator may have changed other rows.
    const next = withoutNodes((await this.read(pool)) ?? [], present);
    await this.write(pool, next);
    await report(opts, `${new URL(this.opts.url).host}: −${present.length} (${plural(next.length, "node")})`);
    return tableNodes(next);
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }

  /** The pool's rows, or undefined when the pool does not exist (404). */
  private async read(pool: string): Promise<NodesTableRow[] | undefined> {
    const { status, text } = await this.call("GET", pool);
    if (status === 404) return undefined;
    if (status !== 200) throw new BalancerError(this.name, `GET pool ${pool}: ${errorText(status, text)}`);
    try {
      return nodesTable(JSON.parse(text));
    } catch (err) {
      throw new BalancerError(this.name, `GET pool ${pool}: ${(err as Error).message}`);
    }
  }

  private async write(pool: string, table: NodesTableRow[]): Promise<void> {
    const { status, text } = await this.call("PUT", pool, JSON.stringify(putBody(table)));
    if (status !== 200 && status !== 201) throw new BalancerError(this.name, `PUT pool ${pool}: ${errorText(status, text)}`);
  }

  private async call(method: "GET" | "PUT", pool: string, body?: string): Promise<{ status: number; text: string }> {
    const url = poolUrl(this.opts.url, pool);
    try {
      const res = await request(url, {
        method,
        dispatcher: this.dispatcher,
        headers: { authorization: this.auth, accept: "application/json", ...(body ? { "content-type": "application/json" } : {}) },
        body,
      });
      return { status: res.statusCode, text: await res.body.text() };
    } catch (err) {
      const e = err as Error & { code?: string; cause?: { code?: string; message?: string } };
      const why = e.cause?.message ?? e.message;
      throw new BalancerError(this.name, `cannot reach ${url}: ${e.code ?? e.cause?.code ?? ""} ${why}`.replace(/\s+/g, " "));
    }
  }
}

async function report(opts: ChangeOptions, message: string): Promise<void> {
  try {
    await opts.progress?.(message);
  } catch {
    // progress is for people; a failed report does not fail the change
  }
}
