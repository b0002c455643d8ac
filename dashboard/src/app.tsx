import { useEffect, useErrorBoundary, useState } from "preact/hooks";
import { describeError, needsToken, openSession, type Session, storedToken, storeToken } from "./api.js";
import { Overview } from "./overview.js";
import { SchedulerPage } from "./scheduler-page.js";

type Route = { page: "overview"; game: string } | { page: "scheduler"; name: string };

function parseRoute(hash: string): Route {
  const scheduler = /^#\/schedulers\/([^/?]+)/.exec(hash);
  if (scheduler) return { page: "scheduler", name: decodeURIComponent(scheduler[1]!) };
  const game = /[?&]game=([^&]*)/.exec(hash);
  return { page: "overview", game: game ? decodeURIComponent(game[1]!) : "" };
}

function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(location.hash));
    addEventListener("hashchange", onChange);
    return () => removeEventListener("hashchange", onChange);
  }, []);
  return route;
}

export function App() {
  // A rendering bug shows as a message, never as a blank page.
  const [crash, resetCrash] = useErrorBoundary();
  const route = useRoute();
  const [session, setSession] = useState<Session | undefined>(undefined);
  const [problem, setProblem] = useState<{ message: string; askToken: boolean } | undefined>(undefined);
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    let current = true;
    openSession(storedToken()).then(
      (s) => current && (setSession(s), setProblem(undefined)),
      (err) =>
        current && (setSession(undefined), setProblem({ message: describeError(err), askToken: needsToken(err) })),
    );
    return () => {
      current = false;
    };
  }, [attempt]);

  const applyToken = (token: string) => {
    storeToken(token.trim());
    setAttempt((n) => n + 1);
  };

  return (
    <>
      <header>
        <a href="#/" class="brand">
          Maestro
        </a>
        {session && (
          <span class="who" data-testid="role">
            {session.tokensRequired
              ? `${session.role === "write" ? "write" : "read-only"} token`
              : "open API (no tokens)"}
            {session.tokensRequired && (
              <button type="button" class="link" onClick={() => (storeToken(""), setAttempt((n) => n + 1))}>
                change token
              </button>
            )}
          </span>
        )}
      </header>
      <main>
        {crash ? (
          <div class="error" role="alert">
            The dashboard failed to show this page: {describeError(crash)}{" "}
            <button type="button" onClick={resetCrash}>
              Try again
            </button>
          </div>
        ) : problem ? (
          <TokenForm
            message={problem.message}
            askToken={problem.askToken}
            onSubmit={applyToken}
            onRetry={() => setAttempt((n) => n + 1)}
          />
        ) : !session ? (
          <p class="muted">Connecting…</p>
        ) : route.page === "scheduler" ? (
          <SchedulerPage session={session} name={route.name} />
        ) : (
          <Overview
            session={session}
            game={route.game}
            onGame={(g) => (location.hash = g ? `#/?game=${encodeURIComponent(g)}` : "#/")}
          />
        )}
      </main>
    </>
  );
}

function TokenForm(props: { message: string; askToken: boolean; onSubmit(token: string): void; onRetry(): void }) {
  const [token, setToken] = useState("");
  return (
    <div class="token-form">
      <p class="error" role="alert" data-testid="error">
        {props.message}
      </p>
      {props.askToken ? (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            props.onSubmit(token);
          }}
        >
          <label>
            Management API token{" "}
            <input
              type="password"
              name="token"
              data-testid="token-input"
              value={token}
              onInput={(e) => setToken((e.currentTarget as HTMLInputElement).value)}
              autocomplete="off"
            />
          </label>{" "}
          <button type="submit">Use token</button>
          <p class="muted small">
            A read token shows everything; a write token also allows actions. The token is kept in this browser.
          </p>
        </form>
      ) : (
        <button type="button" onClick={props.onRetry}>
          Retry
        </button>
      )}
    </div>
  );
}
