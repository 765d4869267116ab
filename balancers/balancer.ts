/** A node is "host:port". */
export type Node = string;

/**
 * A load balancer backend keeping the node list of named pools. Every backend passes the contract
 * suite in test/contract/balancer.contract.ts. An empty pool is valid. Backends drain a node
 * (stop new connections, let in-flight ones finish) before it disappears.
 * Changes to one pool are serialized across workers by the caller (withPoolLock in engine/locks.ts).
 */
export interface Balancer {
  readonly name: string;
  getNodes(pool: string): Promise<Node[]>;
  addNodes(pool: string, nodes: readonly Node[]): Promise<Node[]>;
  deleteNodes(pool: string, nodes: readonly Node[]): Promise<Node[]>;
  /** The backend's own config check (nginx -t, haproxy -c, varnishd -C); throws BalancerError. */
  validate?(): Promise<void>;
}

export class BalancerError extends Error {
  readonly code = "balancer_failed";
  constructor(readonly balancer: string, message: string) {
    super(`balancer ${balancer}: ${message}`);
    this.name = "BalancerError";
  }
}
