import { ProviderEnum } from './enums.js';

/**
 * Options many fields share, so that each such field reads on one line:
 * `createdAt: t.expose('createdAt', at('When it was queued.'))`.
 */

/** A `DateTime` field. */
export const at = (description: string) => ({ type: 'DateTime' as const, description });

/** A nullable `DateTime` field (null: not yet, or not any more). */
export const maybeAt = (description: string) => ({
  type: 'DateTime' as const,
  nullable: true as const,
  description,
});

/** A nullable field of a built-in scalar (`t.exposeString('remoteId', maybe('…'))`). */
export const maybe = (description: string) => ({ nullable: true as const, description });

/** A `Provider` field. */
export const provider = (description = 'The provider.') => ({ type: ProviderEnum, description });

/**
 * A nullable field read from the parent's `key`, absent read as null:
 * `city: t.string(orNull('city', 'City or town.'))`, or spread beside a `type`.
 */
export function orNull<K extends string>(key: K, description: string) {
  return {
    nullable: true as const,
    description,
    resolve: <P extends { [k in K]?: unknown }>(parent: P) => parent[key] ?? null,
  };
}

/** A field of `type` (`t.expose('status', of(WriteStatusEnum, 'Where it stands.'))`). */
export const of = <T>(type: T, description: string) => ({ type, description });

/** A nullable field of `type`. */
export const maybeOf = <T>(type: T, description: string) => ({
  type,
  nullable: true as const,
  description,
});

/** A list of `type`. */
export const listOf = <T>(type: T, description: string) => ({ type: [type] as [T], description });

/** A page of a list read forward: its items, and whether more follow. */
export interface Page<T> {
  items: T[];
  hasMore: boolean;
}
