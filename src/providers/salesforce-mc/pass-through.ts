import type { JsonObject } from '../../model/contact.js';
import { FORBIDDEN, isPlainObject, type MergeResult, mergePassThrough } from '../pass-through.js';

interface AttributeSetLike {
  name: string;
  items: Array<{ values: Array<{ name: string; value: unknown }> }>;
}

/**
 * `{attributeSets: {"<Set name>": {"<Attribute>": value}}}` (a compact form of the
 * wire's `attributeSets[].items[].values[]`, which nests deeper than GATEWAY_MAX_JSON_DEPTH allows):
 * a set the body lacks is appended, a set it has gets the extra values, and an attribute it
 * already carries is refused. Other keys merge as above.
 */
export function mergeAttributeSetPassThrough<T extends { attributeSets: AttributeSetLike[] }>(
  body: T,
  extra: JsonObject,
  field: string,
): MergeResult<T> {
  const { attributeSets, ...rest } = extra;
  const merged = mergePassThrough(body, rest as JsonObject, field);
  if (!merged.ok || attributeSets === undefined) {
    return merged;
  }
  const at = `${field}.attributeSets`;
  if (!isPlainObject(attributeSets)) {
    return {
      ok: false,
      field: at,
      message: `${at} must be an object of attribute sets: {"<Set name>": {"<Attribute>": value}}`,
    };
  }
  const out = merged.body;
  for (const [name, attributes] of Object.entries(attributeSets)) {
    const here = `${at}.${name}`;
    if (FORBIDDEN.has(name) || name.trim() === '' || !isPlainObject(attributes)) {
      return { ok: false, field: here, message: `${here} must be an object of attribute values` };
    }
    let set = out.attributeSets.find((s) => s.name.toLowerCase() === name.toLowerCase());
    if (set === undefined) {
      set = { name, items: [{ values: [] }] };
      out.attributeSets.push(set);
    }
    const target = set.items[0]!.values;
    for (const [attribute, value] of Object.entries(attributes)) {
      const f = `${here}.${attribute}`;
      if (target.some((v) => v.name.toLowerCase() === attribute.toLowerCase())) {
        return {
          ok: false,
          field: f,
          message: `${f} would overwrite an attribute the gateway maps for this write`,
        };
      }
      if (value !== null && typeof value === 'object') {
        return { ok: false, field: f, message: `${f} must be a string, number, boolean or null` };
      }
      target.push({ name: attribute, value });
    }
  }
  return { ok: true, body: out };
}
