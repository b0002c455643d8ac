/** Bad command-line input found after commander's own parsing; maestroctl exits 2 on it. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}
