/**
 * The reference text of limits that see the response: the "LLM gateway" example (also shipped
 * as deploy/policy.llm-gateway.yaml, which a test keeps equal) and the section of
 * docs/configuration.md, shared by the docs generator and `help config`.
 * @module
 */

/** The worked LLM-gateway policy: 100,000 tokens/min and 10 in flight per API key, 1,000 tokens/min per IP for anonymous clients. */
export const LLM_GATEWAY_YAML = `haproxy:
  messages: [check-rate]
limits:
  - name: tokens-per-key
    match: { api_key: { regex: "^[0-9A-F]{64}$" } }
    key: ["arg:api_key"]
    rate: 100000/m
    cost: { response: tokens, max: 10000000 }
    concurrency: 10
    leaseTtl: 30s
    denyStatus: 429
  - name: tokens-anonymous
    match: { api_key_count: { exact: "0" } }
    rate: 1000/m
    cost: { response: tokens, max: 10000000 }
`;

/** The section of docs/configuration.md (markdown lines). */
export const RESPONSE_LIMITS_SECTION: readonly string[] = [
  "## Limits that see the response",
  "",
  "Two kinds of limit need the response: a **cost known only from the response** (tokens of an LLM",
  "answer, bytes of a download) and a **concurrency limit** (requests of one key in flight at once).",
  "HAProxy sends a second SPOE message when the response headers arrive (`event on-http-response`);",
  "the request's ACK hands it an opaque value for it, `txn.<p>.ticket`, which names the request's",
  "keys. So the response's key is the request's key, never re-derived from headers the client controls.",
  "",
  "**The LLM gateway**: 100,000 tokens a minute and 10 requests in flight per API key, 1,000 tokens a",
  "minute per client address for anonymous clients (deploy/policy.llm-gateway.yaml; the backend reports",
  "`x-tokens-used`):",
  "",
  "```yaml",
  ...LLM_GATEWAY_YAML.trimEnd().split("\n"),
  "```",
  "",
  "Its HAProxy side is in the shipped files: spoe-ratelimit.conf lists `check-response` in the agent's",
  "`messages` and defines it —",
  "",
  "```",
  "spoe-message check-response",
  "    args ticket=var(txn.rl.ticket) tokens=res.hdr(x-tokens-used)",
  "    event on-http-response if { var(txn.rl.ticket) -m found }",
  "```",
  "",
  "— so only requests that carry a ticket cost a second message; haproxy*.cfg answer 503 before the",
  "429 rule when the agent sets `txn.<p>.deny_status` to 503 (`denyStatus: 503`). `spoa-gcra",
  "check-config --haproxy haproxy.cfg` reports a missing response message, ticket argument or cost",
  "argument as an error and a missing 503 rule as a warning. What it cannot tell from the files: whether",
  "the backend really sends the header, and whether a later rule answers before the backend does.",
  "",
  "### Post-paid cost: debt",
  "",
  "`cost: { response: <arg>, estimate: 0, max: 1000000000 }`. With T and τ from `rate` and `burst` as",
  "above, capacity = τ + T, and the key's TAT not clamped from above (what lies beyond capacity is debt):",
  "",
  "- **Request**: need = max(estimate, 1); admitted iff TAT + need·T − capacity ≤ now, i.e. while at",
  "  least one unit (or the estimate) is left; then the estimate is charged (TAT += estimate·T).",
  "  Denied: `Retry-After` = ceil((TAT + need·T − capacity − now) / 1 s), the exact wait.",
  "- **Response** (never denies): TAT' = min(max(TAT + (actual − estimate)·T, now), now + 2·capacity).",
  "  A refund never lifts a key above a full bucket; the debt is bounded by one burst, so a key is",
  "  never refused longer than capacity + need·T (about one period when burst = count), and its state",
  "  lives at most 2·capacity.",
  "- **Headers during debt**: `RateLimit` says r=0 and t = TAT − now (until the bucket is full again,",
  "  debt included); a denial's `Retry-After` is the exact wait above. The response message's ACK sets",
  "  no variable: what the response phase learns changes nothing HAProxy does with this response.",
  "",
  "### Concurrency: leases",
  "",
  "`concurrency: N`, `leaseTtl: 30s`, `denyStatus: 429`. The request acquires a lease — a member of a",
  "set per key whose score is its expiry (a sorted set in Valkey, shared by every agent) — or is denied",
  "with `Retry-After: 1` (when a slot frees depends on other responses) and `txn.<p>.deny_status`. The",
  "response message releases it (idempotent: a second release changes nothing). A lease nobody releases",
  "stops counting at exactly acquisition + leaseTtl, whatever sweeps it. Concurrency and rate limits of",
  "one request are decided in one atomic call and stay all-or-nothing: a request denied by one limit",
  "holds no lease and spends no budget of another.",
  "",
  "HAProxy sends **no** response message (measured on 2.6, 3.0, 3.2, 3.4, tests/e2e/response-no-message.e2e.test.ts)",
  "when a later `http-request` rule answers an allowed request (deny, return, redirect), when HAProxy",
  "answers itself because the server is down (503) or timed out (504), on 3.4 when the client leaves",
  "before the answer, and whenever the message cannot reach an agent (HAProxy killed or reloaded",
  "mid-request, no agent UP, `timeout processing`). Each such request holds its slot until leaseTtl and",
  "not longer: set leaseTtl to the longest response you expect (HAProxy's `timeout server` by",
  "default). A lease is released when the response **headers** arrive: a streamed body after them is not",
  "counted as in flight (SPOE has no end-of-transaction event).",
  "",
  "### The ticket",
  "",
  "`txn.<p>.ticket` is base64url JSON of each response-phase check (key, T, τ, estimate, lease, cost",
  "argument, max) and a lease id, signed with HMAC-SHA-256 (128 bits kept) under `SPOA_TICKET_SECRET`",
  "(or `haproxy.ticketSecretFile`): any agent of the fleet — also one restarted between the phases —",
  "settles a ticket another issued, nobody without the secret can make one, and no server-side state",
  "or extra round trip is needed. Unset, each process draws a random key: a response that reaches",
  "another agent is refused and its lease waits for leaseTtl. A ticket that fails its MAC or does not",
  "parse, and a response cost that is missing, negative, not a whole number or above `max`, is refused",
  "with a throttled `response message refused` log line and `spoa_response_refused_total{reason}`; no",
  "key's TAT changes (a bad cost keeps the estimate) and a valid ticket's lease is still released.",
  "",
  "Over Valkey each phase is one `EVALSHA` of one script on the request's slot (standalone, cluster,",
  "sentinel); in a cluster, a request whose limits span hash tags (per-IP and per-API-key) takes one",
  "call per slot and is denied if any part denies — the allowed parts give their leases back and their",
  "estimates are refunded, their ordinary rate limits stay spent. The agents' ACL user needs `zadd zcard",
  "zrem zremrangebyscore zscore pexpire del` besides `get set` (the shipped manifests grant them). In",
  "memory the same formulas run in process.",
  "",
];
