import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KsqlDevServer } from '../../src/ksqldb-dev-server/index.js';
import {
  closeServerAndClient,
  eventually,
  kafkaClient,
  ksqlOk,
  parseDelimited,
  postJson,
  readTopic,
  queryCaughtUp,
  startServer,
  templateStatements,
  uniqueSuffix,
  type KafkaTestClient,
} from './ksqldb-server-support.js';

/** Independent haversine reference, R = 6371 km. */
function haversineKm(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const rad = (d: number) => (d * Math.PI) / 180;
  const dLat = rad(lat2 - lat1);
  const dLon = rad(lon2 - lon1);
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(rad(lat1)) * Math.cos(rad(lat2)) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371 * Math.atan2(Math.sqrt(h), Math.sqrt(1 - h));
}

/** ROUND(x, 2) with ties toward +infinity, on the decimal text of x. */
function round2(x: number): number {
  return Math.round(Number((x * 100).toPrecision(15))) / 100;
}

describe('ksqlDB dev server: truck_tracker (stream-table join + LATEST_BY_OFFSET, templates 04-06)', () => {
  const suffix = uniqueSuffix();
  const serviceId = `trucks${suffix}_`;
  let client: KafkaTestClient;
  let server: KsqlDevServer;

  beforeAll(async () => {
    client = await kafkaClient();
    server = await startServer(serviceId);
    // 04 and 05 create their 6-partition topics (PARTITIONS=6).
    await ksqlOk(server.url, templateStatements(suffix, ['04', '05', '06']), { 'auto.offset.reset': 'earliest' });
  });

  afterAll(() => closeServerAndClient(server, client, suffix));

  it('keeps the latest position per job with GEO_DISTANCE and the template ETA; unknown jobs yield nothing', async () => {
    const sites = { J1: { lat: -33.8688, long: 151.2093 }, J2: { lat: -37.8136, long: 144.9631 } };
    await client.producer.send({
      topic: `joblocation${suffix}`,
      messages: Object.entries(sites).map(([id, site]) => ({
        key: id,
        value: JSON.stringify({
          customername: `cust ${id}`,
          email: 'x@example.com',
          address: 'somewhere',
          dest_lat: site.lat,
          dest_long: site.long,
          reporting_time: Date.now(),
        }),
      })),
    });
    // The table side must hold the job sites before vehicles arrive (a stream-table join never waits for it).
    await queryCaughtUp(server.url, client, { serviceId, sink: 'TRUCK_TRACKER', inputs: [`joblocation${suffix}`] });
    const path = [
      { lat: -33.95, long: 151.05 },
      { lat: -33.91, long: 151.12 },
      { lat: -33.88, long: 151.19 },
    ];
    for (const position of path) {
      await client.producer.send({
        topic: `tradie_truck_location${suffix}`,
        messages: [{ key: 'V1', value: JSON.stringify({ job_id: 'J1', state: 'MOVING', ...position }) }],
      });
    }
    await client.producer.send({
      topic: `tradie_truck_location${suffix}`,
      messages: [
        { key: 'V2', value: JSON.stringify({ job_id: 'J2', state: 'MOVING', lat: -37.7, long: 145.1 }) },
        { key: 'V9', value: JSON.stringify({ job_id: 'J404', state: 'LOST', lat: -30, long: 150 }) },
      ],
    });

    const last = path[path.length - 1]!;
    const pull = async (sql: string) => {
      const response = await postJson(server.url, '/query-stream', { sql });
      expect(response.status).toBe(200);
      return parseDelimited(response.text);
    };
    const j1 = await eventually(
      async () => {
        const { rows } = await pull(`SELECT * FROM truck_tracker WHERE job_id = 'J1';`);
        return rows.length === 1 && rows[0]![2] === last.lat ? rows[0] : undefined;
      },
      30_000,
      'the latest J1 position',
    );
    const { header } = await pull(`SELECT * FROM truck_tracker WHERE job_id = 'J1';`);
    expect(header.columnNames).toEqual([
      'JOB_ID',
      'VEHICLE_ID',
      'LAT',
      'LONG',
      'DEST_LAT',
      'DEST_LONG',
      'DISTANCE_FROM_DESTINATION',
      'ETA_SECONDS',
    ]);
    expect(header.columnTypes).toEqual([
      'STRING',
      'STRING',
      'DOUBLE',
      'DOUBLE',
      'DOUBLE',
      'DOUBLE',
      'DOUBLE',
      'DOUBLE',
    ]);
    const [jobId, vehicleId, lat, long, destLat, destLong, distance, eta] = j1 as [
      string,
      string,
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    expect([jobId, vehicleId, lat, long, destLat, destLong]).toEqual([
      'J1',
      'V1',
      last.lat,
      last.long,
      sites.J1.lat,
      sites.J1.long,
    ]);
    expect(Math.abs(distance - round2(haversineKm(last.lat, last.long, sites.J1.lat, sites.J1.long)))).toBeLessThan(
      1e-9,
    );
    const expectedEta = round2(
      (Math.max(Math.abs(last.lat - sites.J1.lat), Math.abs(last.long - sites.J1.long)) / 0.005) * 2,
    );
    expect(Math.abs(eta - expectedEta)).toBeLessThan(1e-9);

    const all = await eventually(
      async () => {
        const { rows } = await pull('SELECT * FROM truck_tracker;');
        return rows.length >= 2 ? rows : undefined;
      },
      30_000,
      'both jobs',
    );
    // The unknown job's report has been processed too once the query is at the end of its input, and left nothing.
    const inputs = [`joblocation${suffix}`, `tradie_truck_location${suffix}`];
    await queryCaughtUp(server.url, client, { serviceId, sink: 'TRUCK_TRACKER', inputs });
    const final = (await pull('SELECT job_id, vehicle_id FROM truck_tracker;')).rows;
    expect(final.map((r) => r[0]).sort()).toEqual(['J1', 'J2']);
    expect(all.length).toBe(2);

    // The sink topic is keyed by the job id as plain UTF-8 and never mentions the unknown job.
    const records = await readTopic(client, `truck_tracker${suffix}`);
    const keys = new Set(records.map((r) => r.key!.toString('utf8')));
    expect([...keys].sort()).toEqual(['J1', 'J2']);
    const lastJ1 = records.filter((r) => r.key!.toString('utf8') === 'J1').at(-1)!;
    expect(JSON.parse(lastJ1.value!.toString('utf8'))).toMatchObject({
      VEHICLE_ID: 'V1',
      LAT: last.lat,
      LONG: last.long,
    });
  });

  it('after a restart serves the same table and keeps joining new positions', async () => {
    await server.close();
    server = await startServer(serviceId);
    const pull = async (sql: string) =>
      parseDelimited((await postJson(server.url, '/query-stream', { sql })).text).rows;
    // Restored from the sink topic, before any new input arrives.
    expect((await pull('SELECT job_id, vehicle_id, lat FROM truck_tracker;')).sort()).toEqual([
      ['J1', 'V1', -33.88],
      ['J2', 'V2', -37.7],
    ]);
    // The table side (joblocation) was rebuilt too: a new position for J2 still finds its job site.
    await client.producer.send({
      topic: `tradie_truck_location${suffix}`,
      messages: [{ key: 'V7', value: JSON.stringify({ job_id: 'J2', lat: -37.75, long: 145.0 }) }],
    });
    const j2 = await eventually(
      async () => {
        const rows = await pull("SELECT * FROM truck_tracker WHERE job_id = 'J2';");
        return rows[0]?.[1] === 'V7' ? rows[0] : undefined;
      },
      30_000,
      'the new J2 position',
    );
    expect(j2.slice(0, 6)).toEqual(['J2', 'V7', -37.75, 145.0, -37.8136, 144.9631]);
  });
});
