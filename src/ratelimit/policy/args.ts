/**
 * Reading message arguments: lookup by name, and the text or address a typed value stands for.
 * @module
 */
import type { NamedData, TypedData } from "../../spop/types.ts";
import { addressFromBytes, formatIp, type IpAddress, parseHostAddress } from "../identity/ip.ts";

/**
 * The first argument called `name`, by linear scan (messages carry a handful of arguments).
 *
 * @param args A message's arguments, as the handler receives them.
 * @param name The argument name from `spoe-message … args name=…`.
 * @returns The argument, or undefined when the message has none of that name.
 *
 * @example Read the path HAProxy sent
 * ```ts
 * import { findArg, type Message } from "@spoa-gcra/spoa-gcra";
 *
 * const message: Message = { name: "check-rate", args: [{ name: "path", kind: "string", value: "/api/login" }] };
 * const path = findArg(message.args, "path");
 * console.assert(path?.kind === "string" && path.value === "/api/login");
 * ```
 */
export function findArg(args: readonly NamedData[], name: string): NamedData | undefined {
  for (let i = 0; i < args.length; i++) if (args[i].name === name) return args[i];
  return undefined;
}

/**
 * The text a value stands for, for matching and keys: strings as they are, integers in decimal,
 * booleans as `true`/`false`, addresses formatted; null and binary have no text.
 *
 * @param data A typed value, e.g. a message argument.
 * @returns Its text, or undefined for null and binary values.
 *
 * @example Any argument as text
 * ```ts
 * import { dataText } from "@spoa-gcra/spoa-gcra";
 *
 * console.assert(dataText({ kind: "ipv4", value: 0xc000020a }) === "192.0.2.10");
 * console.assert(dataText({ kind: "int32", value: 42 }) === "42");
 * ```
 */
export function dataText(data: TypedData): string | undefined {
  switch (data.kind) {
    case "string":
      return data.value;
    case "int32":
    case "uint32":
    case "int64":
    case "uint64":
      return String(data.value);
    case "bool":
      return data.value ? "true" : "false";
    case "ipv4":
      return formatIp(data.value >>> 0);
    case "ipv6": {
      const address = addressFromBytes(data.value);
      return address === undefined ? undefined : formatIp(address);
    }
    default:
      return undefined;
  }
}

/**
 * The address a typed value carries (IPv4/IPv6 kinds, or a string holding one address, port allowed).
 *
 * @param data A typed value, e.g. the `ip_src=src` argument.
 * @returns The address (a uint32 for IPv4, 16 bytes for IPv6), or undefined when it holds none.
 *
 * @example The client address of a message
 * ```ts
 * import { dataAddress, formatIp } from "@spoa-gcra/spoa-gcra";
 *
 * const address = dataAddress({ kind: "string", value: "[2001:db8::1]:443" });
 * console.assert(address !== undefined && formatIp(address) === "2001:db8::1");
 * ```
 */
export function dataAddress(data: TypedData): IpAddress | undefined {
  switch (data.kind) {
    case "ipv4":
      return data.value >>> 0;
    case "ipv6":
      return addressFromBytes(data.value);
    case "string":
      return parseHostAddress(data.value);
    default:
      return undefined;
  }
}
