// The local server answers only requests meant for it: a `Host` that is loopback (127.0.0.0/8, localhost, [::1]) or a
// name the developer configured (ALLOWED_HOSTS), and no `Origin` of another site. A web page the developer visits can
// otherwise make the browser send requests here — by DNS rebinding (its own name resolving to 127.0.0.1: the Host
// says so) or straight from its page (the Origin says so) — and place orders with the credentials configured here.
import { isIP } from 'node:net';

/** Why a request is refused: the status (421 for a Host, 403 for an Origin) and the sentence for the caller. */
export interface HostRefusal {
  status: 421 | 403;
  detail: string;
}

/** `host[:port]` as a Host header or a URL writes it → the host name, lower case, IPv6 without brackets. */
function hostnameOf(hostHeader: string): string | undefined {
  const value = hostHeader.trim().toLowerCase();
  if (value.startsWith('[')) {
    const end = value.indexOf(']');
    const rest = value.slice(end + 1);
    if (end < 0 || (rest !== '' && !/^:\d{1,5}$/.test(rest))) return undefined;
    return value.slice(1, end);
  }
  const match = /^([^:]+)(?::(\d{1,5}))?$/.exec(value);
  return match?.[1];
}

/** 127.0.0.0/8, ::1 (also as ::ffff:127.x.y.z), `localhost` and names under `.localhost` (RFC 6761). */
export function isLoopback(hostname: string): boolean {
  const name = hostname.replace(/\.$/, '');
  if (name === 'localhost' || name.endsWith('.localhost')) return true;
  if (isIP(name) === 4) return name.startsWith('127.');
  if (isIP(name) === 6) return name === '::1' || /^::ffff:127\.\d+\.\d+\.\d+$/.test(name);
  return false;
}

/** ALLOWED_HOSTS: names (or addresses) besides loopback, comma-separated, compared without port and case. */
export function parseAllowedHosts(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((host) => hostnameOf(host) ?? host.trim().toLowerCase())
    .filter(Boolean);
}

export function hostGuard(allowedHosts: readonly string[] = []) {
  const allowed = new Set(allowedHosts.map((host) => host.toLowerCase().replace(/\.$/, '')));
  const accepted = (hostname: string | undefined) =>
    hostname !== undefined && (isLoopback(hostname) || allowed.has(hostname.replace(/\.$/, '')));
  const hint = 'ALLOWED_HOSTS (docs/local.md, "Who can reach it")';

  /** A refusal for a request with these headers, or undefined when it may go on. */
  return (headers: { host?: string | undefined; origin?: string | string[] | undefined }): HostRefusal | undefined => {
    const host = headers.host;
    if (!host || !accepted(hostnameOf(host))) {
      return {
        status: 421,
        detail: `The local server answers requests for 127.0.0.1, localhost or [::1] only, not for Host ${JSON.stringify(host ?? '')}: name it in ${hint} if it is yours.`,
      };
    }
    const origin = headers.origin;
    if (origin === undefined) return undefined;
    let originHost: string | undefined;
    try {
      const url = new URL(Array.isArray(origin) ? (origin[0] ?? '') : origin);
      originHost = url.protocol === 'http:' || url.protocol === 'https:' ? hostnameOf(url.host) : undefined;
    } catch {
      originHost = undefined;
    }
    if (!accepted(originHost)) {
      return {
        status: 403,
        detail: `A request from the web page at Origin ${JSON.stringify(String(origin))} is refused: the local server takes requests from this machine's own tools and pages only (${hint}).`,
      };
    }
    return undefined;
  };
}
