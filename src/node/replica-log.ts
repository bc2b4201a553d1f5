/**
 * The replication core's log over a node's Store: entries are committed with their effect in one
 * SQLite transaction (synchronous=FULL), so an entry is durable and applied, or neither, before the
 * core acknowledges it. What an entry does to the node is decided here, the same way on every node:
 * a code put is checked against its signed hashes (the source's sha256, the parsed program's
 * sha256) and the store's name rules, and becomes a version; kernel loads and unloads go through
 * the node's hook (the runtime) and are recorded only when they worked; revocations are recorded
 * and passed on. Imports cluster/ for the entry types and store/ for the log.
 */
import type { ApplyResult, CertInfo, LoggedEntry, ReplicaLog, VerifiedEntry } from "../cluster/mod.ts";
import { blobOf, type Entry } from "../cluster/mod.ts";
import { encode } from "../lang/codec.ts";
import { latin1FromText, parseFile } from "../lang/mod.ts";
import { kindOfCodeName, sha256Hex, TENANT_PATTERN, type EntryEffect, type Store } from "../store/mod.ts";

/** What the node does for entries beyond its store. */
export interface ApplyHooks {
  /**
   * A kernel load or unload aimed at this node, newer than the last one for that kernel: do it now.
   * Returns the settings to store with the entry (the node's new kernel set), or the error, in which
   * case nothing changes and the entry is recorded as failed here.
   */
  kernel?(op: "load" | "unload", name: string): { readonly settings: readonly (readonly [string, string])[] } | { readonly error: string };
  /** A revocation was stored (not called again for a duplicate): who is revoked, why, who asked, which node signed it. */
  revoked?(r: { readonly serial: string; readonly name: string; readonly upTo: number; readonly reason: string; readonly author: string; readonly origin: string }): void;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** A ReplicaLog on a Store. */
export class StoreReplicaLog implements ReplicaLog {
  constructor(
    private readonly store: Store,
    /** Origins of local entries that never travel (this node's id from before it had an identity). */
    private readonly localOrigins: ReadonlySet<string>,
    private readonly hooks: ApplyHooks = {},
  ) {}

  high(origin: string): number {
    return this.store.log.high(origin);
  }

  vector(): readonly { readonly origin: string; readonly high: number }[] {
    return this.store.log.vector().filter((v) => !this.localOrigins.has(v.origin));
  }

  entryHash(origin: string, seq: number): string | null {
    return this.store.log.entry(origin, seq)?.hash ?? null;
  }

  read(origin: string, from: number, limit: number): readonly LoggedEntry[] {
    return this.store.log.read(origin, from, limit).map((r) => ({ origin: r.origin, seq: r.seq, bytes: r.encoded, signature: r.signature, cert: r.cert ?? "", blob: r.blob }));
  }

  cert(hash: string): Uint8Array | null {
    return this.store.log.cert(hash);
  }

  putCert(info: CertInfo, bytes: Uint8Array): void {
    this.store.log.putCert(info.hash, info.name, info.serial, bytes);
  }

  hasBlob(hash: string): boolean {
    return this.store.log.hasSource(hash);
  }

  blob(hash: string): Uint8Array | null {
    const text = this.store.log.source(hash);
    return text === null ? null : new TextEncoder().encode(text);
  }

  tick(wallMs: number): { readonly ms: number; readonly n: number } {
    return this.store.log.tick(wallMs);
  }

  revocations(): ReadonlyMap<string, number> {
    return new Map(this.store.log.revocations().map((r) => [r.serial, r.upTo]));
  }

  stateHash(): string {
    return this.store.log.stateHash().hash;
  }

  sync(): void {
    this.store.log.sync();
  }

  apply(v: VerifiedEntry, blob: Uint8Array | null, applies: boolean, durable: boolean): ApplyResult {
    const e = v.entry;
    const effect = this.effectOf(e, blob, applies);
    const c = this.store.log.commit(
      { origin: e.origin, seq: e.seq, hlc: e.hlc, kind: e.body.kind, target: e.target?.text ?? null, hash: v.hash, encoded: v.bytes, signature: v.signature, cert: e.cert === "" ? null : e.cert, blob: blobOf(e.body) },
      effect,
      durable,
    );
    if (e.body.kind === "revoke" && !c.duplicate) this.hooks.revoked?.({ serial: e.body.serial, name: e.body.name, upTo: e.body.upTo, reason: e.body.reason, author: e.author, origin: e.origin });
    return { result: c.result, detail: c };
  }

  /** What an entry does here; a problem becomes an `error: …` result (the same on every node). */
  private effectOf(e: Entry, blob: Uint8Array | null, applies: boolean): EntryEffect {
    const b = e.body;
    const skipped: EntryEffect = { type: "none", result: "skipped" };
    const error = (why: string): EntryEffect => ({ type: "none", result: `error: ${why}` });
    switch (b.kind) {
      case "code-put": {
        if (!applies) return { type: "code-number", tenant: b.tenant, name: b.name, number: b.number };
        const problem = codeNameProblem(b.tenant, b.name, b.codeKind) ?? metaProblem(b.meta);
        if (problem !== null) return error(problem);
        let source: string | null;
        try {
          source = blob !== null ? utf8.decode(blob) : this.store.log.source(b.sourceHash);
        } catch {
          return error(`the source of "${b.name}" is not UTF-8`);
        }
        if (source === null) return error(`the source ${b.sourceHash.slice(0, 12)} of "${b.name}" is missing`);
        if (sha256Hex(source) !== b.sourceHash) return error(`the source of "${b.name}" does not match its hash`);
        const parsed = parseFile({ path: b.name, text: latin1FromText(source) });
        if (!parsed.ok) return error(`the source of "${b.name}" does not parse here: ${parsed.diagnostics[0]?.message ?? "?"}`);
        const encoded = encode(parsed.value);
        if (sha256Hex(encoded) !== b.programHash) return error(`"${b.name}" parses to another program here than on "${e.origin}" (a different sup version?)`);
        return {
          type: "code-put",
          tenant: b.tenant,
          name: b.name,
          number: b.number,
          op: b.op,
          content: { hash: b.programHash, sourceHash: b.sourceHash, source, kind: b.codeKind, meta: b.meta },
          encoded,
          author: e.author,
        };
      }
      case "code-rm": {
        if (!applies) return skipped;
        const problem = codeNameProblem(b.tenant, b.name, null);
        return problem === null ? { type: "code-rm", tenant: b.tenant, name: b.name, author: e.author } : error(problem);
      }
      case "kernel": {
        if (!applies) return skipped;
        const stamp = this.store.log.kernelStamp(b.name);
        const newer = stamp === null || stamp.hlc.ms < e.hlc.ms || (stamp.hlc.ms === e.hlc.ms && (stamp.hlc.n < e.hlc.n || (stamp.hlc.n === e.hlc.n && stamp.origin < e.origin)));
        // An older load or unload than the last one is history: recorded, nothing to do.
        if (!newer) return { type: "none", result: "applied" };
        const done = this.hooks.kernel?.(b.op, b.name) ?? { settings: [] };
        if ("error" in done) return error(done.error);
        return { type: "kernel", kernel: b.name, loaded: b.op === "load", settings: done.settings };
      }
      case "setting": {
        if (!applies) return skipped;
        if (!TENANT_PATTERN.test(b.tenant)) return error(`tenant "${b.tenant}" is not a tenant name`);
        return { type: "setting", tenant: b.tenant, key: b.key, value: b.json };
      }
      case "revoke":
        return { type: "revoke", serial: b.serial, name: b.name, upTo: b.upTo, reason: b.reason };
    }
  }
}

function codeNameProblem(tenant: string, name: string, kind: string | null): string | null {
  if (!TENANT_PATTERN.test(tenant)) return `tenant "${tenant}" is not a tenant name`;
  const k = kindOfCodeName(name);
  if ("problem" in k) return `"${name}" is not a code name: ${k.problem}`;
  if (kind !== null && k.kind !== kind) return `"${name}" names a ${k.kind}, not a ${kind}`;
  return null;
}

function metaProblem(meta: string): string | null {
  try {
    const m: unknown = JSON.parse(meta);
    return typeof m === "object" && m !== null && !Array.isArray(m) ? null : "its meta is not a JSON object";
  } catch {
    return "its meta is not JSON";
  }
}
