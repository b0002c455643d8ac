import { createHmac, timingSafeEqual } from "node:crypto";

export const SIGNATURE_HEADER = "x-maestro-signature";
export const IDEMPOTENCY_HEADER = "idempotency-key";
export const EVENT_HEADER = "x-maestro-event";

/** `sha256=<hex>` of the raw body, keyed with the shared secret. */
export function sign(body: string, secret: string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

/** For receivers: whether `header` is the signature of `body` under `secret` (constant-time). */
export function verifySignature(body: string, header: string | undefined, secret: string): boolean {
  if (!header) return false;
  const expected = Buffer.from(sign(body, secret));
  const given = Buffer.from(header);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
