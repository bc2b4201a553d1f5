/**
 * Backchannel addresses as `host:port` text: checking, splitting, and the address a node advertises
 * to its peers when it listens on an unspecified host (0.0.0.0 or ::).
 */
import { networkInterfaces } from "node:os";

/** True for `host:port` with a port in 1..65535 (IPv6 hosts in brackets or bare). */
export function isAddress(text: string): boolean {
  const colon = text.lastIndexOf(":");
  if (colon <= 0 || text.length > 300) return false;
  const port = Number(text.slice(colon + 1));
  return Number.isInteger(port) && port > 0 && port <= 65535 && /^\S+$/.test(text.slice(0, colon));
}

/** Splits `host:port` (checked with isAddress first); brackets around an IPv6 host are removed. */
export function splitAddress(text: string): { host: string; port: number } {
  const colon = text.lastIndexOf(":");
  return { host: text.slice(0, colon).replace(/^\[(.*)\]$/, "$1"), port: Number(text.slice(colon + 1)) };
}

/** `host:port`, with an IPv6 host in brackets. */
export function joinAddress(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** True for a host that means "every interface": peers cannot dial it. */
export function isUnspecifiedHost(host: string): boolean {
  return host === "" || host === "0.0.0.0" || host === "::" || host === "[::]";
}

/**
 * The host peers should dial when this node listens on every interface: the first non-internal
 * IPv4 address of the machine (a container's or VPS's one interface), else its first global IPv6
 * address, else 127.0.0.1. An operator with several interfaces names the right one with --advertise.
 */
export function defaultAdvertisedHost(): string {
  const all = Object.values(networkInterfaces()).flatMap((list) => list ?? []).filter((a) => !a.internal);
  const v4 = all.find((a) => a.family === "IPv4");
  if (v4 !== undefined) return v4.address;
  // Link-local addresses (fe80::/10) need a zone and are not reachable from other links.
  const v6 = all.find((a) => a.family === "IPv6" && !/^fe[89ab]/i.test(a.address));
  return v6?.address ?? "127.0.0.1";
}
