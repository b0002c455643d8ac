import type { DescService } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";

/** A proto service and the implementation serving it on every protocol (REST, Connect, gRPC-Web, gRPC). */
export interface ServiceBinding {
  service: DescService;
  impl: Partial<ServiceImpl<any>>;
}

export function bind<S extends DescService>(service: S, impl: Partial<ServiceImpl<S>>): ServiceBinding {
  return { service, impl: impl as ServiceBinding["impl"] };
}
