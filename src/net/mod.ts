/**
 * net/: identities and the backchannel between nodes (docs/cluster.md, "Identity" and
 * "Backchannel").
 *
 * - Identity files (text, owner-only): the cluster root key, node identities (certificate + root
 *   public key + node secret), key/request/certificate files of the request flow. Certificates are
 *   signed by the root over their canonical codec encoding.
 * - The Backchannel: raw TCP, a signed ephemeral-DH handshake (both certificates checked against
 *   the root, validity with a clock-skew allowance, a revocation hook, signatures over the
 *   transcript), then length-prefixed AEAD frames with per-direction counter nonces and rekeys.
 *   Messages are codec-encoded SLP values `(kind version field…)`; the Backchannel delivers them to
 *   one callback per node and reserves the `sup-` kinds for itself.
 *
 * Invariants: no unauthenticated input allocates more than a fixed bound (limits.ts) or lives past
 * the handshake deadline, or interns a symbol; a frame that fails authentication closes its
 * connection; no function here throws on bad input from a file or a socket (typed errors or
 * refusals instead). tweetnacl is the reference for every NaCl primitive; node:crypto computes the
 * same functions on the hot path (keys.test.ts proves agreement).
 *
 * Imports lang/ (codec, values), errors.ts and log.ts only: never node/, cluster/, http/ or cli/.
 */
export { Backchannel, DEFAULT_LIMITS, DialError, type BackchannelLimits, type BackchannelOptions, type ClientInfo, type DialOptions } from "./backchannel.ts";
export type { PeerInfo, SendResult } from "./connection.ts";
export { CERT_VERSION, certFromValue, certValue, clusterIdOf, PERMISSIONS, validityAt, type Certificate, type Permission, type SignedCertificate } from "./certificate.ts";
export { HandshakeError, IdentityFileError, IdentityInputError, REFUSAL_REASONS, type RefusalReason } from "./errors.ts";
export {
  acceptCertificate,
  can,
  issueIdentity,
  makeRequest,
  makeRoot,
  NodeIdentity,
  signRequest,
  verifyBy,
  type CertCheck,
  type IssueInput,
} from "./identity.ts";
export {
  CERTIFICATE_KIND,
  fileKindOf,
  formatCertificateFile,
  formatIdentityFile,
  formatKeyFile,
  formatRequestFile,
  formatRootFile,
  IDENTITY_KIND,
  identityProblems,
  isSecretKind,
  KEY_KIND,
  loadIdentityFile,
  loadRootFile,
  parseCertificateFile,
  parseIdentityFile,
  parseKeyFile,
  parseRequestFile,
  parseRootFile,
  REQUEST_KIND,
  ROOT_KIND,
  type CertificateData,
  type CertRequest,
  type IdentityData,
  type PendingKey,
  type RootKey,
} from "./identity-files.ts";
export { readIdentityText, writeIdentityText } from "./text-file.ts";
export { BackchannelMetrics, CLOSE_CAUSES, type CloseCause } from "./metrics.ts";
export { SUITES, type SuiteName } from "./suite.ts";
export * from "./limits.ts";
