import type { Operation } from "../entities/operation.js";

export interface OperationContext {
  operation: Operation;
  schedulerName: string;
  /** Fires when the operation is canceled or the worker stops. */
  signal: AbortSignal;
  /** Adds a line to the operation's execution history. */
  history(event: string): Promise<void>;
  /**
   * Says the run changed nothing. Such a finished operation is not kept: periodic health checks would otherwise fill
   * the history (Maestro kept them in a hidden "no action" list until a clean-up).
   */
  markNoAction(): void;
}

/**
 * One kind of operation: how to read its input, what it does, and how to undo a failed run. Definitions are created
 * by factories that receive the services they need, so core stays free of adapters.
 */
export interface OperationDefinition<I = unknown> {
  readonly name: string;
  /** Validates stored/received input; throws MaestroError invalid_argument. */
  parseInput(input: unknown): I;
  /**
   * Asked when the operation's turn comes: false means running it would be pointless now (e.g. a newer operation of
   * the same kind is already queued), and the operation ends `evicted` without running.
   */
  shouldExecute?(input: I, context: { pending: readonly Operation[] }): boolean;
  execute(ctx: OperationContext, input: I): Promise<void>;
  /**
   * Safe to run again from the start if its worker died mid-way (it converges instead of doing things twice). Such an
   * operation is re-queued on recovery; any other is rolled back and ends `error`.
   */
  readonly retryable?: boolean;
  rollback?(ctx: OperationContext, input: I, error: unknown): Promise<void>;
}

export type AnyOperationDefinition = OperationDefinition<any>;

export class OperationRegistry {
  private readonly byName = new Map<string, AnyOperationDefinition>();

  constructor(definitions: AnyOperationDefinition[] = []) {
    for (const d of definitions) this.register(d);
  }

  register(definition: AnyOperationDefinition): void {
    if (this.byName.has(definition.name)) throw new Error(`operation ${definition.name} registered twice`);
    this.byName.set(definition.name, definition);
  }

  get(name: string): AnyOperationDefinition | undefined {
    return this.byName.get(name);
  }

  names(): string[] {
    return [...this.byName.keys()];
  }
}
