/** One row of a tailed stream or table: column name → value (BIGINTs stay exact as bigint). */
export type TailRow = Record<string, unknown>;

/** Where tail's rows come from: a ksqlDB push query, or the topic read directly. */
export interface RowSource extends AsyncIterable<TailRow> {
  readonly columns: string[];
  /** Key columns, for --live (one line per key). */
  readonly keyColumns: string[];
  /** Called when the connection dropped and the source tries to reconnect (for up to timeoutMs), so the user is told. */
  onReconnecting?: (reason: string, timeoutMs: number) => void;
  /** Called once rows flow again after a reconnect. */
  onReconnected?: () => void;
  close(): Promise<void>;
}
