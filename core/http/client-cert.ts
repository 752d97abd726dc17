// Client certificates over HTTPS. The TLS layer asks every client for one but lets the handshake
// finish without it (requestCert, no rejectUnauthorized): registration and operators come with
// tokens only. What a client does present must verify against the fleet CA; an expired certificate
// or one from another CA is refused on every route, with the reason, before any handler runs.
import type { FastifyRequest } from 'fastify';
import { TLSSocket, type PeerCertificate } from 'node:tls';
import { WhistleError } from '../errors.ts';

/** OpenSSL's verify results that mean "not issued by the CA this server trusts". */
const WRONG_ISSUER = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_SIGNATURE_FAILURE',
]);

function subjectOf(peer: PeerCertificate): string {
  const s = peer.subject as Partial<Record<string, string>> | undefined;
  return [s?.CN && `CN=${s.CN}`, s?.OU && `OU=${s.OU}`].filter(Boolean).join(', ') || 'without a subject';
}

/** Why a presented client certificate is refused, naming it, from OpenSSL's verify code. */
export function clientCertRefusal(code: string, peer: PeerCertificate): string {
  const which = `client certificate ${subjectOf(peer)} (serial ${peer.serialNumber})`;
  if (code === 'CERT_HAS_EXPIRED') return `${which} expired on ${peer.valid_to}: get a new one (POST /v1/agent/certificate with the node token)`;
  if (code === 'CERT_NOT_YET_VALID') return `${which} is not valid before ${peer.valid_from}`;
  if (WRONG_ISSUER.has(code)) return `${which} is not issued by this management plane's fleet CA (${code})`;
  return `${which} does not verify (${code})`;
}

/** An onRequest hook: passes requests without a client certificate or with a valid one. */
export async function refuseInvalidClientCert(req: FastifyRequest): Promise<void> {
  const socket = req.raw.socket;
  if (!(socket instanceof TLSSocket) || socket.authorized) return;
  const peer = socket.getPeerCertificate();
  if (!peer || Object.keys(peer).length === 0) return;
  // Typed as an Error; at run time Node gives OpenSSL's verify code as a string.
  const reason = socket.authorizationError as unknown;
  const code = typeof reason === 'string' ? reason : reason instanceof Error ? ((reason as NodeJS.ErrnoException).code ?? reason.message) : 'UNKNOWN';
  throw new WhistleError('WHISTLE_CLIENT_CERT_REFUSED', clientCertRefusal(code, peer));
}

/**
 * The node a verified client certificate names (CN = node, OU = cluster, as the fleet CA issues
 * them), or null when the request carries none. Refused certificates never get this far.
 */
export function certifiedNode(req: FastifyRequest): { cluster: string; node: string } | null {
  const socket = req.raw.socket;
  if (!(socket instanceof TLSSocket) || !socket.authorized) return null;
  const peer = socket.getPeerCertificate();
  const s = peer?.subject as Partial<Record<string, string>> | undefined;
  if (!s?.CN) return null;
  return { cluster: s.OU ?? '', node: s.CN };
}
