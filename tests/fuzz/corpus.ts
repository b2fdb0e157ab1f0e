/**
 * Seed inputs for the SPOP fuzz targets: the protocol vectors (spop-protocol.md §11), the
 * negative vectors, NOTIFYs carrying every typed-data kind, whole HELLO + NOTIFY sessions, and
 * the regression vectors of inputs that once broke something.
 * @module
 */
import { FUZZ_REGRESSIONS } from "../fixtures/fuzz-regressions.ts";
import { hex, NEGATIVE_VECTORS, VECTORS } from "../fixtures/spop-vectors.ts";
import { disconnectFrame, helloFrame, notifyFrame } from "../../src/spop/client.ts";
import { checkRateMessage } from "../helpers/spop-socket.ts";
import type { Message } from "../../src/spop/types.ts";
import { concat } from "./mutate.ts";

/** One message with an argument of every typed-data kind (and an unnamed one). */
const EVERY_KIND: Message = {
  name: "every-kind",
  args: [
    { name: "n", kind: "null" },
    { name: "b", kind: "bool", value: true },
    { name: "i32", kind: "int32", value: -7 },
    { name: "u32", kind: "uint32", value: 4_294_967_295 },
    { name: "i64", kind: "int64", value: -1n },
    { name: "u64", kind: "uint64", value: 18_446_744_073_709_551_615n },
    { name: "v4", kind: "ipv4", value: 0xc000020a },
    { name: "v6", kind: "ipv6", value: hex("20010db8000000000000000000000001") },
    { name: "", kind: "string", value: "for=192.0.2.60;proto=http, for=\"[2001:db8::1]:4711\"" },
    { name: "bin", kind: "binary", value: hex("00ff10f0") },
  ],
};

/** A HAProxy session: HELLO, a few NOTIFYs (ids past the one-byte varint range too), a DISCONNECT. */
function session(): Uint8Array {
  return concat(
    helloFrame(),
    notifyFrame({ streamId: 1, frameId: 1 }, [checkRateMessage(0x0a000001)]),
    notifyFrame({ streamId: 4242, frameId: 2 }, [EVERY_KIND, checkRateMessage(0x0a000002)]),
    notifyFrame({ streamId: 2n ** 63n - 1n, frameId: 1 }, []),
    disconnectFrame(0),
  );
}

/** Every seed input, as wire bytes (frames with their 4-byte length). */
export const SPOP_CORPUS: readonly Uint8Array[] = [
  ...VECTORS.map((v) => v.bytes),
  ...NEGATIVE_VECTORS.map((v) => v.bytes),
  notifyFrame({ streamId: 7, frameId: 1 }, [EVERY_KIND]),
  helloFrame({ capabilities: ["pipelining", "async", "fragmentation"], maxFrameSize: 256 }),
  helloFrame({ supportedVersions: ["1.0", "2.0", "2.1"], healthcheck: true }),
  session(),
  ...FUZZ_REGRESSIONS.filter((r) => r.target !== "identity").map((r) => hex(r.hex)),
];
