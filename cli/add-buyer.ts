// `partner-orders policy add-buyer <caller>`: makes a caller a member of a group (`buyers` by default) in
// policies/entities.json, the edit that lets someone buy on a deployed stack (which permits nobody until then). It
// only edits the file; `npm run deploy` puts it in Verified Permissions with the functions.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatUid, principalOf } from '../functions/shared/policy/model.js';

interface EntityUid {
  type: string;
  id: string;
}
interface Entity {
  uid: EntityUid;
  attrs: Record<string, unknown>;
  parents: EntityUid[];
}

export interface AddBuyer {
  /** Who: a caller as callerFrom (cli/policy.ts) names it. */
  caller: string;
  group: string;
  dir: string;
}

const same = (a: EntityUid, b: EntityUid) => a.type === b.type && a.id === b.id;

/** Adds the membership (once) and writes the file back, one entity a line; says what changed. */
export function addBuyer({ caller, group, dir }: AddBuyer): { file: string; principal: string; changed: boolean } {
  const file = join(dir, 'entities.json');
  const entities = JSON.parse(readFileSync(file, 'utf8')) as Entity[];
  const groupUid = { type: 'PartnerOrders::Group', id: group };
  if (!entities.some((e) => same(e.uid, groupUid))) {
    throw new Error(
      `${file} has no group '${group}' (groups: ${entities
        .filter((e) => e.uid.type === groupUid.type)
        .map((e) => e.uid.id)
        .join(', ')})`,
    );
  }
  const uid = principalOf(caller).uid;
  let entity = entities.find((e) => same(e.uid, uid));
  if (!entity) {
    entity = { uid, attrs: {}, parents: [] };
    entities.push(entity);
  }
  const changed = !entity.parents.some((p) => same(p, groupUid));
  if (changed) entity.parents.push(groupUid);
  writeFileSync(file, `[\n${entities.map((e) => `  ${inline(e)}`).join(',\n')}\n]\n`);
  return { file, principal: formatUid(uid), changed };
}

/** One entity on one line, spaced as the file is written: `{ "uid": { "type": "…", "id": "…" }, "attrs": {}, … }`. */
function inline(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(inline).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).map(([key, item]) => `${JSON.stringify(key)}: ${inline(item)}`);
    return entries.length === 0 ? '{}' : `{ ${entries.join(', ')} }`;
  }
  return JSON.stringify(value);
}
