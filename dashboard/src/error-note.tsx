import { describeError } from "./api.js";

/** An API failure in words; nothing when there is none. */
export function ErrorNote({ error }: { error: unknown }) {
  if (error === undefined) return null;
  return (
    <p class="error" role="alert" data-testid="error">
      {describeError(error)}
    </p>
  );
}
