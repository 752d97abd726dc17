// A real (tiny) DNS server on UDP 127.0.0.1 answering A queries from a fixed table, NXDOMAIN
// otherwise. Enough wire format (RFC 1035 4.1) for c-ares to resolve against it.
import { createSocket, type Socket } from 'node:dgram';
import type { AddressInfo } from 'node:net';

export class TinyDnsServer {
  private socket: Socket | undefined;
  port = 0;
  queries = 0;
  constructor(private readonly records: Record<string, string[]>) {}

  async start(): Promise<void> {
    const socket = createSocket('udp4');
    socket.on('message', (msg, rinfo) => {
      this.queries++;
      const reply = this.answer(msg);
      if (reply) socket.send(reply, rinfo.port, rinfo.address);
    });
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
    this.socket = socket;
    this.port = (socket.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    const s = this.socket;
    this.socket = undefined;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  private answer(msg: Buffer): Buffer | undefined {
    if (msg.length < 12) return undefined;
    // Question: labels, then qtype and qclass.
    let off = 12;
    const labels: string[] = [];
    while (off < msg.length && msg[off] !== 0) {
      const len = msg[off]!;
      labels.push(msg.subarray(off + 1, off + 1 + len).toString('ascii'));
      off += len + 1;
    }
    off += 1;
    const qtype = msg.readUInt16BE(off);
    const question = msg.subarray(12, off + 4);
    const name = labels.join('.').toLowerCase();
    const addrs = this.records[name];
    const answers = addrs && qtype === 1 ? addrs : [];
    const header = Buffer.alloc(12);
    header.writeUInt16BE(msg.readUInt16BE(0), 0); // id
    header.writeUInt16BE(addrs ? 0x8180 : 0x8183, 2); // response, RD, RA; NOERROR or NXDOMAIN
    header.writeUInt16BE(1, 4); // qdcount
    header.writeUInt16BE(answers.length, 6); // ancount
    const records = answers.map((ip) => {
      const rr = Buffer.alloc(16);
      rr.writeUInt16BE(0xc00c, 0); // pointer to the question name
      rr.writeUInt16BE(1, 2); // type A
      rr.writeUInt16BE(1, 4); // class IN
      rr.writeUInt32BE(30, 6); // TTL
      rr.writeUInt16BE(4, 10);
      ip.split('.').forEach((o, i) => rr.writeUInt8(Number(o), 12 + i));
      return rr;
    });
    return Buffer.concat([header, question, ...records]);
  }
}
