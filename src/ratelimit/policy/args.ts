/**
 * Reading message arguments: lookup by name, and the text or address a typed value stands for.
 * @module
 */
import type { NamedData, TypedData } from "../../spop/types.ts";
import { addressFromBytes, formatIp, type IpAddress, parseHostAddress } from "../ip.ts";

/** The first argument called `name`, by linear scan (messages carry a handful of arguments). */
export function findArg(args: readonly NamedData[], name: string): NamedData | undefined {
  for (let i = 0; i < args.length; i++) if (args[i].name === name) return args[i];
  return undefined;
}

/**
 * The text a value stands for, for matching and keys: strings as they are, integers in decimal,
 * booleans as `true`/`false`, addresses formatted; null and binary have no text.
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

/** The address a typed value carries (IPv4/IPv6 kinds, or a string holding one address, port allowed). */
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
