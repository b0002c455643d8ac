import type { MaestroPlugin } from "@maestro/server/plugin";
import { webhookForwarderPlugin } from "./webhook-forwarder.js";

export { EVENT_HEADER, IDEMPOTENCY_HEADER, SIGNATURE_HEADER, sign, verifySignature } from "./signature.js";
export {
  WEBHOOK_FORWARDER_TYPE,
  type WebhookBody,
  type WebhookForwarderOptions,
  webhookForwarderPlugin,
} from "./webhook-forwarder.js";

/** Loaded from the `plugins` setting; the signing secret comes from MAESTRO_WEBHOOK_SECRET. */
export const maestroPlugin: MaestroPlugin = {
  name: "@maestro/forwarder-webhook",
  forwarders: [webhookForwarderPlugin({ secret: process.env.MAESTRO_WEBHOOK_SECRET || undefined })],
};

export default maestroPlugin;
