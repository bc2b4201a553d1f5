/**
 * cluster/: the protocol cores, sans-I/O state machines that decide what nodes say to each other.
 * Each core follows one contract (core.ts): it is fed inputs (a tick at `now`, a message from an
 * authenticated peer, a connection gained or lost, a local request) and answers with effects (send
 * a message, connect to an address, set its timer, emit an event). A core owns its state and is
 * deterministic: no sockets, no clock, no real timers, no Math.random (a driver-seeded Random
 * instead). The node drives cores over the backchannel in real time (src/node/); test/sim drives
 * the very same cores over a virtual network in virtual time, reproducibly from a seed.
 *
 * Cores so far: membership (membership.ts: SWIM/Lifeguard failure detection, gossip, digest sync);
 * change-log replication (replication.ts: signed entries, push, relay, anti-entropy by version
 * vectors; its log and crypto are injected, replica.ts); commands (commands.ts: exec on selected
 * nodes, answers gathered by a deadline).
 * Messages are SLP values `(channel version kind …)`, so one backchannel carries every core's
 * messages and a driver routes them by the head symbol (messageChannel).
 *
 * Invariants: no input from a peer throws or makes a core allocate beyond the limits in limits.ts;
 * every message a core sends fits MESSAGE_BYTES_MAX; a member's incarnation is raised only by the
 * member itself.
 *
 * Imports lang/ (values, codec) and errors.ts only; never node/, net/, store/, http/ or cli/.
 */
export { messageChannel, type CoreEffect, type CoreInput, type PeerName, type ProtocolCore, type Random } from "./core.ts";
export { Prng, randomInt, shuffle } from "./prng.ts";
export { backoffMs, type BackoffPolicy } from "./backoff.ts";
export { DEFAULT_MEMBERSHIP_CONFIG, detectionBoundMs, retransmitLimit, suspicionTimeoutMs, suspicionTimeouts, syncIntervalMs, type MembershipConfig } from "./config.ts";
export { MembershipCore, MembershipOptionsError, type MembershipOptions } from "./membership.ts";
export type { MembershipEvent, MembershipRequest } from "./events.ts";
export { EMPTY_STATS, type MemberMeta, type MemberState, type MemberStats, type MemberView } from "./member.ts";
export { decodeMessage, isMemberName, MEMBER_CHANNEL, type Claim, type DigestEntry, type MemberRecord, type MembershipMessage } from "./messages.ts";
export { CommandsCore, CommandsOptionsError, type CommandOutcome, type CommandResult, type CommandsEvent, type CommandsOptions, type CommandsRequest, type CommandTarget, type RunTicket } from "./commands.ts";
export { COMMAND_CHANNEL, cutText, decodeCommandMessage, resultMessage, runMessage, type CommandMessage, type RunAnswer } from "./command-messages.ts";
export { matches, parseSelector, select, SELECTOR_TERMS_MAX, SelectorError, type Selector, type SelectorSubject, type SelectorTerm } from "./selector.ts";
export * from "./limits.ts";
export { commitLocal, ReplicationCore } from "./replication.ts";
export { DEFAULT_REPLICATION_CONFIG, type ReplicationConfig } from "./replication-config.ts";
export { blobOf, bytesValue, decodeEntry, entryId, entryValue, ENTRY_VERSION, permissionFor, readEntry, type Entry, type EntryBody, type EntryKind, type Stamp } from "./entry.ts";
export { decodeReplMessage, REPL_CHANNEL, type EntriesMode, type ReplMessage } from "./replication-messages.ts";
export type { ApplyResult, CertInfo, EntryCrypto, LoggedEntry, PeerReplica, RejectReason, ReplicaLog, ReplicationEvent, ReplicationOptions, ReplicationRequest, VerifiedEntry } from "./replica.ts";
export * as replicationLimits from "./replication-limits.ts";
