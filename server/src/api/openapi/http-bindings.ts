import { type DescMethod, type DescService, getOption } from "@bufbuild/protobuf";
import { http } from "@maestro/proto";
import type { HttpVerb } from "./openapi-document.js";

/** One google.api.http rule of a method, as the REST transcoder (rest/transcoder.ts) serves it. */
export interface HttpBinding {
  service: DescService;
  method: DescMethod;
  verb: HttpVerb;
  /** The URL template as written in the proto, e.g. "/schedulers/{scheduler_name}". */
  template: string;
  /** "*" (whole request), a field name, or "" (no body: the rest of the request comes from the query). */
  body: string;
}

/** Same selection as the transcoder: unary methods with a get/put/post/delete/patch rule; custom verbs are skipped. */
export function httpBindings(services: readonly DescService[]): HttpBinding[] {
  const out: HttpBinding[] = [];
  for (const service of services) {
    for (const method of service.methods) {
      if (method.methodKind !== "unary") continue;
      const rule = getOption(method, http);
      const verb = rule.pattern.case;
      if (!verb || verb === "custom" || typeof rule.pattern.value !== "string") continue;
      out.push({ service, method, verb, template: rule.pattern.value, body: rule.body });
    }
  }
  return out;
}

/** The variables of a URL template in order: "{name}" and "{name=*}" both give "name". */
export function templateVariables(template: string): string[] {
  return [...template.matchAll(/\{([\w.]+)(?:=[^}]*)?\}/g)].map((m) => m[1] ?? "");
}

/** The OpenAPI path of a template, with variables renamed positionally (same count as the template has). */
export function openApiPath(template: string, names: readonly string[]): string {
  let i = 0;
  return template.replace(/\{([\w.]+)(?:=[^}]*)?\}/g, (_m, own: string) => `{${names[i++] ?? own}}`);
}

/** A key equal for paths that OpenAPI treats as the same ("/a/{x}" and "/a/{y}"). */
export function pathShape(path: string): string {
  return path.replace(/\{[^}]*\}/g, "{}");
}
