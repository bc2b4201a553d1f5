/**
 * The change-log entry bodies of code writes, built from the node's store: a put gets the next
 * version number of its name and the hashes of its source and parsed program; a rollback copies a
 * stored version's content and names it by (number, origin), so the entry means the same on every
 * node whatever history each holds; a removal names the code. The caller has parsed and checked
 * the program; everything else is checked here before anything is signed.
 */
import type { EntryBody } from "../cluster/mod.ts";
import { encode } from "../lang/codec.ts";
import type { Value } from "../lang/value.ts";
import { checkCodeWrite, sha256Hex, StoreNotFoundError, type CodeKind, type CodeMeta, type Store, type VersionOp, type VersionRef } from "../store/mod.ts";

/** A code put entry's body and its blob (the source's UTF-8 bytes). */
export interface CodePut {
  readonly body: Extract<EntryBody, { kind: "code-put" }>;
  readonly blob: Uint8Array;
}

/** What a put writes. */
export interface PutInput {
  readonly tenant: string;
  readonly name: string;
  readonly kind: CodeKind;
  readonly source: string;
  readonly program: Value;
  readonly meta?: CodeMeta;
  readonly author: string;
  readonly op?: VersionOp;
  readonly from?: { readonly number: number; readonly origin: string } | null;
}

/** The body of a put (or a split, which is a put of the current program with new meta). */
export function putBody(store: Store, w: PutInput): CodePut {
  const meta = checkCodeWrite(w);
  const body: CodePut["body"] = {
    kind: "code-put",
    tenant: w.tenant,
    name: w.name,
    codeKind: w.kind,
    number: store.log.nextNumber(w.tenant, w.name),
    op: w.op ?? "put",
    sourceHash: sha256Hex(w.source),
    programHash: sha256Hex(encode(w.program)),
    meta,
    from: w.from ?? null,
  };
  return { body, blob: new TextEncoder().encode(w.source) };
}

/** The body of a rollback: a new version with the content of `to` (see Store.rollbackTarget). */
export function rollbackBody(store: Store, tenant: string, name: string, to?: VersionRef): CodePut {
  const target = store.rollbackTarget(tenant, name, to);
  const body: CodePut["body"] = {
    kind: "code-put",
    tenant,
    name,
    codeKind: target.kind,
    number: store.log.nextNumber(tenant, name),
    op: "rollback",
    sourceHash: sha256Hex(target.source),
    programHash: target.hash,
    meta: JSON.stringify(target.meta),
    from: { number: target.version, origin: target.origin },
  };
  return { body, blob: new TextEncoder().encode(target.source) };
}

/** The body of a removal; throws StoreNotFoundError when nothing is current under that name. */
export function removeBody(store: Store, tenant: string, name: string): EntryBody {
  const current = store.getCode(tenant, name);
  if (current === null) {
    const why = store.history(tenant, name).length === 0 ? `no code of that name in tenant "${tenant}"` : "it is already removed";
    throw new StoreNotFoundError(`Cannot remove "${name}": ${why}`);
  }
  return { kind: "code-rm", tenant, name };
}
