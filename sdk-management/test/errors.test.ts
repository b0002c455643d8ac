import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { clientErrorCodes, isMaestroClientError, MaestroClientError } from "../src/index.js";

describe("MaestroClientError", () => {
  it("maps Connect codes onto the closed code set", () => {
    const cases: [Code, string][] = [
      [Code.NotFound, "not_found"],
      [Code.InvalidArgument, "invalid_argument"],
      [Code.AlreadyExists, "already_exists"],
      [Code.Aborted, "conflict"],
      [Code.Unauthenticated, "unauthenticated"],
      [Code.PermissionDenied, "permission_denied"],
      [Code.Unavailable, "unavailable"],
      [Code.DeadlineExceeded, "canceled"],
      [Code.Unknown, "internal"],
      [Code.Unimplemented, "unimplemented"],
    ];
    for (const [code, expected] of cases) {
      const e = MaestroClientError.from(new ConnectError("boom", code));
      expect(e.code).toBe(expected);
      expect(clientErrorCodes).toContain(e.code);
      expect(e.rawMessage).toBe("boom");
      expect(e.message).toBe(`[${expected}] boom`);
      expect(e.cause).toBeInstanceOf(ConnectError);
    }
  });

  it("maps aborts to canceled and keeps its own instances", () => {
    const ac = new AbortController();
    ac.abort();
    expect(MaestroClientError.from(ac.signal.reason).code).toBe("canceled");
    const own = new MaestroClientError("conflict", "x");
    expect(MaestroClientError.from(own)).toBe(own);
    expect(isMaestroClientError(own, "conflict")).toBe(true);
    expect(isMaestroClientError(own, "internal")).toBe(false);
    expect(isMaestroClientError(new Error("x"))).toBe(false);
  });

  it("instanceof works across two copies of the class (ESM and CJS builds)", async () => {
    // The CJS build is a separate module instance with its own class object.
    // A path in a variable: the built file exists only after the build, which typechecking does not wait for.
    const cjsBuild = "../dist/index.cjs";
    const cjs = (await import(cjsBuild)) as { MaestroClientError: typeof MaestroClientError };
    expect(cjs.MaestroClientError).not.toBe(MaestroClientError);
    const fromCjs = new cjs.MaestroClientError("not_found", "gone");
    expect(fromCjs).toBeInstanceOf(MaestroClientError);
    expect(new MaestroClientError("not_found", "gone")).toBeInstanceOf(cjs.MaestroClientError);
    expect(new Error("plain")).not.toBeInstanceOf(MaestroClientError);
  });
});
