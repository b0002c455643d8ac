import type { AnyPolicy, AutoscalingPolicyImpl } from "../core/autoscaling/policy.js";
import type { Scheduler } from "../core/entities/scheduler.js";
import type { SchedulerLimits } from "../core/entities/scheduler-limits.js";
import type { SchedulerTypes } from "../core/entities/scheduler-validation.js";
import { type FieldViolation, MaestroError } from "../core/errors.js";
import type { ForwarderCatalog, ForwarderPlugin } from "../core/ports/event-forwarder.js";

/** What a plugin package exports (`maestroPlugin` or its default export). */
export interface MaestroPlugin {
  /** Shown in logs and errors. */
  name?: string | undefined;
  forwarders?: readonly ForwarderPlugin[] | undefined;
  policies?: readonly AutoscalingPolicyImpl[] | undefined;
}

/** Somewhere autoscaling policies go; the Autoscaler is one. */
export interface PolicySink {
  register(policy: AnyPolicy): void;
  has(type: string): boolean;
  types(): string[];
}

/**
 * Forwarder types and autoscaling policies this process knows. Policies are handed to the autoscaler, so the type
 * a scheduler may name and the policy the health controller runs come from one place.
 */
export class PluginRegistry implements ForwarderCatalog, SchedulerTypes {
  private readonly forwarders = new Map<string, ForwarderPlugin>();
  private readonly parameterRules = new Map<string, NonNullable<AutoscalingPolicyImpl["validate"]>>();
  /** The configured size bounds of a scheduler, checked with the types (see SchedulerTypes.limits). */
  limits?: SchedulerLimits | undefined;
  /** What the configured runtime refuses to run (see SchedulerTypes.runtimeRule). */
  runtimeRule?: ((scheduler: Scheduler) => FieldViolation[]) | undefined;

  constructor(private readonly policies: PolicySink) {}

  registerForwarder(plugin: ForwarderPlugin, from = "built-in"): void {
    if (typeof plugin?.type !== "string" || plugin.type === "" || typeof plugin.create !== "function") {
      throw new MaestroError("invalid_argument", `${from}: a forwarder plugin needs a non-empty type and create()`);
    }
    if (this.forwarders.has(plugin.type)) {
      throw new MaestroError(
        "already_exists",
        `${from}: forwarder type ${JSON.stringify(plugin.type)} is already registered`,
      );
    }
    this.forwarders.set(plugin.type, plugin);
  }

  registerPolicy(policy: AnyPolicy, from = "built-in"): void {
    const p = policy as Partial<AutoscalingPolicyImpl & { decide: unknown }>;
    const stateless = typeof p?.desiredRooms === "function" && typeof p.canDownscale === "function";
    if (typeof p?.type !== "string" || p.type === "" || !(stateless || typeof p.decide === "function")) {
      throw new MaestroError(
        "invalid_argument",
        `${from}: a policy needs a type, and desiredRooms() and canDownscale() or decide()`,
      );
    }
    if (this.policies.has(policy.type)) {
      throw new MaestroError(
        "already_exists",
        `${from}: autoscaling policy ${JSON.stringify(policy.type)} is already registered`,
      );
    }
    this.policies.register(policy);
    const validate = (policy as Partial<AutoscalingPolicyImpl>).validate;
    if (typeof validate === "function") this.parameterRules.set(policy.type, (custom) => validate.call(policy, custom));
  }

  register(plugin: MaestroPlugin, from = plugin.name ?? "plugin"): void {
    for (const f of plugin.forwarders ?? []) this.registerForwarder(f, from);
    for (const p of plugin.policies ?? []) this.registerPolicy(p, from);
  }

  get(type: string): ForwarderPlugin | undefined {
    return this.forwarders.get(type);
  }

  forwarderTypes(): string[] {
    return [...this.forwarders.keys()];
  }

  isForwarderType(type: string): boolean {
    return this.forwarders.has(type);
  }

  forwarderAddressRule(type: string): ((address: string) => string | undefined) | undefined {
    const plugin = this.forwarders.get(type);
    return plugin?.checkAddress ? (address) => plugin.checkAddress?.(address) : undefined;
  }

  isPolicyType(type: string): boolean {
    return this.policies.has(type);
  }

  policyTypes(): string[] {
    return this.policies.types();
  }

  policyParametersRule(type: string): ((custom: Record<string, unknown>) => FieldViolation[]) | undefined {
    return this.parameterRules.get(type);
  }
}
