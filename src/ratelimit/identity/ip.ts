/**
 * IP address text parsing and formatting, IPv6 prefix masking, and CIDR sets.
 * Addresses are plain values so the hot path allocates little: an IPv4 address is a uint32
 * number (192.0.2.10 → 0xc000020a, the SPOP host-order form) and an IPv6 address is 16 bytes.
 * IPv4-mapped IPv6 (`::ffff:a.b.c.d`) always becomes the IPv4 number, so one client has one key.
 * Parsers never throw on garbage; they return `undefined`.
 * @module
 */
import { Char, isOws } from "./chars.ts";

/**
 * An IPv4 address as a uint32 number, or an IPv6 address as 16 bytes (never IPv4-mapped).
 *
 * @example Tell the families apart
 * ```ts
 * import { type IpAddress, parseIp } from "@spoa-gcra/spoa-gcra";
 *
 * const family = (address: IpAddress) => (typeof address === "number" ? "IPv4" : "IPv6");
 * console.assert(family(parseIp("192.0.2.1")!) === "IPv4" && family(parseIp("::ffff:192.0.2.1")!) === "IPv4");
 * ```
 */
export type IpAddress = number | Uint8Array;

/** The longest text we try to read as an address (with brackets, zone and port); longer is garbage. */
const MAX_ADDRESS_TEXT = 64;
/** A port is 1–5 digits (65535). */
const MAX_PORT_DIGITS = 5;

/** Index of char code `code` in text[start, end), or −1; bounded so a long header is never rescanned. */
export function indexIn(text: string, code: number, start: number, end: number): number {
  for (let i = start; i < end; i++) if (text.charCodeAt(i) === code) return i;
  return -1;
}

/** Last index of char code `code` in text[start, end), or −1. */
function lastIndexIn(text: string, code: number, start: number, end: number): number {
  for (let i = end - 1; i >= start; i--) if (text.charCodeAt(i) === code) return i;
  return -1;
}

/** Reads a dotted quad at [start, end), or −1. Leading zeros are rejected: inet_aton reads them as octal. */
function parseV4(text: string, start: number, end: number): number {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c >= Char.DIGIT_0 && c <= Char.DIGIT_9) {
      if (digits === 1 && octet === 0) return -1;
      octet = octet * 10 + (c - 48);
      if (++digits > 3 || octet > 255) return -1;
    } else if (c === Char.DOT) {
      if (digits === 0 || ++dots > 3) return -1;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
    } else return -1;
  }
  if (dots !== 3 || digits === 0) return -1;
  return value * 256 + octet;
}

function hexDigit(c: number): number {
  if (c >= Char.DIGIT_0 && c <= Char.DIGIT_9) return c - Char.DIGIT_0;
  if (c >= Char.LOWER_A && c <= Char.LOWER_F) return c - Char.LOWER_A + 10;
  if (c >= Char.UPPER_A && c <= Char.UPPER_F) return c - Char.UPPER_A + 10;
  return -1;
}

/** The eight 16-bit groups of an IPv6 address. */
const IPV6_GROUPS = 8;

/** Reads IPv6 text at [start, end) into `groups` (IPV6_GROUPS long); false on any syntax error. */
function parseV6(text: string, start: number, end: number, groups: Uint16Array): boolean {
  let count = 0;
  let gap = -1;
  let i = start;
  if (i < end && text.charCodeAt(i) === Char.COLON) {
    if (i + 1 >= end || text.charCodeAt(i + 1) !== Char.COLON) return false;
    gap = 0;
    i += 2;
    if (i === end) {
      groups.fill(0);
      return true;
    }
  }
  while (i < end) {
    if (count === 8) return false;
    let value = 0;
    let digits = 0;
    const groupStart = i;
    while (i < end) {
      const d = hexDigit(text.charCodeAt(i));
      if (d < 0) break;
      value = value * 16 + d;
      if (++digits > 4) return false;
      i++;
    }
    if (i < end && text.charCodeAt(i) === Char.DOT) {
      // An embedded IPv4 tail takes the last two groups.
      if (count > 6) return false;
      const v4 = parseV4(text, groupStart, end);
      if (v4 < 0) return false;
      groups[count++] = v4 >>> 16;
      groups[count++] = v4 & 0xffff;
      i = end;
      break;
    }
    if (digits === 0) return false;
    groups[count++] = value;
    if (i === end) break;
    if (text.charCodeAt(i) !== Char.COLON) return false;
    i++;
    if (i < end && text.charCodeAt(i) === Char.COLON) {
      if (gap >= 0) return false;
      gap = count;
      i++;
    } else if (i === end) return false;
  }
  if (gap < 0) return count === 8;
  if (count === 8) return false;
  const tail = count - gap;
  for (let k = 0; k < tail; k++) groups[7 - k] = groups[count - 1 - k];
  for (let k = gap; k < 8 - tail; k++) groups[k] = 0;
  return true;
}

function fromGroups(groups: Uint16Array): IpAddress {
  if (
    groups[0] === 0 && groups[1] === 0 && groups[2] === 0 && groups[3] === 0 && groups[4] === 0 &&
    groups[5] === 0xffff
  ) return groups[6] * 65536 + groups[7];
  const bytes = new Uint8Array(16);
  for (let k = 0; k < 8; k++) {
    bytes[2 * k] = groups[k] >>> 8;
    bytes[2 * k + 1] = groups[k] & 0xff;
  }
  return bytes;
}

/**
 * Parses a bare IPv4 or IPv6 address; an IPv6 zone id (`%eth0`) is dropped.
 *
 * @param text An address such as `192.0.2.10` or `2001:db8::1` (no port, no brackets).
 * @returns A uint32 for IPv4, 16 bytes for IPv6, or undefined when `text` is not an address.
 *
 * @example Parse both kinds
 * ```ts
 * import { parseIp } from "@spoa-gcra/spoa-gcra";
 *
 * console.assert(parseIp("192.0.2.10") === 0xc000020a);
 * console.assert(parseIp("2001:db8::1") instanceof Uint8Array && parseIp("192.0.2.999") === undefined);
 * ```
 */
export function parseIp(text: string): IpAddress | undefined {
  return parseRange(text, 0, text.length);
}

function parseRange(text: string, start: number, end: number): IpAddress | undefined {
  if (end - start > MAX_ADDRESS_TEXT || end <= start) return undefined;
  const v4 = parseV4(text, start, end);
  if (v4 >= 0) return v4;
  // A zone id only means something on the host that wrote it; the address alone is the client.
  let stop = start;
  while (stop < end && text.charCodeAt(stop) !== Char.PERCENT) stop++;
  // Its own groups per parse: the result allocates 16 bytes anyway, and no parse shares state.
  const groups = new Uint16Array(IPV6_GROUPS);
  return parseV6(text, start, stop, groups) ? fromGroups(groups) : undefined;
}

/**
 * Parses an address as proxies write it: bare, `[v6]`, `[v6]:port` or `v4:port`
 * (surrounding spaces ignored). A bare IPv6 address is never read as having a port.
 */
export function parseHostAddress(text: string): IpAddress | undefined {
  return parseHostRange(text, 0, text.length);
}

/** parseHostAddress over `text[start, end)`, so list parsers need not slice. */
export function parseHostRange(text: string, start: number, end: number): IpAddress | undefined {
  while (start < end && isOws(text.charCodeAt(start))) start++;
  while (end > start && isOws(text.charCodeAt(end - 1))) end--;
  if (end - start > MAX_ADDRESS_TEXT + 8 || end <= start) return undefined;
  if (text.charCodeAt(start) === Char.LEFT_BRACKET) {
    const close = indexIn(text, Char.RIGHT_BRACKET, start, end);
    if (close < 0) return undefined;
    if (close + 1 !== end && !isPort(text, close + 1, end)) return undefined;
    // Brackets hold IPv6 text only (an IPv4-mapped one is fine); `[192.0.2.1]` is malformed.
    return parseV4(text, start + 1, close) >= 0 ? undefined : parseRange(text, start + 1, close);
  }
  const colon = indexIn(text, Char.COLON, start, end);
  if (colon >= 0 && lastIndexIn(text, Char.COLON, colon, end) === colon) {
    // Exactly one colon: only `v4:port` has that shape.
    if (!isPort(text, colon, end)) return undefined;
    const v4 = parseV4(text, start, colon);
    return v4 >= 0 ? v4 : undefined;
  }
  return parseRange(text, start, end);
}

/** True when [colon, end) is `:` followed by 1–5 digits. */
function isPort(text: string, colon: number, end: number): boolean {
  if (text.charCodeAt(colon) !== Char.COLON || end - colon < 2 || end - colon - 1 > MAX_PORT_DIGITS) return false;
  for (let i = colon + 1; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c < Char.DIGIT_0 || c > Char.DIGIT_9) return false;
  }
  return true;
}

/** Reads 4 (network order) or 16 bytes as an address; IPv4-mapped IPv6 becomes IPv4. */
export function addressFromBytes(bytes: Uint8Array): IpAddress | undefined {
  if (bytes.length === 4) return ((bytes[0] << 24) >>> 0) + (bytes[1] << 16) + (bytes[2] << 8) + bytes[3];
  if (bytes.length !== 16) return undefined;
  let mapped = bytes[10] === 0xff && bytes[11] === 0xff;
  for (let i = 0; mapped && i < 10; i++) mapped = bytes[i] === 0;
  if (mapped) return ((bytes[12] << 24) >>> 0) + (bytes[13] << 16) + (bytes[14] << 8) + bytes[15];
  return bytes;
}

/** Formats a uint32 IPv4 address as a dotted quad. */
export function formatIpv4(value: number): string {
  return `${(value >>> 24) & 0xff}.${(value >>> 16) & 0xff}.${(value >>> 8) & 0xff}.${value & 0xff}`;
}

/** Formats 16 bytes as RFC 5952 canonical IPv6 text (lowercase, longest zero run as `::`). */
export function formatIpv6(bytes: Uint8Array): string {
  let bestStart = -1;
  let bestLength = 1;
  for (let k = 0; k < 8;) {
    if (bytes[2 * k] === 0 && bytes[2 * k + 1] === 0) {
      let j = k;
      while (j < 8 && bytes[2 * j] === 0 && bytes[2 * j + 1] === 0) j++;
      if (j - k > bestLength) {
        bestStart = k;
        bestLength = j - k;
      }
      k = j;
    } else k++;
  }
  let out = "";
  let separate = false;
  for (let k = 0; k < 8; k++) {
    if (k === bestStart) {
      out += "::";
      k += bestLength - 1;
      separate = false;
      continue;
    }
    if (separate) out += ":";
    out += ((bytes[2 * k] << 8) | bytes[2 * k + 1]).toString(16);
    separate = true;
  }
  return out;
}

/**
 * Formats either address kind: a dotted quad, or RFC 5952 canonical IPv6 text.
 *
 * @param address A uint32 IPv4 address or 16 IPv6 bytes.
 * @returns The address as text.
 *
 * @example Canonical IPv6 text
 * ```ts
 * import { formatIp, parseIp } from "@spoa-gcra/spoa-gcra";
 *
 * console.assert(formatIp(parseIp("2001:0DB8:0:0:0:0:0:1")!) === "2001:db8::1");
 * ```
 */
export function formatIp(address: IpAddress): string {
  return typeof address === "number" ? formatIpv4(address) : formatIpv6(address);
}

/** Copies `bytes` into `out` (or a new array) with every bit after the first `prefixLength` cleared. */
export function maskIpv6(bytes: Uint8Array, prefixLength: number, out: Uint8Array = new Uint8Array(16)): Uint8Array {
  const bits = prefixLength < 0 ? 0 : prefixLength > 128 ? 128 : prefixLength;
  const whole = bits >>> 3;
  for (let i = 0; i < 16; i++) {
    if (i < whole) out[i] = bytes[i];
    else if (i === whole && (bits & 7) !== 0) out[i] = bytes[i] & (0xff << (8 - (bits & 7)));
    else out[i] = 0;
  }
  return out;
}

/** A parsed CIDR block; its address has the host bits cleared. */
export type Cidr =
  | { readonly kind: "v4"; readonly network: number; readonly mask: number; readonly prefixLength: number }
  | { readonly kind: "v6"; readonly network: Uint8Array; readonly prefixLength: number };

/** Parses `addr/len` or a bare address (a host block); IPv4-mapped IPv6 blocks of /96+ become IPv4. */
export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf("/");
  const address = parseIp(slash < 0 ? text.trim() : text.slice(0, slash).trim());
  if (address === undefined) return undefined;
  const lengthText = slash < 0 ? "" : text.slice(slash + 1).trim();
  if (slash >= 0 && !/^\d{1,3}$/.test(lengthText)) return undefined;
  const mappedV6 = slash >= 0 && typeof address === "number" && text.includes(":");
  let length = slash < 0 ? (typeof address === "number" ? 32 : 128) : Number(lengthText);
  if (mappedV6) {
    if (length < 96) return undefined;
    length -= 96;
  }
  if (typeof address === "number") {
    if (length > 32) return undefined;
    const mask = length === 0 ? 0 : (0xffffffff << (32 - length)) >>> 0;
    return { kind: "v4", network: (address & mask) >>> 0, mask, prefixLength: length };
  }
  if (length > 128) return undefined;
  return { kind: "v6", network: maskIpv6(address, length), prefixLength: length };
}

/**
 * A set of CIDR blocks, matched by linear scan (sets are short: proxies, office ranges).
 *
 * @example An empty set matches nothing
 * ```ts
 * import { type CidrSet, parseCidrList, parseIp } from "@spoa-gcra/spoa-gcra";
 *
 * const none: CidrSet = parseCidrList([]);
 * console.assert(none.empty && !none.contains(parseIp("192.0.2.1")!));
 * ```
 */
export interface CidrSet {
  /** True when no block was given. */
  readonly empty: boolean;
  /** True when `address` lies in one of the blocks. */
  contains(address: IpAddress): boolean;
}

function v6Contains(block: Cidr & { kind: "v6" }, address: Uint8Array): boolean {
  const bits = block.prefixLength;
  const whole = bits >>> 3;
  for (let i = 0; i < whole; i++) if (address[i] !== block.network[i]) return false;
  if ((bits & 7) === 0) return true;
  const mask = 0xff << (8 - (bits & 7)) & 0xff;
  return (address[whole] & mask) === block.network[whole];
}

/**
 * Builds a CidrSet from CIDR blocks and bare addresses.
 *
 * @param list Entries such as `10.0.0.0/8`, `2001:db8::/32` or `192.0.2.7`.
 * @returns A set whose `contains(address)` matches without allocating.
 * @throws {RangeError} Naming the first entry that is not a CIDR or an address.
 *
 * @example Is the client in an office range?
 * ```ts
 * import { parseCidrList, parseIp } from "@spoa-gcra/spoa-gcra";
 *
 * const office = parseCidrList(["192.0.2.0/24", "2001:db8:1::/48"]);
 * console.assert(office.contains(parseIp("192.0.2.77")!) && !office.contains(parseIp("198.51.100.1")!));
 * ```
 */
export function parseCidrList(list: readonly string[]): CidrSet {
  const v4: { network: number; mask: number }[] = [];
  const v6: (Cidr & { kind: "v6" })[] = [];
  for (const entry of list) {
    const block = parseCidr(entry);
    if (block === undefined) throw new RangeError(`Cannot parse CIDR "${entry}": expected an address or address/prefix`);
    if (block.kind === "v4") v4.push({ network: block.network, mask: block.mask });
    else v6.push(block);
  }
  return {
    empty: list.length === 0,
    contains(address: IpAddress): boolean {
      if (typeof address === "number") {
        for (let i = 0; i < v4.length; i++) if (((address & v4[i].mask) >>> 0) === v4[i].network) return true;
        return false;
      }
      for (let i = 0; i < v6.length; i++) if (v6Contains(v6[i], address)) return true;
      return false;
    },
  };
}
