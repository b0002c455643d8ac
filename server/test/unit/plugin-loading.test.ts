import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { Autoscaler } from "../../src/core/autoscaling/autoscaler.js";
import { validateScheduler } from "../../src/core/entities/scheduler-validation.js";
import type { Logger } from "../../src/core/ports/logger.js";
import { silentLogger } from "../../src/core/ports/logger.js";
import { loadConfiguredPlugins, loadPlugins, pluginNames } from "../../src/plugins/load-plugins.js";
import { PluginRegistry } from "../../src/plugins/plugin-registry.js";
import { gameRoom } from "../support/core-harness.js";
import { validScheduler } from "../support/fixtures.js";

const examplePlugin = fileURLToPath(new URL("../../../examples/forwarder-plugin/src/index.ts", import.meta.url));

function registry() {
  const autoscaler = new Autoscaler();
  return { autoscaler, plugins: new PluginRegistry(autoscaler) };
}

describe("plugin loading", () => {
  it("splits the plugins setting", () => {
    expect(pluginNames(" a, @scope/b ,,")).toEqual(["a", "@scope/b"]);
  });

  it("registers a package's forwarders and hands its policies to the autoscaler", async () => {
    const { autoscaler, plugins } = registry();
    await loadPlugins([examplePlugin], plugins);
    expect(plugins.forwarderTypes()).toEqual(["jsonl"]);
    expect(autoscaler.types()).toEqual(["roomOccupancy", "fixedBuffer", "spareRooms"]);

    const scheduler = validScheduler({
      autoscaling: { enabled: true, min: 1, max: 10, cooldown: 0, policy: { type: "spareRooms", parameters: {} } },
    });
    const rooms = [gameRoom({ id: "a", status: "occupied" }), gameRoom({ id: "b", status: "ready" })];
    expect(autoscaler.decide(scheduler, rooms, new Date()).desired).toBe(3);
  });

  it("validates schedulers against what is registered, with the plugin's own address rule", async () => {
    const { plugins } = registry();
    await loadPlugins([examplePlugin], plugins);
    const scheduler = validScheduler({
      autoscaling: { enabled: false, min: 1, max: 2, cooldown: 0, policy: { type: "spareRooms", parameters: {} } },
    });
    scheduler.forwarders = [{ name: "log", enable: true, type: "jsonl", address: "/var/log/events.jsonl" }];
    expect(validateScheduler(scheduler, plugins)).toEqual([]);

    scheduler.forwarders = [
      { name: "log", enable: true, type: "jsonl", address: "events.jsonl" },
      { name: "mm", enable: true, type: "gRPC", address: "mm:9090" },
    ];
    expect(validateScheduler(scheduler, plugins)).toEqual([
      { field: "forwarders[0].address", message: "must be an absolute file path for a jsonl forwarder" },
      { field: "forwarders[1].type", message: "must be one of jsonl (the loaded forwarder plugins)" },
    ]);
    // Without the plugin, its types are refused (and the address falls back to Maestro's host:port rule).
    expect(validateScheduler(scheduler).map((v) => v.field)).toEqual([
      "autoscaling.policy.type",
      "forwarders[0].type",
      "forwarders[0].address",
    ]);
  });

  it("refuses a type registered twice and a package that exports no plugin", async () => {
    const { plugins } = registry();
    await loadPlugins([examplePlugin], plugins);
    await expect(loadPlugins([examplePlugin], plugins)).rejects.toMatchObject({ code: "already_exists" });
    await expect(loadPlugins(["node:path"], registry().plugins)).rejects.toThrow(/exports neither maestroPlugin/);
    await expect(loadPlugins(["@maestro/no-such-plugin"], registry().plugins)).rejects.toMatchObject({
      code: "invalid_argument",
    });
  });

  it("a configured plugin that fails stops startup; a missing default plugin is only a warning", async () => {
    await expect(loadConfiguredPlugins("@maestro/no-such-plugin", registry().plugins, silentLogger)).rejects.toThrow(
      /could not be loaded/,
    );
    const warnings: string[] = [];
    const logger: Logger = { ...silentLogger, warn: (_o, msg) => void warnings.push(msg ?? ""), child: () => logger };
    const { plugins } = registry();
    // A directory without node_modules: the default gRPC plugin cannot be resolved from there or by the server.
    await loadConfiguredPlugins(examplePlugin, plugins, logger, "/");
    expect(plugins.forwarderTypes()).toContain("jsonl");
    if (!plugins.isForwarderType("gRPC")) expect(warnings.join()).toMatch(/forwarder type gRPC is unavailable/);
  });
});
