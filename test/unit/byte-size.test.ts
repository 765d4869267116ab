import { describe, expect, it } from "vitest";
import { bytesText, parseByteSize } from "../../lib/byte-size.ts";

// Red team M6: RAPTOR_MAX_BUILD_SIZE as an operator writes it, and sizes as a failed build says them.
describe("byte sizes", () => {
  it.each<[string, number]>([
    ["1073741824", 1024 ** 3],
    ["512M", 512 * 1024 ** 2],
    ["512MB", 512 * 1024 ** 2],
    ["512MiB", 512 * 1024 ** 2],
    ["2g", 2 * 1024 ** 3],
    ["1.5G", 1.5 * 1024 ** 3],
    ["64k", 64 * 1024],
    [" 3 GB ", 3 * 1024 ** 3],
  ])("parseByteSize(%j) = %d", (text, bytes) => expect(parseByteSize(text)).toBe(bytes));

  it.each(["", "0", "lots", "-1G", "1X", "G", "1e9"])("parseByteSize(%j) throws, naming what is accepted", (text) => {
    expect(() => parseByteSize(text)).toThrow(/is not a size: write bytes, or a number with K, M, G or T/);
  });

  it.each<[number, string]>([
    [900, "900 B"],
    [1024, "1.0 KiB"],
    [12 * 1024 * 1024, "12.0 MiB"],
    [1.4 * 1024 ** 3, "1.4 GiB"],
  ])("bytesText(%d) = %j", (n, text) => expect(bytesText(n)).toBe(text));
});
