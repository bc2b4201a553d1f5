/**
 * The expected failures of net/: identity files that cannot be used, and handshakes that a side
 * refuses. Each refusal has a reason code from a fixed set, used in logs and metric labels.
 */
import { SupError } from "../errors.ts";

/** An identity, root, request or certificate file that cannot be read, used or written. */
export class IdentityFileError extends SupError {
  constructor(
    readonly file: string,
    message: string,
    code = "identity-file",
  ) {
    super(code, message);
  }
}

/** Bad input to an identity operation (a name, a role, a number of days). */
export class IdentityInputError extends SupError {
  constructor(message: string) {
    super("identity-input", message);
  }
}

/** Why a handshake (or an open connection) was refused: a fixed set, so metrics stay bounded. */
export const REFUSAL_REASONS = [
  "malformed",
  "protocol-version",
  "no-common-suite",
  "wrong-cluster",
  "bad-certificate",
  "cert-expired",
  "cert-not-yet-valid",
  "revoked",
  "bad-signature",
  "name-conflict",
  "self",
  "handshake-timeout",
  "too-many-pending",
  "no-clients",
  "too-many-clients",
  "closed",
] as const;
export type RefusalReason = (typeof REFUSAL_REASONS)[number];

/** A handshake that failed: refused by this side (`byPeer` false) or by the peer. */
export class HandshakeError extends SupError {
  constructor(
    readonly reason: RefusalReason,
    readonly detail: string,
    readonly byPeer: boolean,
  ) {
    super("handshake-refused", byPeer ? `Handshake refused by the peer: ${reason}: ${detail}` : `Handshake refused: ${reason}: ${detail}`);
  }
}

/** A refusal reason received from the wire, or "malformed" when it is not one we know. */
export function refusalReasonOf(text: string): RefusalReason {
  return (REFUSAL_REASONS as readonly string[]).includes(text) ? (text as RefusalReason) : "malformed";
}
