/**
 * Text from apps and people (build output, commit subjects and authors, lock reasons, log lines)
 * must not drive the reader's terminal or fake lines in chat. `showControls` makes every control
 * character visible as an escape, so `\x1b[2K\x1b[1A` (erase the line, go up one: a forged
 * "✓ Deploy … is now v9") prints as that text and does nothing. Pure; idempotent (its output has
 * no control characters left, so a second pass changes nothing).
 *
 * Shown, each as `\xNN` (`\uNNNN` above U+00FF):
 * - C0 controls U+0000–U+001F but line feed and tab: ESC (so every ESC/CSI/OSC sequence loses its
 *   introducer and the rest is plain printable text), carriage return (returns to the line's start
 *   to overwrite it), BEL, backspace, …;
 * - DEL U+007F and the C1 controls U+0080–U+009F (U+009B is an 8-bit CSI on some terminals);
 * - U+2028/U+2029 (line and paragraph separators: a browser, so Slack, breaks the line there);
 * - the bidirectional controls U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069, which
 *   reorder what is displayed (the "Trojan Source" trick, CVE-2021-42574).
 * A CR LF pair is a line end (Windows text, some build tools) and becomes a plain LF.
 * Written here rather than taken from strip-ansi or similar: those remove known sequences, and a
 * sequence they do not know (or a bare CR) passes; this shows every control character, whatever
 * follows it, and the reader sees what the app tried.
 */
export function showControls(text: string): string {
  return text.replace(/\r\n/g, "\n").replace(CONTROLS, escapeOne);
}

const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

function escapeOne(c: string): string {
  const n = c.charCodeAt(0);
  return n <= 0xff ? `\\x${n.toString(16).padStart(2, "0")}` : `\\u${n.toString(16).padStart(4, "0")}`;
}
