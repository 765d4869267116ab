/**
 * What a squad's host names and root may be, checked when the playbook loads (not first when a
 * deployment reaches the host). Both end up in an SSH connection, a supervisord URL, paths on the
 * host and supervisord's ini file, so the rules are strict.
 */
import { isIP } from "node:net";

/**
 * A host: an IPv4 or IPv6 address, or a host name as RFC 1123 §2.1 (updating RFC 952) defines
 * it: dot-separated labels of letters, digits and "-", each 1-63 characters, not starting or
 * ending with "-" (a leading digit is allowed), at most 253 characters in all, no trailing dot.
 * Returns what is wrong, or undefined.
 */
export function hostProblem(host: string): string | undefined {
  // An unset ${VAR} is reported as such where it is substituted.
  if (isIP(host) || host.includes("${")) return undefined;
  const shown = JSON.stringify(host);
  if (/[\x00-\x20\x7f]/.test(host)) return `${shown} is not a host name: it contains a space or a control character (a line break, a tab)`;
  if (host.length > 253) return `${shown} is not a host name: at most 253 characters (RFC 1123)`;
  for (const label of host.split(".")) {
    if (label === "") return `${shown} is not a host name: it has an empty label (".." or a dot at an end)`;
    if (label.length > 63) return `${shown} is not a host name: the label "${label.slice(0, 20)}…" is longer than 63 characters (RFC 1123)`;
    if (!/^[A-Za-z0-9-]+$/.test(label)) return `${shown} is not a host name or IP address: host names are letters, digits and "-" in dot-separated labels (RFC 1123)`;
    if (label.startsWith("-") || label.endsWith("-")) return `${shown} is not a host name: a label may not start or end with "-" (RFC 1123)`;
  }
  return undefined;
}

/**
 * The characters a root may hold: the ones Raptor writes into supervisord's ini and onto a
 * command line without quoting trouble (runners/proc-layout.ts checks the same set again when it
 * lays procs out), plus the `{host}` placeholder.
 */
const ROOT_CHARS = /^[A-Za-z0-9_./@+,:=-]*$/;

/**
 * A squad root: a directory path, absolute (a `transport: local` squad may give one relative to
 * where Raptor runs), normalized (no empty, "." or ".." segments: `/srv/apps`, not
 * `/srv//apps/../apps`), of letters, digits and `_ . / @ + , : = -` only (no spaces, quotes,
 * line breaks or shell characters such as `$ ; | & > \``), `{host}` allowed. Returns what is
 * wrong, or undefined.
 */
export function rootProblem(root: string, transport: "ssh" | "local"): string | undefined {
  // Placeholders (an unknown one is reported on its own) and an unset ${VAR} are not the path's fault.
  if (root.includes("${")) return undefined;
  const bare = root.replace(/\{[^}]*\}/g, "h");
  if (/[\x00-\x1f\x7f]/.test(bare)) return "must be a directory path on one line: it contains a line break or another control character";
  if (!ROOT_CHARS.test(bare)) {
    const bad = [...new Set([...bare].filter((c) => !ROOT_CHARS.test(c)))].map((c) => (c === " " ? "a space" : `"${c}"`));
    return `must be a directory path of letters, digits and _ . / @ + , : = - only (no spaces, quotes or shell characters); it has ${bad.join(", ")}`;
  }
  if (!bare.startsWith("/") && transport === "ssh") return "must be an absolute path (starting with /) on the hosts";
  const segments = bare.replace(/\/+$/, "").split("/").slice(bare.startsWith("/") ? 1 : 0);
  if (segments.includes("..")) return 'must not contain ".." (write the directory it means)';
  if (bare !== "/" && segments.some((s) => s === "" || s === ".")) return 'must be a normalized path (no "//" or "/./")';
  return undefined;
}
