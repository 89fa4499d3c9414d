import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/core/config.js';
import { ExitCode } from '../../src/core/errors.js';
import { emptyState, type StateDocument } from '../../src/core/state-store.js';
import { resolveKsqlTarget } from '../../src/ksql-client/target.js';

const dir = mkdtempSync(join(tmpdir(), 'ksql-target-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const config = (env: Record<string, string>) => loadConfig({ cwd: dir, env });

function stateWithKey(endpoint: string): StateDocument {
  const state = emptyState();
  state.resources['ksqldb-api-key'] = {
    kind: 'ksqldb-api-key',
    id: 'KSQLKEY123',
    target: 'cloud',
    createdAt: new Date(0).toISOString(),
    attributes: { endpoint },
    secrets: { secret: 'the-ksql-secret' },
  };
  return state;
}

describe('which ksqlDB the CLI talks to', () => {
  it('local target without ksqldbUrl: the local stack port', async () => {
    const target = await resolveKsqlTarget(
      await config({ MARKETPLACE_TARGET: 'local', MARKETPLACE_LOCAL_KSQLDB_PORT: '18999' }),
    );
    expect(target.url).toBe('http://127.0.0.1:18999');
    expect(target.auth).toBeUndefined();
    expect(target.unreachableHint).toContain('marketplace local start');
  });

  it('configured ksqldbUrl wins over the local stack', async () => {
    const target = await resolveKsqlTarget(
      await config({ MARKETPLACE_TARGET: 'local', MARKETPLACE_KSQLDB_URL: 'http://10.0.0.5:8088' }),
    );
    expect(target.url).toBe('http://10.0.0.5:8088');
  });

  it('cloud target: endpoint and ksqlDB API key from state, the key named in the source', async () => {
    const target = await resolveKsqlTarget(await config({ MARKETPLACE_TARGET: 'cloud' }), async () =>
      stateWithKey('https://pksqlc-abc.us-east-2.aws.confluent.cloud:443'),
    );
    expect(target.url).toBe('https://pksqlc-abc.us-east-2.aws.confluent.cloud:443');
    expect(target.auth).toMatchObject({ username: 'KSQLKEY123', password: 'the-ksql-secret' });
    expect(target.auth?.source).toContain('KSQLKEY123');
  });

  it('cloud target without the state record: a usage error saying to run up', async () => {
    const error = await resolveKsqlTarget(await config({ MARKETPLACE_TARGET: 'cloud' }), async () =>
      emptyState(),
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({ exitCode: ExitCode.usage });
    expect((error as Error).message).toMatch(/no ksqlDB endpoint and API key/);
    expect((error as { hint: string }).hint).toContain('marketplace up');
  });
});
