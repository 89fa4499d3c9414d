import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { keyOf, loadFlinkTemplates, parseJobName } from '../../src/engines/flink/templates.js';
import { rootCauseOf } from '../../src/flink-client/errors.js';
import { planTables } from '../../src/flink-client/jobs.js';
import { splitFlinkScript } from '../../src/flink-client/script.js';

/** The Flink pieces that need no server: templates, job names, error causes, plans and scripts. */
const TEMPLATES = new URL('../../templates/flink/', import.meta.url);
const render = { bootstrapServers: '127.0.0.1:9092' };
const dirs: string[] = [];

afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function editedTemplates(file: string, edit: (text: string) => string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'flink-templates-'));
  dirs.push(dir);
  await cp(TEMPLATES, dir, { recursive: true });
  await writeFile(join(dir, file), edit(await readFile(join(dir, file), 'utf8')));
  return dir;
}

describe('templates/flink', () => {
  it('has a job per INSERT with the tables it reads, named after its pipeline and fingerprint', async () => {
    const { tables, pipelines } = await loadFlinkTemplates(render);
    expect(tables.map((t) => [t.name, t.topic, t.connector])).toEqual([
      ['orders_placed', 'order_placed', 'kafka'],
      ['jobs_created', 'job_created', 'kafka'],
      ['job_status', 'job_status', 'kafka'],
      ['joblocation', 'joblocation', 'upsert-kafka'],
      ['vehicles', 'tradie_truck_location', 'kafka'],
      ['truck_tracker', 'truck_tracker', 'upsert-kafka'],
    ]);
    expect(pipelines.map((p) => [p.name, p.sources])).toEqual([
      ['job_status', ['orders_placed', 'jobs_created']],
      ['truck_tracker', ['joblocation', 'vehicles']],
    ]);
    for (const pipeline of pipelines) {
      expect(pipeline.tables.every((ddl) => ddl.includes("'properties.bootstrap.servers' = '127.0.0.1:9092'"))).toBe(
        true,
      );
      expect(parseJobName(pipeline.jobName)).toEqual({ pipeline: pipeline.name, fingerprint: pipeline.fingerprint });
    }
    expect(parseJobName('SELECT `t`.`a` FROM t')).toBeUndefined();
  });

  it('changes a fingerprint only when something its job is made of changes', async () => {
    const before = await loadFlinkTemplates(render);
    const fingerprint = (templates: typeof before, name: string) =>
      templates.pipelines.find((p) => p.name === name)!.fingerprint;
    const again = await loadFlinkTemplates(render);
    expect(fingerprint(again, 'job_status')).toBe(fingerprint(before, 'job_status'));
    const otherBroker = await loadFlinkTemplates({ bootstrapServers: '127.0.0.1:9093' });
    expect(fingerprint(otherBroker, 'job_status')).not.toBe(fingerprint(before, 'job_status'));

    // A table only truck_tracker reads: job_status's job is untouched.
    const edited = await loadFlinkTemplates(
      render,
      await editedTemplates('05-vehicles.sql', (text) => text.replace('STATE STRING', 'STATE VARCHAR(20)')),
    );
    expect(fingerprint(edited, 'job_status')).toBe(fingerprint(before, 'job_status'));
    expect(fingerprint(edited, 'truck_tracker')).not.toBe(fingerprint(before, 'truck_tracker'));
  });

  it("keys job_status by JOB_ID as ksqlDB's BIGINT and truck_tracker by its primary key", async () => {
    const { tables } = await loadFlinkTemplates(render);
    const byName = (name: string) => tables.find((t) => t.name === name)!;
    expect(keyOf(byName('job_status'))).toEqual({ name: 'JOB_ID', type: 'BIGINT' });
    expect(keyOf(byName('truck_tracker'))).toEqual({ name: 'JOB_ID', type: 'VARCHAR' });
    expect(keyOf(byName('orders_placed'))).toBeUndefined();
  });

  it('refuses a template statement that is neither a table, a SET nor an INSERT', async () => {
    const dir = await editedTemplates('01-orders-placed.sql', (text) => `${text}\nDROP TABLE orders_placed;\n`);
    await expect(loadFlinkTemplates(render, dir)).rejects.toThrow(
      /templates\/flink\/01-orders-placed\.sql:\d+: only CREATE TABLE, SET and INSERT belong here/,
    );
  });
});

describe('Flink errors, plans and scripts', () => {
  it('takes the deepest cause of a stack trace as the reason, and the position a cause gives', () => {
    const cause = rootCauseOf([
      'Internal server error.',
      [
        '<Exception on server side:',
        'org.apache.flink.table.gateway.api.utils.SqlGatewayException: Failed to fetchResults.',
        '\tat org.apache.flink.table.gateway.rest.handler.Handler.handle(Handler.java:91)',
        "Caused by: org.apache.flink.table.api.ValidationException: SQL validation failed. From line 1, column 15 to line 1, column 20: Object 'x' not found",
        "Caused by: org.apache.calcite.sql.validate.SqlValidatorException: Object 'x' not found",
        '\t... 12 more',
        'End of exception on server side>',
      ].join('\n'),
    ]);
    expect(cause).toEqual({
      message: "Object 'x' not found",
      exception: 'SqlValidatorException',
      position: { line: 1, column: 15 },
    });
    expect(rootCauseOf(['Internal server error.', 'the gateway is shutting down']).message).toBe(
      'the gateway is shutting down',
    );
  });

  it("reads the tables a job's plan scans and writes", () => {
    expect(
      planTables([
        '[1]:TableSourceScan(table=[[default_catalog, default_database, jobs_created, watermark=[-(ts, 900000:INTERVAL MINUTE)]]], fields=[job_id])<br/>',
        '[4]:TableSourceScan(table=[[default_catalog, default_database, orders_placed]], fields=[job_id])',
        'IntervalJoin[7] -> Calc[8] -> job_status[9]: Writer -> job_status[9]: Committer',
        'Sink(table=[default_catalog.default_database.truck_tracker], fields=[JOB_ID])',
      ]),
    ).toEqual({ sources: ['jobs_created', 'orders_placed'], sinks: ['job_status', 'truck_tracker'] });
  });

  it('splits a script into statements, keeping a statement set whole', () => {
    const script = [
      "SET 'parallelism.default' = '1';",
      "SELECT ';' AS semicolon; -- a comment; with one",
      'EXECUTE STATEMENT SET BEGIN',
      '  INSERT INTO a SELECT * FROM b;',
      '  INSERT INTO c SELECT * FROM d;',
      'END;',
      'SHOW JOBS',
    ].join('\n');
    const statements = splitFlinkScript(script);
    expect(statements.map((s) => [s.line, s.text.split('\n')[0]])).toEqual([
      [1, "SET 'parallelism.default' = '1';"],
      [2, "SELECT ';' AS semicolon;"],
      [3, 'EXECUTE STATEMENT SET BEGIN'],
      [7, 'SHOW JOBS;'],
    ]);
    expect(statements[2]!.text).toMatch(/INSERT INTO c SELECT \* FROM d;\nEND;$/);
  });
});
