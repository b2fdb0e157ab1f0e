/**
 * One batch of requests as a ready-to-write `EVALSHA` of the packed script (packed-lua.ts):
 * keys as bulk strings, every check's numbers in one binary argument. The reply is the same
 * flat integer list as the classic script's, decoded by ../codec.ts decodeBatch.
 * @module
 */
import type { LimitCheck } from "../../store.ts";
import { PACKED_CHECK_BYTES } from "./packed-lua.ts";
import { RespWriter } from "./resp-writer.ts";

/** The packed format counts a request's checks in one byte. */
export const MAX_PACKED_CHECKS = 255;

/** True when every request fits the packed format (at most 255 checks each). */
export function fitsPacked(requests: readonly (readonly LimitCheck[])[]): boolean {
  for (const checks of requests) if (checks.length > MAX_PACKED_CHECKS) return false;
  return true;
}

const encoder = new TextEncoder();

/** `*N\r\n$7\r\nEVALSHA\r\n$40\r\n<sha>\r\n` is the same for every call but N: kept as bytes. */
function shaArgument(sha: string): Uint8Array {
  return encoder.encode(`$7\r\nEVALSHA\r\n$40\r\n${sha}\r\n`);
}

const prefixes = new Map<string, Uint8Array>();

/** `EVALSHA sha numkeys key… packed` for `requests` (each must fit, see fitsPacked). */
export function encodePackedBatch(requests: readonly (readonly LimitCheck[])[], keyPrefix: string, sha: string): Uint8Array {
  let keys = 0;
  for (const checks of requests) keys += checks.length;
  let prefix = prefixes.get(sha);
  if (prefix === undefined) prefixes.set(sha, (prefix = shaArgument(sha)));
  const writer = new RespWriter(64 + keys * (48 + PACKED_CHECK_BYTES));
  writer.array(4 + keys).raw(prefix).integer(keys);
  for (const checks of requests) for (const check of checks) writer.bulk(keyPrefix + check.key);
  writer.beginBulk(requests.length + keys * PACKED_CHECK_BYTES);
  for (const checks of requests) {
    writer.u8(checks.length);
    for (const check of checks) {
      writer.f64(check.params.emissionIntervalUs).f64(check.params.burstToleranceUs).f64(check.cost).u8(check.shadow ? 1 : 0);
    }
  }
  return writer.end().take();
}
