import type { ErrorCode } from "../lib/error-codes.ts";

/** A node is "host:port". */
export type Node = string;

/** Options of one pool change. */
export interface ChangeOptions {
  /**
   * Called once per balancer host as the change lands there ("lb1: nginx -t ok, reloaded"), so a
   * deployment's thread shows the route step per balancer host. Errors it throws are ignored.
   */
  progress?(message: string): Promise<void> | void;
  /**
   * deleteNodes: how long a backend that can drain (HAProxy `state drain`, Stingray `draining`)
   * waits for a node's sessions to end before removing it; the environment's `drain`, in ms.
   * nginx, whose reload is its drain, waits at most this long for the workers from before the
   * reload to exit (default 30 s when absent). Varnish ignores it (teardown's drain covers it).
   */
  drainMs?: number;
}

/**
 * A load balancer backend keeping the node list of named pools. Every backend passes the contract
 * suite in test/contract/balancer.contract.ts. An empty pool is valid. Backends drain a node
 * (stop new connections, let in-flight ones finish) before it disappears.
 * Changes to one pool are serialized across workers by the caller (withPoolLock in engine/locks.ts).
 * A backend with several hosts changes all of them or none: when one host fails, the hosts that
 * took the change are put back to the previous pool before the BalancerError is thrown.
 */
export interface Balancer {
  readonly name: string;
  getNodes(pool: string): Promise<Node[]>;
  addNodes(pool: string, nodes: readonly Node[], opts?: ChangeOptions): Promise<Node[]>;
  deleteNodes(pool: string, nodes: readonly Node[], opts?: ChangeOptions): Promise<Node[]>;
  /** The backend's own config check (nginx -t, haproxy -c, varnishd -C); throws BalancerError. */
  validate?(): Promise<void>;
}

/**
 * A pool change that did not happen. `host` is the balancer host that failed (absent for
 * host-less backends), `output` the tool's own message (stderr tail), already in `message` too.
 * The engine maps `code` to the deployment's failure; the thread reads `message`.
 */
export class BalancerError extends Error {
  readonly code = "balancer_failed" satisfies ErrorCode;
  readonly host: string | undefined;
  readonly output: string | undefined;
  constructor(readonly balancer: string, message: string, opts: { host?: string; output?: string } = {}) {
    super(`balancer ${balancer}${opts.host ? ` on ${opts.host}` : ""}: ${message}`);
    this.name = "BalancerError";
    this.host = opts.host;
    this.output = opts.output;
  }
}
