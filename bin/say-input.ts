import type { Readable } from "node:stream";
import { pendingSecrets } from "../engine/redact.ts";
import { isSecretKey } from "../lib/redact.ts";
import type { ParseResult } from "../bot/command.ts";
import { looksLikeCredential } from "../bot/typed-text.ts";

/**
 * Where `raptor say` takes its command from. On its argv the command is in every user's `ps` for
 * as long as `say` runs (a whole deployment), so a command carrying a secret is refused there and
 * taken from stdin instead (`raptor say -`).
 */

/** What `say` tells a person who put a secret on its command line. */
export const SECRET_ON_ARGV =
  "raptor say: refused: this command sets or carries a secret, and on raptor's command line it is visible to every user of this machine (ps, /proc) while say runs. Nothing was stored. Either type it in the `make run` terminal chat, or give it to `raptor say -` on stdin, e.g.\n" +
  "  bin/raptor say - <<'EOF'\n  config secret <app> <env> KEY=VALUE\n  EOF";

/**
 * Pure: whether `text`, given on `say`'s argv, sets a secret: a `config secret`, a `config set`
 * (or its `plan`) of a key that looks secret or a value that carries a password (engine/redact.ts
 * `pendingSecrets`); or text that did not parse but begins `config secret`, or `config set` with a
 * secret-looking key, or holds a secret-looking `KEY=` or a credential-looking word anywhere
 * (`API_TOKEN=tok-…` alone, a pasted `xoxb-…` token): a mistake still shows the value in `ps`.
 */
export function setsSecretOnArgv(text: string, parsed: ParseResult): boolean {
  const carries = [...text.matchAll(/(\w+)=/g)].some(([, k]) => isSecretKey(k!)) || text.split(/\s+/).some(looksLikeCredential);
  if (!parsed.ok || carries) return carries || /^\s*config\s+secret\b/i.test(text);
  const cmd = parsed.command.kind === "plan" ? parsed.command.of : parsed.command;
  if (cmd.kind !== "config-set") return false;
  return cmd.secret === true || pendingSecrets({ vars: cmd.vars }).length > 0;
}

/** Thrown when stdin does not hold exactly one command; the message is for the person at the terminal. */
export class SayInputError extends Error {
  override name = "SayInputError";
}

/**
 * Reads the one command `raptor say -` takes from `input` (a pipe or a here-document): the whole
 * text, surrounding blank space removed. Throws SayInputError when it is empty or holds more than
 * one line (say runs one command; several would each need their own reply and exit code).
 */
export async function readSaidCommand(input: Readable): Promise<string> {
  let text = "";
  for await (const chunk of input) text += String(chunk);
  text = text.trim();
  if (!text) throw new SayInputError("raptor say -: stdin held no command; give one, e.g. echo help | bin/raptor say -");
  if (text.includes("\n")) throw new SayInputError("raptor say -: stdin held more than one line; say runs one command at a time");
  return text;
}
