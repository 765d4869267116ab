/**
 * Which TCP ports are taken on a host: its listening sockets, read with one remote command
 * (`ss -Hltn`, iproute2; where `ss` is missing, `/proc/net/tcp` and `/proc/net/tcp6`), and which
 * of them stop a proc that binds `HOST:PORT` from starting. Parsing and matching are pure.
 */
import { isIP } from "node:net";
import type { Host } from "./host.ts";

/** One listening TCP socket: its local address as printed (`0.0.0.0`, `::`, `127.0.0.2`) and port. */
export interface Listener {
  address: string;
  port: number;
}

/** argv that lists listening TCP sockets without a header: `LISTEN 0 4096 127.0.0.2:8000 0.0.0.0:*`. */
export const SS_ARGV = ["ss", "-Hltn"] as const;
/** The fallback where iproute2 is not installed: the kernel's socket tables. */
export const PROC_NET_ARGV = ["cat", "/proc/net/tcp", "/proc/net/tcp6"] as const;

/** Thrown when neither `ss` nor /proc/net could be read on the host. */
export class ListenerScanError extends Error {
  constructor(readonly host: string, detail: string) {
    super(`cannot list the listening ports on ${host}: ${detail}`);
    this.name = "ListenerScanError";
  }
}

/** The listening sockets of a host: one remote command (two where `ss` is missing). */
export async function scanListeners(host: Host): Promise<Listener[]> {
  const ss = await host.exec([...SS_ARGV], { timeoutMs: 15_000 });
  if (ss.code === 0) return parseSs(ss.stdout);
  const proc = await host.exec([...PROC_NET_ARGV], { timeoutMs: 15_000 });
  // tcp6 is missing on hosts without IPv6; cat still prints tcp and exits 1.
  if (proc.stdout.trim() !== "") return parseProcNetTcp(proc.stdout);
  throw new ListenerScanError(host.name, (ss.stderr || proc.stderr).trim() || `ss exited ${ss.code}`);
}

/** Parses `ss -Hltn` output (State Recv-Q Send-Q Local:Port Peer:Port), IPv4 and IPv6. */
export function parseSs(text: string): Listener[] {
  const out: Listener[] = [];
  for (const line of text.split("\n")) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 5) continue;
    const local = cols[3]!;
    const colon = local.lastIndexOf(":");
    if (colon < 0) continue;
    const port = Number(local.slice(colon + 1));
    if (!Number.isInteger(port) || port <= 0) continue;
    // `[::1]:80`, `127.0.0.53%lo:53`, `*:80`
    const address = local.slice(0, colon).replace(/^\[|\]$/g, "").replace(/%.*$/, "");
    out.push({ address, port });
  }
  return out;
}

/** Parses /proc/net/tcp and tcp6 (hex addresses, little-endian words), keeping LISTEN (0A) rows. */
export function parseProcNetTcp(text: string): Listener[] {
  const out: Listener[] = [];
  for (const line of text.split("\n")) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 4 || cols[3] !== "0A") continue;
    const [hexAddr, hexPort] = cols[1]!.split(":");
    if (!hexAddr || !hexPort) continue;
    const address = hexAddr.length === 8 ? ipv4FromHex(hexAddr) : hexAddr.length === 32 ? ipv6FromHex(hexAddr) : undefined;
    if (address) out.push({ address, port: parseInt(hexPort, 16) });
  }
  return out;
}

function ipv4FromHex(word: string): string {
  // One 32-bit word in host (little-endian) order: 0100007F is 127.0.0.1.
  return [6, 4, 2, 0].map((i) => parseInt(word.slice(i, i + 2), 16)).join(".");
}

function ipv6FromHex(hex: string): string {
  const bytes: number[] = [];
  for (let w = 0; w < 4; w++) {
    const word = hex.slice(w * 8, w * 8 + 8);
    for (const i of [6, 4, 2, 0]) bytes.push(parseInt(word.slice(i, i + 2), 16));
  }
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) return bytes.slice(12).join(".");
  const groups = Array.from({ length: 8 }, (_, i) => ((bytes[2 * i]! << 8) | bytes[2 * i + 1]!).toString(16));
  return groups.join(":").replace(/(^|:)0(:0)+(:|$)/, "::");
}

const WILDCARDS = new Set(["0.0.0.0", "::", "*", "[::]"]);

function isLoopback(address: string): boolean {
  return address.startsWith("127.") || address === "::1";
}

/**
 * Whether a socket listening on `address` stops a proc from binding `hostName` on the same port.
 * A wildcard always does. For a host named by an IP address, only that address does (test beds
 * run several hosts on one machine, one loopback address each). For a host named by a DNS name,
 * whose address Raptor does not know as the host sees it, every address but loopback does.
 */
export function blocks(address: string, hostName: string): boolean {
  if (WILDCARDS.has(address)) return true;
  const plain = address.replace(/^::ffff:/i, "");
  if (isIP(hostName)) return plain === hostName.replace(/^::ffff:/i, "");
  if (hostName === "localhost") return isLoopback(plain);
  return !isLoopback(plain);
}

/**
 * The ports in `range` that something other than Raptor holds on the host: listening there (for
 * `hostName`, see `blocks`) and not leased to one of Raptor's live procs on it. Sorted.
 */
export function busyPorts(listeners: readonly Listener[], hostName: string, range: { from: number; to: number }, leased: ReadonlySet<number>): number[] {
  const busy = new Set<number>();
  for (const l of listeners) {
    if (l.port < range.from || l.port > range.to || leased.has(l.port)) continue;
    if (blocks(l.address, hostName)) busy.add(l.port);
  }
  return [...busy].sort((a, b) => a - b);
}

/** Words a program prints when its port is taken (Python, Node, Go, Ruby, Java all say one of these). */
const BIND_FAILURE = /address already in use|EADDRINUSE|bind\(\) .* failed \(98/i;

/** Whether a dead proc's output says it could not bind its port. */
export function saysPortTaken(output: string | undefined): boolean {
  return output !== undefined && BIND_FAILURE.test(output);
}
