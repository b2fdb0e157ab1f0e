// The transport contract against the Deno adapter: a deno subprocess runs the same echo port
// (tests/helpers/deno-transport-runner.ts) and this Bun test drives it over TCP.
import { resolve } from "node:path";
import { spawnPortChild } from "../helpers/port-child.ts";
import { runTransportSuite } from "./transport-suite.ts";

const ROOT = resolve(import.meta.dir, "../..");
const DENO = resolve(ROOT, "node_modules/.bin/deno");

runTransportSuite("denoAdapter", {
  start: () => spawnPortChild([DENO, "run", "-A", "tests/helpers/deno-transport-runner.ts"], ROOT),
});
