/**
 * The admin endpoints on the metrics listener, in front of /metrics, /healthz and /readyz:
 *   GET  /admin/inspect?ip=…&path=…&method=…&arg.NAME=…  → which limits match, keys, state
 *   POST /admin/reset?key=… (or the same request description)  → deletes keys, drops denials
 *   GET  /admin/top?n=20  → per limit, the most denied and the heaviest identities (all agents)
 * Off unless enabled: then every /admin path answers 404 like any unknown path. When on, a
 * request without `Authorization: Bearer <token>` gets 401; the token is compared in constant
 * time (both sides hashed first, so not even its length leaks) and never logged.
 * @module
 */
import type { AgentConfig } from "../config/schema.ts";
import { type Admin, AdminRequestError, type AdminStores, createAdmin, describeRequest, type RequestDescription, type ResetReport } from "./admin.ts";

/** What the admin endpoint needs from the config (read per request, so a reload applies). */
export interface AdminSettings {
  readonly enabled: boolean;
  readonly token?: string;
}

type Handler = (request: Request) => Response | Promise<Response>;

const encoder = new TextEncoder();

async function digest(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
}

/** True when `given` equals `expected`; time depends on neither's content nor length. */
export async function tokenMatches(given: string, expected: string): Promise<boolean> {
  const [a, b] = await Promise.all([digest(given), digest(expected)]);
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

function bearer(request: Request): string | undefined {
  const header = request.headers.get("authorization");
  const m = header === null ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m?.[1];
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(`${JSON.stringify(body, null, 2)}\n`, {
    status,
    headers: { "content-type": "application/json", "cache-control": "no-store", ...headers },
  });
}

function pathOf(url: URL | undefined): string {
  return url?.pathname ?? "";
}

function parseUrl(text: string): URL | undefined {
  try {
    return new URL(text, "http://localhost");
  } catch {
    return undefined;
  }
}

type Route = {
  readonly method: "GET" | "POST";
  readonly run: (admin: Admin, request: RequestDescription, onReset?: (report: ResetReport) => void) => Promise<unknown>;
};

const ROUTES: Record<string, Route> = {
  "/admin/inspect": { method: "GET", run: (admin, request) => admin.inspect(request) },
  "/admin/reset": { method: "POST", run: (admin, request, onReset) => admin.reset(request).then((report) => (onReset?.(report), report)) },
};

/**
 * Wraps the observability handler `next` with the admin routes.
 * @param o.describe turns the query's name/value pairs into a request description (throws AdminRequestError).
 */
export function createAdminHttp(o: {
  readonly admin: Admin;
  readonly settings: () => AdminSettings;
  readonly describe: (pairs: Iterable<readonly [string, string]>) => RequestDescription;
  readonly next: Handler;
  /** Store failures, for the log (the caller redacts nothing here: no secret is in them). */
  readonly onError?: (error: unknown) => void;
  /** Every completed reset, for the audit log. */
  readonly onReset?: (report: ResetReport) => void;
  /** The top lists, `n` entries per list (app/top-lists.ts); /admin/top answers 404 without. */
  readonly top?: (n: number) => Promise<unknown>;
}): Handler {
  return async (request) => {
    const url = parseUrl(request.url);
    const path = pathOf(url);
    if (path !== "/admin" && !path.startsWith("/admin/")) return o.next(request);
    const settings = o.settings();
    if (!settings.enabled || settings.token === undefined) return o.next(request);
    const given = bearer(request);
    if (given === undefined || !(await tokenMatches(given, settings.token))) {
      return json(401, { error: "a valid Authorization: Bearer token is required" }, { "www-authenticate": 'Bearer realm="spoa-gcra admin"' });
    }
    if (path === "/admin/top" && o.top !== undefined) {
      if (request.method !== "GET") return json(405, { error: "use GET for /admin/top" }, { allow: "GET" });
      const n = Number(url!.searchParams.get("n") ?? 20);
      if (!Number.isInteger(n) || n < 1 || n > 64) return json(400, { error: "n must be an integer from 1 to 64" });
      return json(200, await o.top(n));
    }
    const route = ROUTES[path];
    if (route === undefined) return json(404, { error: `unknown admin path ${path}`, paths: Object.keys(ROUTES) });
    if (request.method !== route.method) return json(405, { error: `use ${route.method} for ${path}` }, { allow: route.method });
    try {
      const description = o.describe(url!.searchParams.entries());
      return json(200, await route.run(o.admin, description, o.onReset));
    } catch (error) {
      if (error instanceof AdminRequestError) return json(400, { error: error.message });
      o.onError?.(error);
      return json(503, { error: `the store did not answer: ${error instanceof Error ? error.message : String(error)}` });
    }
  };
}

/** The agent's HTTP handler: admin routes over `stores`, then `next` (/metrics, /healthz, /readyz). */
export function withAdminRoutes(
  next: Handler,
  deps: {
    readonly config: () => AgentConfig;
    readonly stores: AdminStores;
    readonly onError?: (error: unknown) => void;
    readonly onReset?: (report: ResetReport) => void;
    readonly top?: (n: number) => Promise<unknown>;
  },
): Handler {
  return createAdminHttp({
    admin: createAdmin({ config: deps.config, stores: deps.stores }),
    settings: () => deps.config().admin,
    describe: (pairs) => describeRequest(pairs, deps.config()),
    next,
    onError: deps.onError,
    onReset: deps.onReset,
    ...(deps.top === undefined ? {} : { top: deps.top }),
  });
}
