import { expect } from "vitest";
import { BuildError } from "../../engine/builds/build-error.ts";

/** The BuildError `p` rejects with; fails the test when it rejects with anything else, or resolves. */
export async function buildErrorOf(p: Promise<unknown>): Promise<BuildError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(BuildError);
    return err as BuildError;
  }
  throw new Error("expected a BuildError: the build was not refused");
}
