/**
 * A fake Stingray / Pulse vTM speaking the REST configuration API's pool resource over HTTPS with
 * a self-signed certificate (no appliance runs here). Shapes from the vTM REST API guide:
 * `GET|PUT /api/tm/<version>/config/active/pools/<name>`, basic auth (401 otherwise), JSON bodies,
 * `properties.basic.nodes_table` rows `{ node: "host:port", state, weight, priority }`, PUT merges
 * the properties it names (201 created / 200 modified) and answers the whole resource, errors as
 * `{ error_id, error_text }`. It keeps every pool's table history so tests can check the order
 * of states a node went through.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { NodesTableRow } from "../../balancers/stingray-api.ts";

export interface FakeVtm {
  /** `https://127.0.0.1:<port>/api/tm/7.0` */
  url: string;
  username: string;
  password: string;
  /** Every PUT's nodes table, per pool, in order. */
  history: Map<string, NodesTableRow[][]>;
  /** Requests refused with 401. */
  unauthorized: number;
  pools: Map<string, Record<string, unknown>>;
  /** Makes the next `n` requests answer this status and error (for fault tests). */
  failNext(n: number, status: number, errorId: string, text: string): void;
  stop(): Promise<void>;
}

const STATES = new Set(["active", "draining", "disabled"]);
const NODE = /^[A-Za-z0-9.-]+:\d{1,5}$/;

function selfSignedCert(): { key: Buffer; cert: Buffer } {
  const dir = mkdtempSync(join(tmpdir(), "raptor-vtm-cert-"));
  try {
    execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem")], { stdio: "ignore" });
    return { key: readFileSync(join(dir, "key.pem")), cert: readFileSync(join(dir, "cert.pem")) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Checks a PUT body against the pool resource's rules; the message is the appliance's error_text. */
function validationError(body: unknown): string | undefined {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return "The request body must be a JSON object";
  const props = (body as { properties?: unknown }).properties;
  if (typeof props !== "object" || props === null) return "The request body must contain 'properties'";
  const table = (props as { basic?: { nodes_table?: unknown } }).basic?.nodes_table;
  if (table === undefined) return undefined;
  if (!Array.isArray(table)) return "basic/nodes_table: must be a list";
  for (const [i, row] of table.entries()) {
    const r = row as Record<string, unknown>;
    for (const key of Object.keys(r)) if (!["node", "state", "weight", "priority", "source_ip"].includes(key)) return `basic/nodes_table[${i}]: unknown field '${key}'`;
    if (typeof r.node !== "string" || !NODE.test(r.node)) return `basic/nodes_table[${i}]/node: invalid node '${String(r.node)}'`;
    if (r.state !== undefined && !STATES.has(r.state as string)) return `basic/nodes_table[${i}]/state: must be one of active, draining, disabled`;
    if (r.weight !== undefined && (!Number.isInteger(r.weight) || (r.weight as number) < 1 || (r.weight as number) > 100)) return `basic/nodes_table[${i}]/weight: must be an integer 1-100`;
  }
  const nodes = table.map((r) => (r as NodesTableRow).node);
  if (new Set(nodes).size !== nodes.length) return "basic/nodes_table: duplicate node";
  return undefined;
}

export async function startFakeVtm(opts: { username?: string; password?: string; version?: string } = {}): Promise<FakeVtm> {
  const username = opts.username ?? "admin";
  const password = opts.password ?? "s3cret pass";
  const prefix = `/api/tm/${opts.version ?? "7.0"}/config/active/pools/`;
  const pools = new Map<string, Record<string, unknown>>();
  const history = new Map<string, NodesTableRow[][]>();
  let failures: { n: number; status: number; errorId: string; text: string } | undefined;
  const state = { unauthorized: 0 };

  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };
  const error = (res: ServerResponse, status: number, errorId: string, text: string) => send(res, status, { error_id: errorId, error_text: text });

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const expected = `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
    if (req.headers.authorization !== expected) {
      state.unauthorized++;
      res.setHeader("www-authenticate", 'Basic realm="Traffic Manager"');
      return error(res, 401, "auth.invalid", "Authentication failed");
    }
    if (failures && failures.n > 0) {
      failures.n--;
      return error(res, failures.status, failures.errorId, failures.text);
    }
    const path = new URL(req.url ?? "/", "https://x").pathname;
    if (!path.startsWith(prefix) || path.length === prefix.length) return error(res, 404, "resource.not_found", `Resource '${path}' does not exist`);
    const name = decodeURIComponent(path.slice(prefix.length));
    if (req.method === "GET") {
      const pool = pools.get(name);
      return pool ? send(res, 200, pool) : error(res, 404, "resource.not_found", `Resource '${name}' does not exist`);
    }
    if (req.method !== "PUT") return error(res, 405, "http.method_not_allowed", `Method '${req.method}' not allowed`);
    if (!String(req.headers["content-type"] ?? "").startsWith("application/json")) return error(res, 415, "http.unsupported_media_type", "Content-Type must be application/json");
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch {
      return error(res, 400, "json.invalid", "Invalid JSON in request body");
    }
    const invalid = validationError(body);
    if (invalid) return error(res, 400, "resource.validation_error", invalid);
    const existing = pools.get(name);
    const incoming = (body as { properties: Record<string, Record<string, unknown>> }).properties;
    const merged = structuredClone(existing ?? { properties: { basic: { nodes_table: [], monitors: [], note: "" }, load_balancing: { algorithm: "round_robin" } } }) as { properties: Record<string, Record<string, unknown>> };
    for (const [section, values] of Object.entries(incoming)) merged.properties[section] = { ...(merged.properties[section] ?? {}), ...values };
    const table = (merged.properties.basic!.nodes_table as NodesTableRow[]).map((r) => ({ weight: 1, priority: 1, ...r, state: r.state ?? "active" }));
    merged.properties.basic!.nodes_table = table;
    pools.set(name, merged);
    history.set(name, [...(history.get(name) ?? []), table]);
    return send(res, existing ? 200 : 201, merged);
  };

  const server = createServer(selfSignedCert(), (req, res) => {
    handle(req, res).catch((err: Error) => error(res, 500, "internal", err.message));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `https://127.0.0.1:${port}/api/tm/${opts.version ?? "7.0"}`,
    username,
    password,
    history,
    pools,
    get unauthorized() {
      return state.unauthorized;
    },
    failNext(n, status, errorId, text) {
      failures = { n, status, errorId, text };
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
