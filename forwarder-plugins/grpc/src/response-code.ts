/**
 * A matchmaker answers with an HTTP-like `Response.code`. Maestro only turns it into a gRPC code name for logs and
 * metrics: any answer counts as delivered, only transport errors fail the call.
 */
export function responseCodeName(code: number): "OK" | "NotFound" | "FailedPrecondition" | "Internal" | "Unknown" {
  switch (code) {
    case 200:
      return "OK";
    case 404:
      return "NotFound";
    // Maestro's matchmakers answer 406 when the room does not exist for them.
    case 406:
      return "FailedPrecondition";
    case 500:
      return "Internal";
    default:
      return "Unknown";
  }
}
