import { readRows } from './file-rows';
import { EventRecord, RowResult, toEventRecord, toVideoRecord, VideoRecord } from './import-records';

async function* records<T>(
  file: string,
  build: (fields: Record<string, unknown>, now: number) => T | string,
  now: number,
): AsyncIterable<RowResult<T>> {
  for await (const row of readRows(file)) {
    if ('error' in row) {
      yield { file, line: row.line, error: row.error };
      continue;
    }
    const value = build(row.fields, now);
    yield typeof value === 'string' ? { file, line: row.line, error: value } : { file, line: row.line, records: [value] };
  }
}

/** A catalog file (JSONL or CSV, by extension), row by row. */
export function videoFileRows(file: string, now = Date.now()): AsyncIterable<RowResult<VideoRecord>> {
  return records(file, toVideoRecord, now);
}

/** A history file (JSONL or CSV, by extension), row by row. */
export function eventFileRows(file: string, now = Date.now()): AsyncIterable<RowResult<EventRecord>> {
  return records(file, toEventRecord, now);
}
