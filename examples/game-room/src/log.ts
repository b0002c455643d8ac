/** One line per lifecycle step on stdout, so the room's log file (or `kubectl logs`) tells the story. */
export function log(message: string): void {
  process.stdout.write(`${new Date().toISOString()} game-room ${message}\n`);
}
