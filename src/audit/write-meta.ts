// Who and what a write comes from, passed from the HTTP edge to the actions and their audit rows.

export interface WriteMeta {
  /** The acting identity (the token's subject, or X-Actor with AUTH_MODE=off); null when unknown. */
  readonly actor: string | null;
  /** The request's X-Request-Id (given or generated). */
  readonly requestId: string | null;
  /** The If-Match precondition the record must meet, checked under its row lock. */
  readonly ifMatch?: string | null;
  /** Set when the write undoes an audit entry: it is audited as a `revert` of that entry. */
  readonly reverts?: string;
}

/** Writes with no request behind them (tests, scripts). */
export const NO_META: WriteMeta = { actor: null, requestId: null };
