import type { InputTopic, RecordSink } from '../../src/producers/records.js';

/** A generated record as text. */
export interface TextRecord {
  topic: InputTopic;
  key: string;
  value: string;
  timestamp: number;
}

/** A RecordSink that keeps every record it is handed, as text, in `records`. */
export function recordCollector(): { sink: RecordSink; records: TextRecord[] } {
  const records: TextRecord[] = [];
  const sink: RecordSink = (topic, bytes, keyEnd, valueEnd, timestamp) => {
    records.push({
      topic,
      key: bytes.toString('utf8', 0, keyEnd),
      value: bytes.toString('utf8', keyEnd, valueEnd),
      timestamp,
    });
  };
  return { sink, records };
}
