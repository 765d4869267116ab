/**
 * Pure parts of the HAProxy backend: server names, the pool file, runtime API command text and
 * the parsers of its answers. No I/O here; balancers/haproxy.ts does the talking.
 *
 * Rules from HAProxy's own documents (configuration.txt §2 "names", management.txt §9.3 "add
 * server", "del server", "show servers state", "show stat"), checked against HAProxy 2.6
 * (Debian 12's package): proxy and server names use only letters, digits, `-`, `_`, `.`, `:`;
 * a dynamic server is created in maintenance and needs `set server ... state ready`; it does not
 * resolve a host name (init-addr none), so only IP literals go through the runtime API.
 */
import type { Node } from "./balancer.ts";

/** HAProxy's name rule (configuration.txt: "names ... letters, digits, '-', '_', '.', ':'"). */
const NAME = /^[A-Za-z0-9._:-]+$/;
const HOST = /^[A-Za-z0-9.-]+$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** A node or pool name HAProxy cannot take; the message names it for the channel. */
export class HaproxyInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "HaproxyInputError";
  }
}

export interface ParsedNode {
  host: string;
  port: number;
}

/** `host:port` -> its parts. Throws HaproxyInputError for anything else (IPv6 is not supported). */
export function parseNode(node: Node): ParsedNode {
  const m = /^([^:]+):(\d{1,5})$/.exec(node);
  const port = m ? Number(m[2]) : NaN;
  if (!m || !HOST.test(m[1]!) || port < 1 || port > 65535) {
    throw new HaproxyInputError(`node ${JSON.stringify(node)} is not host:port (a host name or IPv4 address and a port 1-65535)`);
  }
  return { host: m[1]!, port };
}

/**
 * The HAProxy server name of a node: the node itself (`10.0.0.5:8001`), which HAProxy's name rule
 * allows. Deterministic and reversible, so the runtime API's server list is the pool's node list.
 */
export function serverName(node: Node): string {
  const { host, port } = parseNode(node);
  return `${host}:${port}`;
}

/** True when the runtime API can add the node: its host is an IPv4 literal (no DNS for dynamic servers). */
export function isRuntimeAddable(node: Node): boolean {
  return IPV4.test(parseNode(node).host);
}

/** Throws HaproxyInputError unless `pool` is a valid HAProxy backend name. */
export function checkPoolName(pool: string): string {
  if (!NAME.test(pool)) throw new HaproxyInputError(`pool ${JSON.stringify(pool)} is not a valid HAProxy backend name (letters, digits, - _ . :)`);
  return pool;
}

/** `<include_dir>/<pool>.cfg`. */
export function poolFile(includeDir: string, pool: string): string {
  return `${includeDir.replace(/\/+$/, "")}/${checkPoolName(pool)}.cfg`;
}

/**
 * The pool file Raptor owns: `backend <pool>` and one `server` line per node, sorted. An empty pool
 * is a backend with no servers (HAProxy answers 503), which keeps the operator's `default_backend`
 * loading. `balance roundrobin`: runtime-added servers need a dynamic algorithm.
 */
export function renderBackend(pool: string, nodes: readonly Node[]): string {
  const lines = [
    "# Written by Raptor: the servers of this pool. Changes made here are replaced on the next route.",
    `backend ${checkPoolName(pool)}`,
    "  balance roundrobin",
    ...[...new Set(nodes)].sort().map((n) => `  server ${serverName(n)} ${serverName(n)}`),
  ];
  return `${lines.join("\n")}\n`;
}

/** The nodes of a pool file written by renderBackend (its `server <name> <addr>` lines). */
export function parseBackendFile(text: string): Node[] {
  const nodes: Node[] = [];
  for (const line of text.split("\n")) {
    const m = /^\s*server\s+(\S+)\s+(\S+)/.exec(line);
    if (m) nodes.push(m[2]!);
  }
  return nodes.sort();
}

/** Runtime API command lines (management.txt §9.3). Names are checked before they are sent. */
export const runtimeCommand = {
  showServersState: (pool: string) => `show servers state ${checkPoolName(pool)}`,
  showStat: (pool: string) => `show stat ${checkPoolName(pool)} 4 -1`,
  addServer: (pool: string, node: Node) => `add server ${checkPoolName(pool)}/${serverName(node)} ${serverName(node)}`,
  setState: (pool: string, node: Node, state: "ready" | "drain" | "maint") => `set server ${checkPoolName(pool)}/${serverName(node)} state ${state}`,
  shutdownSessions: (pool: string, node: Node) => `shutdown sessions server ${checkPoolName(pool)}/${serverName(node)}`,
  delServer: (pool: string, node: Node) => `del server ${checkPoolName(pool)}/${serverName(node)}`,
};

/**
 * The argv that sends one command to the stats socket on the balancer host: `socat` (Debian
 * package socat) reads the command on stdin. The socket path is checked: socat would read `,` `:`
 * `!` as its own address syntax.
 */
export function socketArgv(socket: string): string[] {
  if (!/^\/[A-Za-z0-9._/-]+$/.test(socket)) throw new HaproxyInputError(`socket ${JSON.stringify(socket)} must be an absolute path of letters, digits, . _ - /`);
  return ["socat", "-t", "10", "stdio", `unix-connect:${socket}`];
}

/** What a command answers on success; anything else is HAProxy's error message. */
export function runtimeFailure(command: string, answer: string): string | undefined {
  const text = answer.trim();
  if (command.startsWith("add server ")) return text === "New server registered." ? undefined : text || "no answer";
  if (command.startsWith("del server ")) return text === "Server deleted." ? undefined : text || "no answer";
  if (command.startsWith("show ")) return /^(Can't find backend|No such|Unknown|Permission denied)/.test(text) ? text : undefined;
  return text === "" ? undefined : text;
}

export interface ServerState {
  name: string;
  /** HAProxy's srv_admin_state bit field: 0x01 forced maint, 0x08 forced drain, ... */
  adminState: number;
}

/** `show servers state <pool>`: the servers, or undefined when the backend does not exist. */
export function parseServersState(answer: string): ServerState[] | undefined {
  if (answer.trim().startsWith("Can't find backend")) return undefined;
  const out: ServerState[] = [];
  for (const line of answer.split("\n")) {
    if (!line.trim() || line.startsWith("#") || /^\d+$/.test(line.trim())) continue;
    const f = line.trim().split(/\s+/);
    // be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state ...
    if (f.length >= 7) out.push({ name: f[3]!, adminState: Number(f[6]) });
  }
  return out;
}

/** `show stat <pool> 4 -1` CSV: current sessions plus queued requests per server name. */
export function parseStatSessions(csv: string): Map<string, number> {
  const lines = csv.split("\n").filter((l) => l.trim());
  const header = (lines.shift() ?? "").replace(/^#\s*/, "").split(",");
  const [sv, scur, qcur] = ["svname", "scur", "qcur"].map((k) => header.indexOf(k));
  const out = new Map<string, number>();
  if (sv! < 0 || scur! < 0) return out;
  for (const line of lines) {
    const f = line.split(",");
    out.set(f[sv!]!, Number(f[scur!] || 0) + Number(qcur! >= 0 ? f[qcur!] || 0 : 0));
  }
  return out;
}

/**
 * Splits the answer to several one-line-answer commands sent as one line (`a; b; c`): HAProxy
 * ends every answer with an empty line, so an empty answer is "\n" and a message is "text\n\n".
 * Only for commands whose answers are at most one line (add/set/del/shutdown), never `show`.
 */
export function splitBatchAnswer(answer: string, count: number): string[] {
  const out: string[] = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    if (at >= answer.length) {
      out.push("");
      continue;
    }
    if (answer[at] === "\n") {
      out.push("");
      at += 1;
      continue;
    }
    const end = answer.indexOf("\n\n", at);
    const stop = end < 0 ? answer.length : end;
    out.push(answer.slice(at, stop));
    at = end < 0 ? answer.length : end + 2;
  }
  return out;
}
