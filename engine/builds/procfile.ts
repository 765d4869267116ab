import { verbatim } from "../../lib/verbatim.ts";
import { PROC_TYPE } from "../../lib/names.ts";
import { BuildError } from "./build-error.ts";


/** A Procfile error, with the 1-based line it is on. */
export class ProcfileError extends BuildError {
  constructor(
    readonly line: number,
    readonly reason: string,
  ) {
    super("build_failed", `Procfile line ${line}: ${reason}`);
    this.name = "ProcfileError";
  }
}

/**
 * Parses a Procfile: `<type>: <command>` per line; blank lines and `#` comments are skipped.
 * Pure. Throws ProcfileError at the first malformed line (bad name, no colon, empty command,
 * a type defined twice).
 */
export function parseProcfile(text: string): Record<string, string> {
  const procs: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    const line = raw.trim();
    const n = i + 1;
    if (line === "" || line.startsWith("#")) continue;
    const colon = line.indexOf(":");
    if (colon < 0) throw new ProcfileError(n, `expected \`<type>: <command>\`, got \`${verbatim(clip(line))}\``);
    const name = line.slice(0, colon).trim();
    const command = line.slice(colon + 1).trim();
    if (!PROC_TYPE.test(name)) {
      throw new ProcfileError(n, `proc type \`${verbatim(clip(name))}\` must be lowercase letters, digits, _ or - (starting with a letter or digit, at most 63)`);
    }
    if (command === "") throw new ProcfileError(n, `proc type \`${name}\` has no command`);
    if (Object.hasOwn(procs, name)) throw new ProcfileError(n, `proc type \`${name}\` is defined twice`);
    procs[name] = command;
  }
  return procs;
}

function clip(s: string): string {
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
