import { UnrecoverableError } from "bullmq";
import { describe, expect, it } from "vitest";
import { BalancerError } from "../../balancers/balancer.ts";
import { BuildError } from "../../engine/builds/build-error.ts";
import { EngineError, toEngineError } from "../../engine/errors.ts";
import { PlacementError } from "../../engine/placement.ts";
import { decodeJobError, encodeJobError } from "../../engine/queues.ts";
import { errorCodes } from "../../lib/error-codes.ts";
import { HostUnreachableError } from "../../runners/host.ts";
import { ProcError } from "../../runners/process-runner.ts";
import { UnsafeLayoutError } from "../../runners/proc-layout.ts";
import { InvalidEnvKeyError } from "../../runners/shell.ts";
import { SupervisorError } from "../../runners/supervisor/xmlrpc-client.ts";

describe("error codes are one closed set", () => {
  const thrownByLayers: [string, Error & { code: string }][] = [
    ["InvalidEnvKeyError", new InvalidEnvKeyError("A-B")],
    ["UnsafeLayoutError", new UnsafeLayoutError("bad")],
    ["HostUnreachableError", new HostUnreachableError("h1", "refused")],
    ["ProcError", new ProcError("died", "h1")],
    ["SupervisorError", new SupervisorError("http://h1:9001/RPC2", "startProcess", "fault")],
    ["BalancerError", new BalancerError("lb", "nginx -t failed")],
    ["BuildError", new BuildError("build_failed", "compile failed")],
    ["PlacementError", new PlacementError("no_ports", "no free port")],
  ];
  it.each(thrownByLayers)("%s keeps its own code through toEngineError", (_name, err) => {
    expect(errorCodes).toContain(err.code);
    expect(toEngineError(err).code).toBe(err.code);
  });

  it("a bad environment variable name is `invalid`, not an internal error", () => {
    const e = toEngineError(new InvalidEnvKeyError("A-B"));
    expect(e.code).toBe("invalid");
    expect(e.message).toContain('"A-B"');
  });

  it("a code from outside the set crossing Redis comes back as internal", () => {
    const forged = new Error(JSON.stringify({ raptor: true, code: "invalid_env_key", message: "x" }));
    expect((decodeJobError(forged) as unknown as { code: string }).code).toBe("internal");
  });
});

describe("job failures no retry can fix are UnrecoverableError", () => {
  it.each([
    ["a failed build", new BuildError("build_failed", "compile failed"), true],
    ["a refused input", new EngineError("invalid", "bad"), true],
    ["a host that did not answer", new HostUnreachableError("h1", "timeout"), false],
    ["a git fetch that timed out (retryable by its own word)", new BuildError("internal", "fetch timed out", { retryable: true }), false],
    ["a dropped connection", new Error("read ECONNRESET"), false],
  ])("%s", (_what, err, unrecoverable) => {
    const encoded = encodeJobError(err);
    expect(encoded instanceof UnrecoverableError).toBe(unrecoverable);
    const back = decodeJobError(encoded) as Error & { code: string };
    expect(back.message).toBe(err.message);
    expect(back.code).toBe(toEngineError(err).code);
  });
});
