/**
 * A minimal POSIX ustar writer (IEEE Std 1003.1 `pax` format's ustar header), enough to carry a
 * handful of small generated files to a host in one stream for GNU tar to unpack. Pure: no I/O.
 * Only regular files; their parent directories are created by the extracting tar.
 */

/** One regular file of the archive: a relative path (<= 100 bytes), its mode and its bytes. */
export interface TarEntry {
  path: string;
  mode: number;
  body: string | Buffer;
}

const BLOCK = 512;

/**
 * The archive's bytes: a 512-byte header per entry, the body padded to 512, two zero blocks.
 * Owner ids are 0 (the extracting side passes --no-same-owner anyway); mtime is `mtimeSec`.
 * Throws on a path that is absolute, has `..`, or is longer than the 100-byte name field.
 */
export function packTar(entries: readonly TarEntry[], mtimeSec = Math.floor(Date.now() / 1000)): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const body = typeof e.body === "string" ? Buffer.from(e.body, "utf8") : e.body;
    parts.push(header(e.path, e.mode, body.length, mtimeSec), body);
    const pad = (BLOCK - (body.length % BLOCK)) % BLOCK;
    if (pad) parts.push(Buffer.alloc(pad));
  }
  parts.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(parts);
}

function header(path: string, mode: number, size: number, mtimeSec: number): Buffer {
  const name = Buffer.from(path, "utf8");
  if (path.startsWith("/") || path.split("/").includes("..") || name.length === 0 || name.length > 100) {
    throw new Error(`tar entry path ${JSON.stringify(path)} must be relative, without "..", at most 100 bytes`);
  }
  const h = Buffer.alloc(BLOCK);
  name.copy(h, 0);
  octal(h, 100, 8, mode & 0o7777);
  octal(h, 108, 8, 0); // uid
  octal(h, 116, 8, 0); // gid
  octal(h, 124, 12, size);
  octal(h, 136, 12, mtimeSec);
  h.fill(0x20, 148, 156); // the checksum is computed with its own field as spaces
  h.write("0", 156, "latin1"); // regular file
  h.write("ustar\u000000", 257, "latin1");
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, "0")}\u0000 `, 148, "latin1");
  return h;
}

/** A NUL-terminated, zero-padded octal field of `len` bytes. */
function octal(h: Buffer, at: number, len: number, value: number): void {
  const text = value.toString(8).padStart(len - 1, "0");
  if (text.length > len - 1) throw new Error(`tar header value ${value} does not fit ${len} bytes`);
  h.write(`${text}\u0000`, at, "latin1");
}
