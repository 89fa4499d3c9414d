import { Kafka, logLevel, type Admin } from 'kafkajs';
import { lastingAdmin } from '../../../src/kafka/lasting-admin.js';
import { createTopicsAndWait } from '../../../src/kafka/topics.js';
import { EmulatorHttpError } from './http-error.js';
import type { Call } from './router.js';
import type { DataPlaneModule } from './server.js';
import type { AclRecord, ClusterRecord } from './state.js';

const BASE = '/kafka/v3/clusters/{cluster_id}';
/** Confluent Cloud only accepts its own replication factor; the local single broker stores 1. */
const CLOUD_REPLICATION_FACTOR = 3;

/**
 * Kafka REST v3 topics and ACLs. Topics are real topics on the local broker (kafkajs admin over PLAINTEXT); ACLs
 * are kept by the emulator (the local broker runs without an authorizer) and enforced on the topic calls.
 */
export const kafkaRestModule: DataPlaneModule = async (emulator, options) => {
  const { router, state } = emulator;
  let admin: Admin | undefined;
  const getAdmin = async (): Promise<Admin> => {
    if (!options.kafka)
      throw new EmulatorHttpError(
        501,
        'not_implemented',
        'This emulator was started without a Kafka backend (no --kafka-plaintext)',
        { kafkaErrorCode: 501 },
      );
    if (!admin) {
      // Every cluster's topics come and go on one broker for as long as the emulator runs.
      const created = lastingAdmin(
        new Kafka({
          clientId: 'confluent-cloud-emulator',
          brokers: [options.kafka.plaintext],
          logLevel: logLevel.NOTHING,
        }),
      );
      await created.connect();
      admin = created;
    }
    return admin;
  };

  // All clusters share one broker: remember which topics each cluster created, so deleting the cluster deletes them
  // (as deleting a Confluent Cloud cluster does) without touching topics made some other way.
  const createdBy = new Map<string, Set<string>>();
  emulator.ownTopic = (clusterId, name) => {
    if (!createdBy.has(clusterId)) createdBy.set(clusterId, new Set());
    createdBy.get(clusterId)!.add(name);
  };
  /** Topics whose delete is still running, per cluster: name → when the name can be used again. */
  const deleting = new Map<string, number>();
  const deletingUntil = (clusterId: string, name: string, now: number) => {
    const until = deleting.get(`${clusterId}/${name}`);
    if (until !== undefined && until <= now) deleting.delete(`${clusterId}/${name}`);
    return until !== undefined && until > now ? until : undefined;
  };
  emulator.clusterDeletedHooks.push(async (deleted) => {
    const names = [...(createdBy.get(deleted.id) ?? [])];
    createdBy.delete(deleted.id);
    if (names.length === 0) return;
    const kafka = await getAdmin();
    const existing = new Set(await kafka.listTopics());
    const topics = names.filter((name) => existing.has(name));
    if (topics.length > 0) await kafka.deleteTopics({ topics });
  });

  const cluster = (call: Call): ClusterRecord => {
    const found = state.clusters.get(call.params['cluster_id']!);
    if (!found || call.now < found.readyAt || found.deletion)
      throw new EmulatorHttpError(404, 'not_found', `Cluster ${call.params['cluster_id']} cannot be found.`, {
        kafkaErrorCode: 404,
      });
    return found;
  };
  const principalOf = (call: Call) => (call.caller.kind === 'resource' ? `User:${call.caller.key.ownerId}` : '');
  const isAdmin = (call: Call, target: ClusterRecord) =>
    call.caller.kind === 'resource' && state.canAdministerCluster(call.caller.key.ownerId, target, call.now);
  const aclAllows = (call: Call, target: ClusterRecord, resourceType: string, name: string, operations: string[]) =>
    state.acls.some(
      (acl) =>
        acl.clusterId === target.id &&
        acl.permission === 'ALLOW' &&
        acl.principal === principalOf(call) &&
        acl.resource_type === resourceType &&
        (acl.operation === 'ALL' || operations.includes(acl.operation)) &&
        (acl.resource_name === '*' ||
          (acl.pattern_type === 'PREFIXED' ? name.startsWith(acl.resource_name) : acl.resource_name === name)),
    );
  const forbid = () => {
    throw new EmulatorHttpError(403, 'forbidden', 'Request is not authorized', { kafkaErrorCode: 40301 });
  };
  const requireAdmin = (call: Call, target: ClusterRecord) => {
    if (!isAdmin(call, target)) forbid();
  };

  const url = (path: string) => `${emulator.url}${path}`;
  const topicView = (clusterId: string, name: string, partitions: number) => {
    const self = url(`/kafka/v3/clusters/${clusterId}/topics/${encodeURIComponent(name)}`);
    return {
      kind: 'KafkaTopic',
      metadata: { self, resource_name: `crn:///kafka=${clusterId}/topic=${name}` },
      cluster_id: clusterId,
      topic_name: name,
      is_internal: name.startsWith('__'),
      replication_factor: CLOUD_REPLICATION_FACTOR,
      partitions_count: partitions,
      partitions: { related: `${self}/partitions` },
      configs: { related: `${self}/configs` },
      partition_reassignments: { related: `${self}/partitions/-/reassignment` },
      authorized_operations: [],
    };
  };
  const describeTopics = async (names?: string[]) => {
    const kafka = await getAdmin();
    const metadata = await kafka.fetchTopicMetadata(names ? { topics: names } : undefined);
    return metadata.topics;
  };

  router.add({
    method: 'GET',
    template: `${BASE}/topics`,
    auth: 'kafka-cluster',
    handler: async (call) => {
      const target = cluster(call);
      const admin = isAdmin(call, target);
      if (!admin && !state.acls.some((acl) => acl.clusterId === target.id && acl.principal === principalOf(call)))
        forbid();
      const topics = (await describeTopics())
        .filter((t) => deletingUntil(target.id, t.name, call.now) === undefined)
        .filter(
          (t) =>
            admin ||
            aclAllows(call, target, 'TOPIC', t.name, [
              'DESCRIBE',
              'READ',
              'WRITE',
              'CREATE',
              'DELETE',
              'ALTER',
              'DESCRIBE_CONFIGS',
              'ALTER_CONFIGS',
            ]),
        )
        .sort((a, b) => a.name.localeCompare(b.name))
        .map((t) => topicView(target.id, t.name, t.partitions.length));
      return {
        status: 200,
        body: {
          kind: 'KafkaTopicList',
          metadata: { self: url(`/kafka/v3/clusters/${target.id}/topics`), next: null },
          data: topics,
        },
      };
    },
  });

  router.add({
    method: 'POST',
    template: `${BASE}/topics`,
    auth: 'kafka-cluster',
    handler: async (call) => {
      const target = cluster(call);
      const input = call.body as {
        topic_name: string;
        partitions_count?: number;
        replication_factor?: number;
        configs?: { name: string; value?: string | null }[];
        validate_only?: boolean;
      };
      if (
        !isAdmin(call, target) &&
        !aclAllows(call, target, 'TOPIC', input.topic_name, ['CREATE']) &&
        !aclAllows(call, target, 'CLUSTER', 'kafka-cluster', ['CREATE'])
      )
        forbid();
      if (!/^[a-zA-Z0-9._-]{1,249}$/.test(input.topic_name)) {
        throw new EmulatorHttpError(
          400,
          'bad_request',
          `Topic name "${input.topic_name}" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'`,
          { kafkaErrorCode: 40002 },
        );
      }
      if (input.replication_factor !== undefined && input.replication_factor !== CLOUD_REPLICATION_FACTOR) {
        throw new EmulatorHttpError(
          400,
          'bad_request',
          `Replication factor ${input.replication_factor} is not allowed: omit it or use ${CLOUD_REPLICATION_FACTOR}.`,
          { kafkaErrorCode: 40002 },
        );
      }
      const partitions = input.partitions_count ?? 6;
      if (!Number.isInteger(partitions) || partitions < 1 || partitions > 4096) {
        throw new EmulatorHttpError(
          400,
          'bad_request',
          `Number of partitions must be between 1 and 4096, not ${partitions}.`,
          { kafkaErrorCode: 40002 },
        );
      }
      if (deletingUntil(target.id, input.topic_name, call.now) !== undefined && input.validate_only !== true) {
        throw new EmulatorHttpError(400, 'bad_request', `Topic '${input.topic_name}' is marked for deletion.`, {
          kafkaErrorCode: 40002,
        });
      }
      const kafka = await getAdmin();
      const spec = {
        topic: input.topic_name,
        numPartitions: partitions,
        replicationFactor: 1,
        configEntries: (input.configs ?? [])
          .filter((c) => c.value != null)
          .map((c) => ({ name: c.name, value: String(c.value) })),
      };
      let created: boolean;
      try {
        created = await kafka.createTopics({
          validateOnly: input.validate_only === true,
          waitForLeaders: false,
          topics: [spec],
        });
      } catch (error) {
        const detail = (error as { errors?: { message?: string; type?: string }[] }).errors?.[0];
        const beingDeleted = /marked for deletion/i.test(detail?.message ?? '');
        const propagating = ['UNKNOWN_TOPIC_OR_PARTITION', 'LEADER_NOT_AVAILABLE'].includes(
          (error as { type?: string }).type ?? detail?.type ?? '',
        );
        if (detail?.type === 'TOPIC_ALREADY_EXISTS' && !beingDeleted) created = false;
        // The name's previous topic is still going away: createTopicsAndWait below creates it once it is gone.
        else if ((beingDeleted || propagating) && input.validate_only !== true) created = true;
        else
          throw new EmulatorHttpError(400, 'bad_request', detail?.message ?? (error as Error).message, {
            kafkaErrorCode: 40002,
          });
      }
      // The local broker needs a moment after a create (longer right after the same name was deleted) before every
      // partition has a leader, and answers UNKNOWN_TOPIC_OR_PARTITION meanwhile; Confluent Cloud hides that.
      if (created && input.validate_only !== true) await createTopicsAndWait(kafka, [spec]);
      if (!created && input.validate_only !== true) {
        throw new EmulatorHttpError(400, 'bad_request', `Topic '${input.topic_name}' already exists.`, {
          kafkaErrorCode: 40002,
        });
      }
      if (input.validate_only !== true) {
        if (!createdBy.has(target.id)) createdBy.set(target.id, new Set());
        createdBy.get(target.id)!.add(input.topic_name);
      }
      // Confluent Cloud answers a create before the topic has partitions: both counts read 0 (a GET shows them).
      return { status: 201, body: { ...topicView(target.id, input.topic_name, 0), replication_factor: 0 } };
    },
  });

  router.add({
    method: 'GET',
    template: `${BASE}/topics/{topic_name}`,
    auth: 'kafka-cluster',
    handler: async (call) => {
      const target = cluster(call);
      const name = call.params['topic_name']!;
      if (!isAdmin(call, target) && !aclAllows(call, target, 'TOPIC', name, ['DESCRIBE', 'READ', 'WRITE'])) forbid();
      const kafka = await getAdmin();
      if (deletingUntil(target.id, name, call.now) !== undefined || !(await kafka.listTopics()).includes(name)) {
        throw new EmulatorHttpError(404, 'not_found', 'This server does not host this topic-partition.', {
          kafkaErrorCode: 40403,
        });
      }
      const [topic] = await describeTopics([name]);
      return { status: 200, body: topicView(target.id, name, topic?.partitions.length ?? 0) };
    },
  });

  router.add({
    method: 'DELETE',
    template: `${BASE}/topics/{topic_name}`,
    auth: 'kafka-cluster',
    handler: async (call) => {
      const target = cluster(call);
      const name = call.params['topic_name']!;
      if (!isAdmin(call, target) && !aclAllows(call, target, 'TOPIC', name, ['DELETE'])) forbid();
      const kafka = await getAdmin();
      if (deletingUntil(target.id, name, call.now) !== undefined || !(await kafka.listTopics()).includes(name)) {
        throw new EmulatorHttpError(404, 'not_found', 'This server does not host this topic-partition.', {
          kafkaErrorCode: 40403,
        });
      }
      await kafka.deleteTopics({ topics: [name] });
      createdBy.get(target.id)?.delete(name);
      // The delete runs on asynchronously: until it has finished, the name cannot be created again.
      deleting.set(`${target.id}/${name}`, call.now + emulator.durations.topicDeleteMs);
      return { status: 204 };
    },
  });

  // ---- ACLs ----------------------------------------------------------------------------------------------------------
  const aclView = (acl: AclRecord) => {
    const { clusterId, ...fields } = acl;
    const q = new URLSearchParams(fields as unknown as Record<string, string>).toString();
    return {
      kind: 'KafkaAcl',
      metadata: { self: url(`/kafka/v3/clusters/${clusterId}/acls?${q}`) },
      cluster_id: clusterId,
      ...fields,
    };
  };
  const validateAcl = (input: Record<string, string>): void => {
    const checks: [string, string[]][] = [
      ['resource_type', ['TOPIC', 'GROUP', 'CLUSTER', 'TRANSACTIONAL_ID', 'DELEGATION_TOKEN']],
      ['pattern_type', ['LITERAL', 'PREFIXED']],
      [
        'operation',
        [
          'ALL',
          'READ',
          'WRITE',
          'CREATE',
          'DELETE',
          'ALTER',
          'DESCRIBE',
          'CLUSTER_ACTION',
          'DESCRIBE_CONFIGS',
          'ALTER_CONFIGS',
          'IDEMPOTENT_WRITE',
        ],
      ],
      ['permission', ['ALLOW', 'DENY']],
    ];
    for (const [field, allowed] of checks) {
      if (!allowed.includes(input[field]!))
        throw new EmulatorHttpError(400, 'bad_request', `${field} must be one of ${allowed.join(', ')}`, {
          kafkaErrorCode: 40002,
        });
    }
    if (input['resource_type'] === 'CLUSTER' && input['resource_name'] !== 'kafka-cluster') {
      throw new EmulatorHttpError(400, 'bad_request', 'The only valid name for the CLUSTER resource is kafka-cluster', {
        kafkaErrorCode: 40002,
      });
    }
    if (!/^User:\S+$/.test(input['principal'] ?? ''))
      throw new EmulatorHttpError(400, 'bad_request', 'principal must look like User:sa-…', { kafkaErrorCode: 40002 });
  };
  const addAcl = (target: ClusterRecord, input: Record<string, string>) => {
    validateAcl(input);
    const acl: AclRecord = {
      clusterId: target.id,
      resource_type: input['resource_type']!,
      resource_name: input['resource_name']!,
      pattern_type: input['pattern_type']!,
      principal: input['principal']!,
      host: input['host']!,
      operation: input['operation']!,
      permission: input['permission']!,
    };
    const same = (a: AclRecord) => (Object.keys(acl) as (keyof AclRecord)[]).every((key) => a[key] === acl[key]);
    if (!state.acls.some(same)) state.acls.push(acl);
  };
  const matches = (acl: AclRecord, query: URLSearchParams) =>
    (['resource_type', 'resource_name', 'pattern_type', 'principal', 'host', 'operation', 'permission'] as const).every(
      (field) => {
        const wanted = query.get(field);
        if (!wanted || wanted === 'ANY') return true;
        if (field === 'pattern_type' && wanted === 'MATCH') return true;
        return acl[field] === wanted;
      },
    );

  router.add({
    method: 'POST',
    template: `${BASE}/acls`,
    auth: 'kafka-cluster',
    handler: (call) => {
      const target = cluster(call);
      requireAdmin(call, target);
      addAcl(target, call.body as Record<string, string>);
      return { status: 201 };
    },
  });
  router.add({
    method: 'POST',
    template: `${BASE}/acls:batch`,
    auth: 'kafka-cluster',
    handler: (call) => {
      const target = cluster(call);
      requireAdmin(call, target);
      const entries = (call.body as { data: Record<string, string>[] }).data;
      for (const entry of entries) validateAcl(entry);
      for (const entry of entries) addAcl(target, entry);
      return { status: 201 };
    },
  });
  router.add({
    method: 'GET',
    template: `${BASE}/acls`,
    auth: 'kafka-cluster',
    handler: (call) => {
      const target = cluster(call);
      requireAdmin(call, target);
      const data = state.acls.filter((acl) => acl.clusterId === target.id && matches(acl, call.query)).map(aclView);
      return {
        status: 200,
        body: {
          kind: 'KafkaAclList',
          metadata: { self: url(`/kafka/v3/clusters/${target.id}/acls`), next: null },
          data,
        },
      };
    },
  });
  router.add({
    method: 'DELETE',
    template: `${BASE}/acls`,
    auth: 'kafka-cluster',
    handler: (call) => {
      const target = cluster(call);
      requireAdmin(call, target);
      if (!call.query.get('resource_type') || call.query.get('resource_type') === 'UNKNOWN') {
        throw new EmulatorHttpError(400, 'bad_request', 'resource_type cannot be unspecified or UNKNOWN', {
          kafkaErrorCode: 400,
        });
      }
      const removed = state.acls.filter((acl) => acl.clusterId === target.id && matches(acl, call.query));
      for (const acl of removed) state.acls.splice(state.acls.indexOf(acl), 1);
      return { status: 200, body: { data: removed.map(aclView) } };
    },
  });

  return async () => {
    await admin?.disconnect();
  };
};
