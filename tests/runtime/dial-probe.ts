// Run in-process by dial.test.ts under Bun and as a script under deno: dials Valkey at the port
// in the first argument with this runtime's dialer (src/runtime/dial.ts) and prints one JSON
// object of what happened (pipelined replies, a 2 MiB write, close reporting).
import { loadDialer } from "../../src/runtime/dial.ts";
import { detectRuntime } from "../../src/runtime/detect.ts";

const command = (...args: string[]) =>
  new TextEncoder().encode(`*${args.length}\r\n` + args.map((a) => `$${new TextEncoder().encode(a).length}\r\n${a}\r\n`).join(""));

/** Dials 127.0.0.1:`port`, pipelines PING, a 2 MiB SET and STRLEN, then closes. */
export async function dialProbe(port: number): Promise<Record<string, unknown>> {
  const dial = await loadDialer();
  if (dial === undefined) return { runtime: detectRuntime(), dialer: "store default (node:net)" };
  let text = "";
  let closedWith: string | undefined;
  const socket = await dial({ host: "127.0.0.1", port }, {
    data: (chunk) => (text += new TextDecoder().decode(chunk)),
    closed: (error) => (closedWith = error === undefined ? "clean" : String(error)),
  });
  socket.write(command("PING"));
  socket.write(command("SET", "dial-probe", "x".repeat(2 * 1024 * 1024)));
  socket.write(command("STRLEN", "dial-probe"));
  const deadline = Date.now() + 5000;
  while (!text.endsWith(":2097152\r\n") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  socket.close();
  await new Promise((r) => setTimeout(r, 50));
  const refused = await dial({ host: "127.0.0.1", port: 1 }, { data() {}, closed() {} }).then(() => false, () => true);
  return { runtime: detectRuntime(), replies: text, closedWith, refused };
}

if (import.meta.main) console.log(JSON.stringify(await dialProbe(Number((globalThis as unknown as { Deno: { args: string[] } }).Deno.args[0]))));
