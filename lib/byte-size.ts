/**
 * Sizes an operator writes (`RAPTOR_MAX_BUILD_SIZE=2G`) and sizes Raptor says ("1.4 GiB"), pure.
 * Units are powers of 1024 whether written `G`, `GB` or `GiB`, as `du -h` and most operators
 * read them; a bare number is bytes.
 */

const UNITS: Record<string, number> = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** The default build size limit: 1 GiB unpacked (engine/builds/size-limit.ts says why). */
export const DEFAULT_MAX_BUILD_BYTES = 1024 ** 3;

/**
 * Bytes of a size such as `1073741824`, `512M`, `512MB`, `512MiB`, `1.5G` (case-insensitive,
 * 1024-based). Throws an Error naming the text and what is accepted when it is not a size > 0.
 */
export function parseByteSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$/i.exec(text);
  const bytes = m ? Math.floor(Number(m[1]) * UNITS[m[2]!.toLowerCase()]!) : NaN;
  if (!Number.isFinite(bytes) || bytes <= 0) throw new Error(`"${text.slice(0, 40)}" is not a size: write bytes, or a number with K, M, G or T (1024-based), e.g. 512M or 2G`);
  return bytes;
}

/** "900 B", "12.0 KiB", "1.4 GiB": a byte count for people, one decimal from KiB up. */
export function bytesText(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}
