import { randomBytes } from "node:crypto";

const alphabet = "abcdefghjkmnpqrstuvwxyz23456789"; // no 0/o, 1/l/i: people type these ids

/** A short deployment id people can type: "d-k3j9x2ab". */
export function newDeploymentId(): string {
  const bytes = randomBytes(8);
  let s = "";
  for (const b of bytes) s += alphabet[b % alphabet.length];
  return `d-${s}`;
}
