/** Every async port method takes these, so a shutdown or a client disconnect can stop work in flight. */
export interface CallOptions {
  signal?: AbortSignal | undefined;
}
