import { describe, expect, it } from "vitest";
import { MessageSplitter, ReadyScanner } from "../../db/embedded/wire-server.ts";

const msg = (type: string, body: Buffer) => {
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

describe("ReadyScanner: the backend's transaction status from its output, chunked anyhow", () => {
  const stream = Buffer.concat([msg("C", Buffer.from("BEGIN\0")), msg("Z", Buffer.from("T")), msg("D", Buffer.alloc(300, 0x5a)), msg("Z", Buffer.from("I"))]);
  for (const size of [1, 2, 3, 5, 7, 64, stream.length]) {
    it(`chunks of ${size} bytes`, () => {
      const s = new ReadyScanner();
      const statuses: (string | undefined)[] = [];
      for (let i = 0; i < stream.length; i += size) {
        s.feed(stream.subarray(i, i + size));
        if (s.seen) statuses.push(s.status);
        s.reset();
      }
      // A data row full of "Z" bytes is not a ReadyForQuery; in one chunk only the last status shows.
      expect(statuses).toEqual(size === stream.length ? ["I"] : ["T", "I"]);
    });
  }
});

describe("MessageSplitter", () => {
  it("splits the startup message, then typed messages, across chunk boundaries", () => {
    const all = Buffer.concat([startup(), msg("P", Buffer.from("\0select 1\0\0\0")), msg("S", Buffer.alloc(0))]);
    const sp = new MessageSplitter();
    const got: { startup: boolean; type: string }[] = [];
    for (let i = 0; i < all.length; i += 3) for (const m of sp.push(all.subarray(i, i + 3))) got.push({ startup: m.startup, type: m.startup ? "" : String.fromCharCode(m.message[0]!) });
    expect(got).toEqual([{ startup: true, type: "" }, { startup: false, type: "P" }, { startup: false, type: "S" }]);
  });
});
