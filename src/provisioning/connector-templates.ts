import { readFileSync } from 'node:fs';

export type ConnectorTemplate = 'mongodb-atlas-sink' | 'mongodb-sink-local';

/** A connector config from templates/connectors with every ${name} filled in; a missing value is a bug. */
export function renderConnectorConfig(
  template: ConnectorTemplate,
  values: Record<string, string>,
): Record<string, string> {
  const raw = JSON.parse(
    readFileSync(new URL(`../../templates/connectors/${template}.json`, import.meta.url), 'utf8'),
  ) as {
    config: Record<string, string>;
  };
  const rendered: Record<string, string> = {};
  for (const [key, value] of Object.entries(raw.config)) {
    rendered[key] = value.replace(/\$\{(\w+)\}/g, (_, name: string) => {
      const filled = values[name];
      if (filled === undefined) throw new Error(`connector template ${template}: no value for \${${name}}`);
      return filled;
    });
  }
  return rendered;
}
