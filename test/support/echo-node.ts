/**
 * A tiny HTTP upstream for balancer tests: answers every request with its own name, so a test
 * can see which node a balancer routed to. Listens on a free port of 127.0.0.1.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface EchoNode {
  name: string;
  /** "127.0.0.1:<port>", as a balancer lists it. */
  node: string;
  close(): Promise<void>;
}

export async function startEchoNode(name: string): Promise<EchoNode> {
  const server: Server = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/plain", connection: "close" });
    res.end(name);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    name,
    node: `127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

/** One GET: the status and body, or "error: <code>" when the connection failed. */
export async function get(url: string): Promise<{ status: number; body: string }> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5_000), headers: { connection: "close" } });
    return { status: res.status, body: await res.text() };
  } catch (e) {
    return { status: 0, body: `error: ${(e as Error).message}` };
  }
}
