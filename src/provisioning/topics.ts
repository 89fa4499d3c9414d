import { readFileSync } from 'node:fs';

export interface TopicSpec {
  name: string;
  partitions: number;
  role: 'input' | 'output';
  configs: Record<string, string>;
}

let cached: TopicSpec[] | undefined;

/** The demo's topics, from templates/topics.json (shipped with the package). */
export function demoTopics(): TopicSpec[] {
  cached ??= (
    JSON.parse(readFileSync(new URL('../../templates/topics.json', import.meta.url), 'utf8')) as { topics: TopicSpec[] }
  ).topics;
  return cached;
}
