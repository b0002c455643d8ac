/** Longest line a room's status description carries; the rest is in the room's log. */
const MAX_DESCRIPTION_LINE = 300;

/**
 * The line that best says why a room's process died, from the end of its output: the last one naming an error if any
 * (Node ends a crash with its version line, Python with the exception after the traceback), else the last line.
 */
export function crashLine(text: string): string {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== "");
  const errorLine = lines.findLast((l) => /\b(\w*Error|error|fatal|panic|exception)\b/i.test(l));
  const line = (errorLine ?? lines[lines.length - 1] ?? "").trim();
  return line.length > MAX_DESCRIPTION_LINE ? `${line.slice(0, MAX_DESCRIPTION_LINE)}…` : line;
}
