/** One client request through the VIP, as the traffic client reports it (one JSON line each). */
export interface RequestRecord {
  /** Wall-clock ms when the request started and when it finished or failed. */
  start: number;
  end: number;
  ok: boolean;
  /** Which real server answered (the page names it), when ok. */
  server?: string;
  /** Why it failed (timeout, ECONNREFUSED, HTTP status…), when not ok. */
  error?: string;
}

/** Parses one line of client output; anything malformed is null (and counted by the caller). */
export function parseRecordLine(line: string): RequestRecord | null {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null) return null;
  const o = v as Record<string, unknown>;
  if (typeof o.start !== 'number' || typeof o.end !== 'number' || typeof o.ok !== 'boolean') return null;
  const r: RequestRecord = { start: o.start, end: o.end, ok: o.ok };
  if (typeof o.server === 'string') r.server = o.server;
  if (typeof o.error === 'string') r.error = o.error;
  return r;
}
