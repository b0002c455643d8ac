/** Process signal listeners that can be removed as a set; the first signal removes them all. */
export class SignalHandlers {
  readonly #listeners = new Map<NodeJS.Signals, () => void>();

  constructor(signals: readonly NodeJS.Signals[], onSignal: (signal: NodeJS.Signals) => void) {
    for (const signal of new Set(signals)) {
      const listener = (): void => {
        // Removing our listeners first means a second Ctrl-C / SIGTERM gets Node's default: immediate exit.
        this.remove();
        onSignal(signal);
      };
      this.#listeners.set(signal, listener);
      process.on(signal, listener);
    }
  }

  remove(): void {
    for (const [signal, listener] of this.#listeners) process.off(signal, listener);
    this.#listeners.clear();
  }
}
