// PKI tasks: the node makes its own key and sends a CSR; the plane signs and sends the certificates.
import { z } from 'zod';
import { none, pem } from './fields.ts';

export const pkiTasks = {
  'pki.csr': {
    params: none,
    result: z.object({
      csrPem: pem('CERTIFICATE REQUEST'),
      keyCreated: z.boolean(),
      /** The node already holds all four certificates... */
      certsPresent: z.boolean(),
      /** ...issued by this CA: the plane skips re-issuing when it is its own. */
      caPem: z.string().nullable(),
    }),
  },
  'pki.install': {
    params: z.strictObject({ caPem: pem('CERTIFICATE'), serverPem: pem('CERTIFICATE'), peerPem: pem('CERTIFICATE'), clientPem: pem('CERTIFICATE') }),
    result: z.object({ changed: z.number().int().nonnegative() }),
  },
};
