// A real DNS server (UDP, on loopback) standing where the cluster DNS Service's IP would be: kwok's
// pods run nothing, so this answers for them, and only while the DNS Deployment has an available
// replica, as a Service answers only while it has ready endpoints. Every A question gets one answer
// (10.96.0.1, TTL 0); without an available replica every question gets SERVFAIL. The agents' real
// DNS probes resolve through it, so their telemetry follows the add-on's state in the API.
import { createSocket, type Socket } from 'node:dgram';
import type { KubeApi } from '../../../ingest/kube/api-client.ts';

export interface DnsFront {
  /** "127.0.0.1:port", as agent.probes.dns[].resolver takes it. */
  resolver: string;
  /** Whether it answers now (the last poll saw an available replica). */
  answering(): boolean;
  stop(): Promise<void>;
}

/** The end of the question section: QNAME labels, then QTYPE and QCLASS. */
function questionEnd(msg: Buffer): number {
  let i = 12;
  while (i < msg.length && msg[i] !== 0) i += msg[i]! + 1;
  return i + 5;
}

function answer(query: Buffer, ok: boolean): Buffer {
  const end = questionEnd(query);
  const header = Buffer.alloc(12);
  query.copy(header, 0, 0, 2); // id
  // QR=1, opcode 0, RD copied, RA=1; rcode 0 (NOERROR) or 2 (SERVFAIL).
  header.writeUInt16BE(0x8000 | (query.readUInt16BE(2) & 0x0100) | 0x0080 | (ok ? 0 : 2), 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(ok ? 1 : 0, 6);
  const question = query.subarray(12, end);
  if (!ok) return Buffer.concat([header, question]);
  // Name as a pointer to the question's (offset 12), type A, class IN, TTL 0, 4 bytes of address.
  const rr = Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 10, 96, 0, 1]);
  return Buffer.concat([header, question, rr]);
}

export async function startDnsFront(api: KubeApi, namespace: string, deployment: string, o: { pollMs?: number } = {}): Promise<DnsFront> {
  let available = false;
  let stopped = false;
  const poll = (async () => {
    while (!stopped) {
      const res = await api.send<{ status?: { availableReplicas?: number } }>('GET', `/apis/apps/v1/namespaces/${namespace}/deployments/${deployment}`).catch(() => null);
      available = !!res?.ok && (res.value.status?.availableReplicas ?? 0) > 0;
      await new Promise((r) => setTimeout(r, o.pollMs ?? 200));
    }
  })();
  const sock: Socket = createSocket('udp4');
  sock.on('message', (msg, rinfo) => {
    if (msg.length < 17) return;
    sock.send(answer(msg, available), rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
  return {
    resolver: `127.0.0.1:${sock.address().port}`,
    answering: () => available,
    async stop() {
      stopped = true;
      await poll;
      await new Promise<void>((resolve) => sock.close(() => resolve()));
    },
  };
}
