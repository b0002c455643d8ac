import { randomUUID } from "node:crypto";
import { expect } from "vitest";
import { type ErrorCode, isMaestroError } from "../../src/core/errors.js";

/** A scheduler name no other test uses, so suites can share one storage. */
export function uniqueScheduler(): string {
  return `sch-${randomUUID()}`;
}

/** Awaits a promise that must reject with a MaestroError of the given code. */
export async function expectCode(promise: Promise<unknown>, code: ErrorCode): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, `expected a MaestroError ${code}`).toSatisfy((e: unknown) => isMaestroError(e, code));
}

/** Sorted by id in code-unit order (what every adapter can reproduce, unlike locale order). */
export function sortById<T extends { id: string }>(items: T[]): T[] {
  return [...items].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
