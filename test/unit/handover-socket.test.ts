import { createServer, type Server, type Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { HandoverSocket } from "../../db/embedded/handover-socket.ts";
import { ADMIN_SHUTDOWN, HANDOVER_MESSAGE, MessageSplitter, errorResponse, queryMessage } from "../../db/embedded/protocol.ts";

const typed = (type: string, body: Buffer) => {
  const m = Buffer.alloc(5 + body.length);
  m.write(type, 0, "ascii");
  m.writeInt32BE(4 + body.length, 1);
  body.copy(m, 5);
  return m;
};
const startup = () => {
  const body = Buffer.from("user\0postgres\0\0");
  const m = Buffer.alloc(8 + body.length);
  m.writeInt32BE(8 + body.length, 0);
  m.writeInt32BE(196608, 4);
  body.copy(m, 8);
  return m;
};
const authOk = () => typed("R", Buffer.alloc(4));
const ready = () => typed("Z", Buffer.from("I"));
const complete = (tag: string) => typed("C", Buffer.from(`${tag}\0`));

/**
 * A scripted owner speaking the wire protocol: records the messages it gets (Q's text, or
 * "startup") and answers each with `answer(kind, socket)`.
 */
function owner(path: string, answer: (got: string, s: Socket) => void): Promise<{ server: Server; got: string[] }> {
  const got: string[] = [];
  const server = createServer((s) => {
    const split = new MessageSplitter();
    s.on("data", (d: Buffer) => {
      for (const { startup: st, message } of split.push(d)) {
        const what = st ? "startup" : message.subarray(5, message.length - 1).toString();
        got.push(what);
        answer(what, s);
      }
    });
    s.on("error", () => {});
  });
  return new Promise((r) => server.listen(path, () => r({ server, got })));
}
const closeServer = (s: Server) => new Promise<void>((r) => s.close(() => r()));

/** Writes `messages` through a HandoverSocket; resolves with the types of what came back once `until` matches or it closed. */
function client(path: string, messages: Buffer[], until: (types: string) => boolean) {
  const sock = new HandoverSocket({ path, waitMs: 5000 });
  let types = "";
  const split = new MessageSplitter({ startup: false });
  const done = new Promise<{ types: string; error?: string }>((resolve) => {
    sock.on("data", (d: Buffer) => {
      for (const { message } of split.push(d)) types += String.fromCharCode(message[0]!);
      if (until(types)) resolve({ types });
    });
    sock.on("error", (e) => resolve({ types, error: e.message }));
    sock.on("close", () => resolve({ types, error: "closed" }));
  });
  for (const m of messages) sock.write(m);
  return { sock, done };
}

describe("HandoverSocket: what an owner did not answer", () => {
  it("after the owner's goodbye, the unanswered query goes to the next owner once, and the new startup's answers are not repeated", async () => {
    const path = `\0raptor-test-handover-${process.pid}-a`;
    const first = await owner(path, (got, s) => {
      if (got === "startup") s.write(Buffer.concat([authOk(), ready()]));
      // Hands over instead of running the insert: the goodbye promises it did not run.
      else {
        s.end(errorResponse("FATAL", ADMIN_SHUTDOWN, HANDOVER_MESSAGE));
        void closeServer(first.server).then(async () => {
          second = await owner(path, (g, s2) => s2.write(g === "startup" ? Buffer.concat([authOk(), ready()]) : Buffer.concat([complete("INSERT 0 1"), ready()])));
        });
      }
    });
    let second: Awaited<ReturnType<typeof owner>> | undefined;
    const { sock, done } = client(path, [startup(), queryMessage("insert into t values (1)")], (t) => t === "RZCZ");
    const r = await done;
    expect(r).toEqual({ types: "RZCZ" });
    expect(first.got).toEqual(["startup", "insert into t values (1)"]);
    expect(second!.got).toEqual(["startup", "insert into t values (1)"]);
    sock.destroy();
    await closeServer(second!.server);
  });

  it("when the owner dies without a goodbye, the unanswered write is not sent again: the client sees the connection close", async () => {
    const path = `\0raptor-test-handover-${process.pid}-b`;
    const first = await owner(path, (got, s) => {
      if (got === "startup") s.write(Buffer.concat([authOk(), ready()]));
      else s.destroy(); // killed mid-query: the insert may have committed
    });
    const { done } = client(path, [startup(), queryMessage("insert into t values (1)")], () => false);
    const r = await done;
    expect(r.types).toBe("RZ");
    expect(r.error).toBeDefined();
    await closeServer(first.server);
    // Nobody is sent the insert again.
    const later = await owner(path, () => {});
    await new Promise((res) => setTimeout(res, 300));
    expect(later.got).toEqual([]);
    expect(first.got).toEqual(["startup", "insert into t values (1)"]);
    await closeServer(later.server);
  });

  it("waits for an owner to listen before the first message (two processes starting at once)", async () => {
    const path = `\0raptor-test-handover-${process.pid}-c`;
    const { sock, done } = client(path, [startup()], (t) => t === "RZ");
    await new Promise((r) => setTimeout(r, 300));
    const late = await owner(path, (_g, s) => s.write(Buffer.concat([authOk(), ready()])));
    expect(await done).toEqual({ types: "RZ" });
    sock.destroy();
    await closeServer(late.server);
  });
});
