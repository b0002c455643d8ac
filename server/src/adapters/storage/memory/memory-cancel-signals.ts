import type { CallOptions } from "../../../core/ports/call-options.js";
import type { CancelHandler, CancelRequest, CancelSignals } from "../../../core/ports/cancel-signals.js";
import { type Logger, silentLogger } from "../../../core/ports/logger.js";
import { canceled, throwIfAborted } from "./abort.js";

/**
 * CancelSignals within one process. Like Redis PUB/SUB it is fire-and-forget: only handlers subscribed at publish time
 * see a request, and each is called on a later microtask so a publisher never runs handler code inside its own call.
 */
export class MemoryCancelSignals implements CancelSignals {
  private readonly handlers = new Set<CancelHandler>();

  constructor(private readonly logger: Logger = silentLogger) {}

  async publish(schedulerName: string, operationId: string, opts?: CallOptions): Promise<number> {
    throwIfAborted(opts);
    const receivers = [...this.handlers];
    void this.deliver(receivers, { schedulerName, operationId });
    return receivers.length;
  }

  async request(schedulerName: string, operationId: string, opts: CallOptions & { waitMs: number }): Promise<boolean> {
    throwIfAborted(opts);
    const answers = await this.deliver([...this.handlers], { schedulerName, operationId });
    return answers.some((acknowledged) => acknowledged === true);
  }

  async subscribe(handler: CancelHandler, opts: Required<CallOptions>): Promise<void> {
    const { signal } = opts;
    if (signal.aborted) throw canceled(signal);
    // A wrapper per subscription, so the same function subscribed twice is two subscribers, as with Redis.
    const entry: CancelHandler = (request) => (signal.aborted ? false : handler(request));
    this.handlers.add(entry);
    signal.addEventListener("abort", () => this.handlers.delete(entry), { once: true });
  }

  private deliver(receivers: CancelHandler[], request: CancelRequest): Promise<unknown[]> {
    return Promise.all(
      receivers.map((handler) =>
        // Each handler gets its own copy so one cannot change what the next one sees.
        Promise.resolve()
          .then(() => handler({ ...request }))
          .catch((err: unknown) => {
            this.logger.error({ err, ...request }, "operation cancellation handler failed");
            return false;
          }),
      ),
    );
  }
}
