/** What an API key may do. Each GraphQL field names the scope it needs (see `src/schema/`). */
export const SCOPES = ['contacts:read', 'contacts:write'] as const;

export type Scope = (typeof SCOPES)[number];

/** Who is calling: a configured key, or nobody when no keys are configured (loopback only). */
export interface Caller {
  /** The key's `name` from `GATEWAY_API_KEYS`; `null` for the anonymous loopback caller. */
  keyName: string | null;
  scopes: ReadonlySet<Scope>;
}

/** With no keys configured the gateway only listens on loopback and the local caller may do everything. */
export const ANONYMOUS_CALLER: Caller = Object.freeze({
  keyName: null,
  scopes: new Set<Scope>(SCOPES),
});
